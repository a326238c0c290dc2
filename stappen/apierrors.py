"""Error responses that several API blueprints share."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, jsonify

from stappen import apiconfig


def register_config_error(
    blueprint: Blueprint, log: logging.Logger, failure: str
) -> None:
    """Register a handler that turns an ApiConfigError in ``blueprint`` into 503.

    The response body is ``{"error": "service_unavailable", "message": ...}``
    with the error's text. ``failure`` starts the logged error line, such as
    "Checks cannot run".
    """

    @blueprint.errorhandler(apiconfig.ApiConfigError)
    def _unavailable(error: apiconfig.ApiConfigError) -> tuple[Response, int]:
        log.error("%s: %s", failure, error)
        return jsonify(error="service_unavailable", message=str(error)), 503
