"""The issuer's Token Status List and the revocation of issued credentials."""

from __future__ import annotations

import logging

import click
from flask import Flask, Response, current_app

from stappen import audit, storage
from stappen.issuer.blueprint import (
    STATUS_LIST_BITS,
    STATUS_LIST_ID,
    STATUS_LIST_MEDIA_TYPE,
    STATUS_LIST_PATH,
    STATUS_LIST_SIZE,
    STATUS_LIST_TTL,
    STATUS_LIST_VALIDITY,
    CredentialNotFound,
    IssuerError,
    blueprint,
    current_time,
    db_connection,
    public_url,
    signing_key,
)
from stappen.statuslist import INVALID, StatusList, status_list_token

log = logging.getLogger(__name__)


# The status list.


def status_list_uri(app: Flask, list_id: str = STATUS_LIST_ID) -> str:
    """Return the URI that credentials name in their status reference."""
    return public_url(app) + STATUS_LIST_PATH + list_id


@blueprint.get(STATUS_LIST_PATH + "<list_id>")
def status_list(list_id: str):
    if list_id != STATUS_LIST_ID:
        raise IssuerError(
            "not_found",
            f"status list {list_id!r} not found; this issuer has list "
            f"{STATUS_LIST_ID!r}",
            status=404,
        )

    entries = StatusList(STATUS_LIST_SIZE, bits=STATUS_LIST_BITS)
    for index, value in db_connection().status_values(list_id).items():
        if index < STATUS_LIST_SIZE:
            entries.set(index, value)
    issued_at = int(current_time().timestamp())
    token = status_list_token(
        signing_key(),
        uri=status_list_uri(current_app, list_id),
        status_list=entries,
        iat=issued_at,
        exp=issued_at + STATUS_LIST_VALIDITY,
        ttl=STATUS_LIST_TTL,
    )
    response = Response(token, mimetype=STATUS_LIST_MEDIA_TYPE)
    response.headers["Cache-Control"] = f"max-age={STATUS_LIST_TTL}"
    return response


# Revocation.


def revoke(store: storage.Store, credential_id: str) -> dict:
    """Mark an issued credential as revoked (INVALID) in its status list.

    Returns the issued credential's record. Raises CredentialNotFound for
    an unknown id.
    """
    with store.connection() as db:
        record = db.get_issued(credential_id)
        if record is None or record["status_list_id"] is None:
            raise CredentialNotFound(
                f"credential {credential_id!r} not found among the issued "
                "credentials; take the id from the issuer.credential_issued "
                "evidence of its session"
            )
        with db.transaction():
            db.set_status(record["status_list_id"], record["status_index"], INVALID)
            audit.record(
                db,
                "credential.revoked",
                subject=audit.session_subject(record["session_id"]),
                actor="operator",
                data={
                    "credential_id": credential_id,
                    "vct": record["vct"],
                    "status_list": record["status_list_id"],
                    "status_index": record["status_index"],
                },
            )
    log.info(
        "Revoked credential %s (status list %s, index %d)",
        credential_id,
        record["status_list_id"],
        record["status_index"],
    )
    return record


@blueprint.cli.command("revoke")
@click.argument("credential_id")
def revoke_command(credential_id: str) -> None:
    """Revoke the issued credential CREDENTIAL_ID in the status list."""
    store = current_app.extensions[storage.EXTENSION_KEY]
    try:
        record = revoke(store, credential_id)
    except CredentialNotFound as error:
        raise click.ClickException(str(error)) from error
    click.echo(
        f"Revoked credential {credential_id} ({record['vct']}): status list "
        f"{record['status_list_id']}, index {record['status_index']} is now INVALID"
    )
