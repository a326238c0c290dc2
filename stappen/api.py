"""The Stappen API: the Flask app for what a static site cannot do."""

from __future__ import annotations

import logging

from flask import Flask, jsonify

log = logging.getLogger(__name__)


def create_app(config: dict | None = None) -> Flask:
    """Create the API app; ``config`` overrides settings, e.g. in tests."""
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(JSON_SORT_KEYS=False)
    app.config.from_prefixed_env("STAPPEN")
    if config:
        app.config.update(config)

    @app.get("/api/v1/health")
    def health():
        return jsonify(status="ok")

    return app
