"""The ``flask --app app audit`` commands: verify, sign and erase-personal."""

from __future__ import annotations

from datetime import timedelta

import click
from flask import current_app
from flask.cli import with_appcontext

from stappen import apiconfig, keys, storage
from stappen.audit.chain import erase_personal
from stappen.audit.checkpoints import sign_head
from stappen.audit.verify import read_snapshot, verify_trail


@click.group("audit")
def audit_command() -> None:
    """Verify, sign and erase personal data in the audit trail."""


@audit_command.command("verify")
@click.option(
    "--from",
    "from_seq",
    type=click.IntRange(min=1),
    default=1,
    help="The first event to check, by seq; the default checks them all.",
)
@with_appcontext
def verify_command(from_seq: int) -> None:
    """Check the hash chain and the checkpoints; exit 1 on any problem."""
    trusted = _audit_keys()
    with _store().connection() as db, read_snapshot(db):
        report = verify_trail(db, trusted, from_seq)

    lines = report.lines()
    for line in lines:
        click.echo(line)
    if report.erased:
        click.echo(
            f"{len(report.erased)} events have their personal data erased by "
            f"retention: seq {', '.join(str(seq) for seq in report.erased)}"
        )
    if lines:
        raise SystemExit(1)
    click.echo(
        f"Audit trail intact: {report.events} event(s) and "
        f"{report.checkpoints} checkpoint(s) from seq {from_seq}"
    )


@audit_command.command("sign")
@with_appcontext
def sign_command() -> None:
    """Sign a checkpoint for the newest event now."""
    [key] = _audit_keys()[:1]
    with _store().connection() as db:
        checkpoint = sign_head(db, key, apiconfig.now(current_app))

    if checkpoint is None:
        click.echo("The newest event is signed already, or there is none.")
    else:
        click.echo(
            f"Signed a checkpoint at seq {checkpoint['seq']} with key "
            f"{checkpoint['key_id']}"
        )


@audit_command.command("erase-personal")
@click.option(
    "--days",
    type=click.IntRange(min=0),
    default=None,
    help="Erase personal data older than this many days "
    "[default: STAPPEN_AUDIT_PERSONAL_DATA_DAYS].",
)
@with_appcontext
def erase_personal_command(days: int | None) -> None:
    """Erase the personal review data of old events; the chain stays valid."""
    if days is None:
        days = _retention_days()
    now = apiconfig.now(current_app)
    with _store().connection() as db:
        seqs = erase_personal(db, now - timedelta(days=days), now)
    click.echo(f"Erased the personal data of {len(seqs)} events older than {days} days")


def _retention_days() -> int:
    return apiconfig.days_for_command(
        current_app,
        "AUDIT_PERSONAL_DATA_DAYS",
        "set it to the number of days that reviews need personal data",
    )


def _audit_keys() -> list:
    from stappen.audit import audit_keys

    try:
        return audit_keys(current_app)
    except (apiconfig.ApiConfigError, keys.KeyFileError) as error:
        raise click.ClickException(str(error)) from error


def _store() -> storage.Store:
    return current_app.extensions[storage.EXTENSION_KEY]
