"""The verifier's Flask blueprint and the errors that its endpoints share."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, jsonify

from stappen import apiconfig

log = logging.getLogger(__name__)

blueprint = Blueprint("verifier", __name__, url_prefix="/api/v1/verifier")


@blueprint.errorhandler(apiconfig.ApiConfigError)
def _unavailable(error: apiconfig.ApiConfigError) -> tuple[Response, int]:
    log.error("Rejected a verifier request: %s", error)
    return jsonify(error="service_unavailable", message=str(error)), 503


class Rejected(Exception):
    """A response that is rejected without changing its session's state."""

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


def presenting_session(db, request_id: str) -> dict | None:
    """Return the presenting session of ``request_id``, or None."""
    session = db.get_session_by("request_id", request_id)
    if session is None or session["purpose"] != "present":
        return None
    return session


def wallet_error(description: str) -> tuple[Response, int]:
    """Return an OAuth 2.0 error for the wallet, plus the API's usual ``message``."""
    body = {
        "error": "invalid_request",
        "error_description": description,
        "message": description,
    }
    return jsonify(body), 400
