"""The administrator's pages: the state of the audit trail and the accounts.

Every view needs the role ``administrator``; a consultant gets the portal's
403 page. An administrator can list and change only the accounts of their own
municipality: any other account id is answered with 404, as if it did not
exist. The account actions call the functions of the ``flask users``
commands, so both record the same audit events, with the administrator's
account id as the actor.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import current_app, redirect, render_template, request, url_for
from werkzeug.exceptions import NotFound

from stappen import apiconfig, audit, keys, storage
from stappen.audit.chain import execute, read_head
from stappen.consultant import accounts, cli
from stappen.consultant.accounts import Account
from stappen.consultant.admin_texts import admin_texts_for
from stappen.consultant.auth import current_consultant, require_role
from stappen.storage.base import ConnectionBase, from_millis

log = logging.getLogger(__name__)

ADMINISTRATOR = "administrator"
AUDIT_NOTICES = ("signed", "sign_no_key", "sign_no_head")
ACTION_NOTICES = {"unlock": "unlocked", "disable": "disabled", "enable": "enabled"}
"""The notice that the accounts page shows after each action, by action."""


def register_admin_views(blueprint) -> None:
    """Add the administrator's pages to the consultant blueprint."""
    blueprint.add_url_rule("/admin/audit", "admin_audit", audit_page)
    blueprint.add_url_rule(
        "/admin/audit/checkpoint",
        "admin_sign",
        sign_checkpoint,
        methods=["POST"],
    )
    blueprint.add_url_rule("/admin/accounts", "admin_accounts", accounts_page)
    for action in ACTION_NOTICES:
        blueprint.add_url_rule(
            f"/admin/accounts/<account_id>/{action}",
            f"admin_{action}",
            account_action,
            methods=["POST"],
            defaults={"action": action},
        )


def template_context() -> dict:
    """Give every portal template the administrator's texts, as ``admin``.

    The header needs them for its links, which only administrators see.
    """
    consultant = current_consultant()
    lang = consultant.lang if consultant is not None else "nl"
    return {"admin": admin_texts_for(lang), "is_administrator": _is_administrator()}


def _is_administrator() -> bool:
    consultant = current_consultant()
    return consultant is not None and consultant.role == ADMINISTRATOR


# The audit trail.


@require_role(ADMINISTRATOR)
def audit_page() -> str:
    """Verify the whole audit trail, show its state and record the view."""
    app = current_app._get_current_object()
    db = storage.request_connection()
    trusted, key_error = _audit_keys(app)
    if key_error is not None:
        log.warning("Verifying the audit trail without a trusted key: %s", key_error)
    with audit.read_snapshot(db):
        report = audit.verify_trail(db, trusted)
        newest_event = _newest(db, "audit_events")
        newest_checkpoint = _newest(db, "audit_checkpoints")

    problems = report.lines()
    _record_view(db, report.events, len(problems))
    notice = request.args.get("notice")
    signed_seq = request.args.get("seq", type=int)
    if notice not in AUDIT_NOTICES or (notice == "signed" and signed_seq is None):
        notice = None
    return render_template(
        "consultant/admin/audit.html",
        report=report,
        problems=problems,
        newest_event=newest_event,
        newest_checkpoint=newest_checkpoint,
        key_missing=key_error is not None,
        generate_command=apiconfig.GENERATE_COMMAND,
        notice=notice,
        signed_seq=signed_seq,
    )


@require_role(ADMINISTRATOR)
def sign_checkpoint():
    """Record ``audit.checkpoint_signed`` and sign a checkpoint that covers it."""
    app = current_app._get_current_object()
    db = storage.request_connection()
    trusted, key_error = _audit_keys(app)
    if key_error is not None:
        log.error("Cannot sign an audit checkpoint: %s", key_error)
        return _redirect_to_audit("sign_no_key")
    if read_head(db) is None:
        log.error("Cannot sign an audit checkpoint: the audit_head row is missing")
        return _redirect_to_audit("sign_no_head")

    administrator = current_consultant().id
    with db.transaction():
        event = audit.record(db, "audit.checkpoint_signed", actor=administrator)
        # None when the append already signed a checkpoint for this event,
        # because the checkpoint policy found one due.
        audit.sign_head(db, trusted[0], apiconfig.now(app))
    log.info(
        "Administrator %s signed an audit checkpoint at event %d",
        administrator,
        event.seq,
    )
    return _redirect_to_audit("signed", seq=event.seq)


