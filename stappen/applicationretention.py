"""How long applications keep their evidence: ``flask --app app applications``.

An application's record contains the citizen's presented data. Once an
application is decided and the time for objections and review has passed,
``erase-records`` replaces the record by NULL. The application's reference,
status, amount and decision stay, and so does the audit trail, which never
contained the data.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from stappen import apiconfig, audit, storage

log = logging.getLogger(__name__)

applications_command = AppGroup(
    "applications", help="Manage stored applications and their evidence."
)


def init_app(app: Flask) -> None:
    """Add the ``flask applications`` commands."""
    app.cli.add_command(applications_command)


@applications_command.command("erase-records")
@click.option(
    "--days",
    type=click.IntRange(min=0),
    default=None,
    help="Erase the evidence of applications decided more than this many days "
    "ago [default: STAPPEN_APPLICATION_RECORD_DAYS].",
)
def erase_records_command(days: int | None) -> None:
    """Erase the presented data of decided applications; open ones keep theirs."""
    app = current_app._get_current_object()
    if days is None:
        days = _record_days(app)
    now = apiconfig.now(app)

    with storage.request_store().connection() as db, db.transaction():
        erased = db.erase_application_records(now - timedelta(days=days), now=now)
        if erased:
            audit.record(
                db,
                "application_records.erased",
                subject=None,
                actor="system",
                data={"applications": erased, "older_than_days": days},
            )
    log.info("Erased the records of %d applications", len(erased))
    click.echo(
        f"Erased the evidence of {len(erased)} applications decided more than "
        f"{days} days ago."
    )


def _record_days(app: Flask) -> int:
    return apiconfig.days_for_command(
        app,
        "APPLICATION_RECORD_DAYS",
        "set it to the number of days a decided application keeps the citizen's data",
    )
