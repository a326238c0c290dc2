"""The ``flask --app app users`` commands: add, list, disable, enable, unlock,
set-password.

Every mistake exits with code 1 and one line that names the value and the
fix. Each change is recorded in the audit trail with the actor ``cli``.
The administrator's pages (stappen.consultant.admin_views) call
:func:`disable_account`, :func:`enable_account` and :func:`unlock_account`
too, with the administrator's account id as the actor.
"""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from stappen import apiconfig, audit, storage
from stappen.consultant import accounts, passwords, sessionstore
from stappen.consultant.accounts import Account, AccountError
from stappen.storage.base import ConnectionBase

CLI_ACTOR = "cli"
PASSWORD_STDIN_HELP = (
    "Read the password from the first line of standard input instead of a "
    "prompt, for scripts."
)


@click.group("users")
def users_command() -> None:
    """Manage the consultant portal's accounts."""


@users_command.command("add")
@click.argument("username")
@click.option("--role", default="consultant", help="consultant or administrator.")
@click.option(
    "--municipality", required=True, help="The municipality's id, such as utrecht."
)
@click.option(
    "--name", default="", help="The name the portal shows [default: USERNAME]."
)
@click.option("--lang", default="nl", help="The portal's language: nl or en.")
@click.option("--password-stdin", is_flag=True, help=PASSWORD_STDIN_HELP)
@with_appcontext
def add_command(
    username: str,
    role: str,
    municipality: str,
    name: str,
    lang: str,
    password_stdin: bool,
) -> None:
    """Create an account; the password comes from a prompt or standard input."""
    username = accounts.normalize_username(username)
    _check(accounts.check_fields, username, role, municipality, lang)
    _check(accounts.check_name, name)
    password_hash = _check(passwords.hash_password, _read_password(password_stdin))
    now = apiconfig.now(current_app)
    with _connection() as db, db.transaction():
        consultant = _check(
            accounts.add_account,
            db,
            username=username,
            name=name,
            role=role,
            municipality=municipality,
            lang=lang,
            password_hash=password_hash,
            now=now,
        )
        audit.record(
            db,
            "consultant.account_created",
            subject=consultant.id,
            actor=CLI_ACTOR,
            data={"role": role, "municipality": municipality},
        )
    click.echo(f"Added {role} {username!r} of {municipality} (id {consultant.id})")


@users_command.command("list")
@with_appcontext
def list_command() -> None:
    """List the accounts: username, name, role, municipality, language, status."""
    now = apiconfig.now(current_app)
    with _connection() as db:
        found = accounts.list_accounts(db)
    if not found:
        click.echo("No accounts yet; add one with `flask --app app users add`.")
        return
    rows = [("USERNAME", "NAME", "ROLE", "MUNICIPALITY", "LANG", "STATUS")]
    for account in found:
        consultant = account.consultant
        rows.append(
            (
                consultant.username,
                consultant.name,
                consultant.role,
                consultant.municipality,
                consultant.lang,
                _status(account, now),
            )
        )
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    for row in rows:
        cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        click.echo("  ".join(cells).rstrip())


@users_command.command("disable")
@click.argument("username")
@with_appcontext
def disable_command(username: str) -> None:
    """Disable an account and end its sessions; its data stays."""
    with _connection() as db:
        account = _find(db, username)
        ended = disable_account(db, account.consultant.id, CLI_ACTOR)
    click.echo(f"Disabled {account.consultant.username!r}; ended {ended} session(s)")


@users_command.command("enable")
@click.argument("username")
@with_appcontext
def enable_command(username: str) -> None:
    """Enable a disabled account again."""
    with _connection() as db:
        account = _find(db, username)
        enable_account(db, account.consultant.id, CLI_ACTOR)
    click.echo(f"Enabled {account.consultant.username!r}")


@users_command.command("unlock")
@click.argument("username")
@with_appcontext
def unlock_command(username: str) -> None:
    """Lift a lock after failed logins and reset the failure count."""
    with _connection() as db:
        account = _find(db, username)
        unlock_account(db, account.consultant.id, CLI_ACTOR)
    click.echo(f"Unlocked {account.consultant.username!r}")


@users_command.command("set-password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help=PASSWORD_STDIN_HELP)
@with_appcontext
def set_password_command(username: str, password_stdin: bool) -> None:
    """Set a new password and end the account's sessions."""
    with _connection() as db:
        account = _find(db, username)
    password_hash = _check(passwords.hash_password, _read_password(password_stdin))
    with _connection() as db, db.transaction():
        accounts.set_password_hash(db, account.consultant.id, password_hash)
        ended = sessionstore.delete_account_sessions(db, account.consultant.id)
        _record(db, "consultant.password_set", account)
    click.echo(
        f"Set the password of {account.consultant.username!r}; ended {ended} session(s)"
    )


def disable_account(db: ConnectionBase, account_id: str, actor: str) -> int:
    """Disable an account, end its sessions and record ``consultant.disabled``.

    Returns the number of sessions ended. ``actor`` is ``cli`` or the id of
    the administrator's account.
    """
    with db.transaction():
        accounts.set_disabled(db, account_id, True)
        ended = sessionstore.delete_account_sessions(db, account_id)
        audit.record(db, "consultant.disabled", subject=account_id, actor=actor)
    return ended


def enable_account(db: ConnectionBase, account_id: str, actor: str) -> None:
    """Enable an account again and record ``consultant.enabled``."""
    with db.transaction():
        accounts.set_disabled(db, account_id, False)
        audit.record(db, "consultant.enabled", subject=account_id, actor=actor)


def unlock_account(db: ConnectionBase, account_id: str, actor: str) -> None:
    """Lift a lock, reset the failure count and record ``consultant.unlocked``."""
    with db.transaction():
        accounts.reset_failed_logins(db, account_id)
        audit.record(db, "consultant.unlocked", subject=account_id, actor=actor)


def _read_password(from_stdin: bool) -> str:
    # Undecodable input raises UnicodeDecodeError, or becomes lone surrogates
    # where standard input uses surrogateescape, as in Python's UTF-8 mode.
    try:
        if from_stdin:
            text = sys.stdin.readline()
        else:
            text = click.prompt("Password", hide_input=True, confirmation_prompt=True)
        text.encode("utf-8")
    except UnicodeError as error:
        raise click.ClickException(
            "the password is not valid UTF-8; type it in a UTF-8 terminal, or "
            "pipe it in as UTF-8"
        ) from error
    if not text:
        raise click.ClickException(
            "--password-stdin read nothing; pipe the password in, such as "
            "`printf '%s\\n' \"$PASSWORD\" | flask --app app users add ...`"
        )
    return text.removesuffix("\n").removesuffix("\r")


def _check(function, *args, **kwargs):
    """Call ``function``, turning an account or password mistake into exit code 1."""
    try:
        return function(*args, **kwargs)
    except (AccountError, passwords.PasswordRejected) as error:
        raise click.ClickException(str(error)) from error


def _find(db: ConnectionBase, username: str) -> Account:
    account = accounts.find_by_username(db, username)
    if account is None:
        raise click.ClickException(
            f"no account has username {username!r}; list them with "
            "`flask --app app users list`"
        )
    return account


def _record(db: ConnectionBase, kind: str, account: Account) -> None:
    audit.record(db, kind, subject=account.consultant.id, actor=CLI_ACTOR)


def _status(account: Account, now) -> str:
    if account.disabled:
        return "disabled"
    if account.locked_at(now):
        return f"locked until {account.locked_until:%Y-%m-%d %H:%M} UTC"
    return "active"


def _connection():
    return storage.request_store().connection()