def _audit_keys(app) -> tuple[list, str | None]:
    """Return the trusted audit keys, or no keys and the reason they are missing."""
    try:
        return audit.audit_keys(app), None
    except (apiconfig.ApiConfigError, keys.KeyFileError) as error:
        return [], str(error)


def _newest(db: ConnectionBase, table: str) -> dict[str, Any] | None:
    """Return the seq and time of the newest row of an audit table, or None."""
    row = execute(
        db, f"SELECT seq, created_at FROM {table} ORDER BY seq DESC LIMIT 1"
    ).fetchone()
    if row is None:
        return None
    return {"seq": row["seq"], "time": from_millis(row["created_at"])}


def _record_view(db: ConnectionBase, events: int, problems: int) -> None:
    """Record ``audit.viewed``, unless the chain head is gone and no event can be.

    The page still shows the trail then, because it exists to show such damage.
    """
    administrator = current_consultant().id
    if read_head(db) is None:
        log.error(
            "Administrator %s viewed the audit trail, but the view is not "
            "recorded: the audit_head row is missing",
            administrator,
        )
        return
    audit.record(
        db,
        "audit.viewed",
        actor=administrator,
        data={"events": events, "problems": problems},
    )


def _redirect_to_audit(notice: str, **values):
    target = url_for("consultant.admin_audit", notice=notice, **values)
    return redirect(target + "#notice", code=303)


# The accounts.


@require_role(ADMINISTRATOR)
def accounts_page(error: str | None = None, status: int = 200):
    """List the accounts of the administrator's municipality with their actions."""
    db = storage.request_connection()
    own = _municipality_accounts(db)
    notice = request.args.get("notice")
    notice_account = next(
        (
            account
            for account in own
            if account.consultant.id == request.args.get("account")
        ),
        None,
    )
    page = render_template(
        "consultant/admin/accounts.html",
        accounts=own,
        last_logins=_last_logins(db, [account.consultant.id for account in own]),
        now=apiconfig.now(current_app._get_current_object()),
        notice=notice if notice in ACTION_NOTICES.values() and notice_account else None,
        notice_account=notice_account,
        ended=max(0, request.args.get("ended", default=0, type=int)),
        error=error,
    )
    return page, status


@require_role(ADMINISTRATOR)
def account_action(account_id: str, action: str):
    """Unlock, disable or enable an account of the administrator's municipality."""
    db = storage.request_connection()
    account = _own_account(db, account_id)
    administrator = current_consultant().id
    values = {}
    if action == "unlock":
        cli.unlock_account(db, account_id, administrator)
    elif action == "enable":
        cli.enable_account(db, account_id, administrator)
    elif account_id == administrator:
        log.warning("Administrator %s tried to disable their own account", account_id)
        return accounts_page(error="disable_self", status=400)
    else:
        values["ended"] = cli.disable_account(db, account_id, administrator)

    log.info(
        "Administrator %s: %s account %s",
        administrator,
        action,
        account.consultant.username,
    )
    target = url_for(
        "consultant.admin_accounts",
        notice=ACTION_NOTICES[action],
        account=account_id,
        **values,
    )
    return redirect(target + "#notice", code=303)


def _municipality_accounts(db: ConnectionBase) -> list[Account]:
    municipality = current_consultant().municipality
    return [
        account
        for account in accounts.list_accounts(db)
        if account.consultant.municipality == municipality
    ]


def _own_account(db: ConnectionBase, account_id: str) -> Account:
    """Return the account if it belongs to the administrator's municipality."""
    account = accounts.find_by_id(db, account_id)
    if account is None:
        raise NotFound()
    if account.consultant.municipality != current_consultant().municipality:
        log.warning(
            "Administrator %s requested account %s of another municipality",
            current_consultant().id,
            account_id,
        )
        raise NotFound()
    return account


def _last_logins(db: ConnectionBase, account_ids: list[str]) -> dict[str, Any]:
    """Return the time of each account's newest ``consultant.login`` event.

    The accounts table stores no login time, but the audit trail records
    every login with the account id as the subject, which is indexed.
    """
    if not account_ids:
        return {}
    names = [f"id{index}" for index in range(len(account_ids))]
    rows = execute(
        db,
        "SELECT subject, MAX(created_at) AS last_login FROM audit_events "
        "WHERE kind = 'consultant.login' AND subject IN "
        f"({', '.join(':' + name for name in names)}) GROUP BY subject",
        dict(zip(names, account_ids, strict=True)),
    ).fetchall()
    return {row["subject"]: from_millis(row["last_login"]) for row in rows}
