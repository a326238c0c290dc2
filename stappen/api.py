"""The Stappen API: the Flask app for what a static site cannot do.

Settings come from ``STAPPEN_*`` environment variables (or the mapping
given to :func:`create_app` in tests):

- ``STAPPEN_STEPS_DIR``: the folder of flows (default ``steps``);
- ``STAPPEN_SITE_ORIGINS``: the origins of the published site, separated
  by commas (``https://org.github.io``), the only ones CORS allows;
- ``STAPPEN_PUBLIC_URL``: the URL wallets reach the API at;
- ``STAPPEN_DATABASE_URL``: a ``postgresql://`` URL; SQLite in the
  instance folder when unset.
"""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask, Response, abort, jsonify, request
from werkzeug.exceptions import HTTPException

from stappen.building import validate
from stappen.errors import InvalidFlows
from stappen.model import Flow

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024
"""Largest request body accepted; a presentation of a few credentials fits."""


def create_app(config: dict | None = None) -> Flask:
    """Create the API app; ``config`` overrides settings, e.g. in tests."""
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(
        STEPS_DIR="steps",
        SITE_ORIGINS="",
        PUBLIC_URL="http://127.0.0.1:5000",
        MAX_CONTENT_LENGTH=MAX_BODY_BYTES,
    )
    app.config.from_prefixed_env("STAPPEN")
    if config:
        app.config.update(config)

    app.extensions["stappen.flows"] = _load_flows(Path(app.config["STEPS_DIR"]))
    app.before_request(_limit_body)
    app.before_request(_reject_nul)
    app.after_request(_cors)
    app.register_error_handler(HTTPException, _json_error)
    _register_routes(app)

    # Imported here, where they are used, to keep the module's import list
    # to the app's basics.
    import stappen.consultant
    from stappen import (
        apiconfig,
        applicationretention,
        applying,
        checking,
        deciding,
        issuer,
        sessions,
        storage,
        verifier,
    )

    storage.init_app(app)
    apiconfig.init_app(app)
    applicationretention.init_app(app)
    app.cli.add_command(apiconfig.init_db_command)
    app.cli.add_command(apiconfig.keys_command)
    app.register_blueprint(sessions.blueprint)
    app.register_blueprint(verifier.blueprint)
    app.register_blueprint(issuer.blueprint)
    app.register_blueprint(checking.blueprint)
    app.register_blueprint(applying.blueprint)
    app.register_blueprint(deciding.blueprint)
    stappen.consultant.init_app(app)
    return app


def _load_flows(steps_dir: Path) -> dict[str, Flow]:
    try:
        flows, _ = validate(steps_dir)
    except InvalidFlows as error:
        for problem in error.problems:
            log.error("%s", problem)
        raise
    log.info("Loaded %d flows from %s", len(flows), steps_dir)
    return {flow.id: flow for flow in flows}


def site_origins(app: Flask) -> set[str]:
    value = app.config["SITE_ORIGINS"]
    items = value if isinstance(value, (list, tuple, set)) else value.split(",")
    return {origin.strip().rstrip("/") for origin in items if origin.strip()}


def _cors(response: Response) -> Response:
    """Allow the configured site origins, and only those, to call the API."""
    from flask import current_app

    origin = request.headers.get("Origin")
    if origin and origin in site_origins(current_app):
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Methods"] = "GET, POST, DELETE"
        response.headers["Access-Control-Allow-Headers"] = "Authorization, Content-Type"
        response.headers["Access-Control-Max-Age"] = "600"
        response.vary.add("Origin")
    return response


def _limit_body() -> None:
    """Reject a body over the limit before any route reads it."""
    from flask import current_app

    length = request.content_length
    if length is not None and length > current_app.config["MAX_CONTENT_LENGTH"]:
        log.warning("Rejected a %d-byte body to %r", length, request.path)
        abort(
            413,
            description=f"the body has {length} bytes, more than the limit "
            f"of {current_app.config['MAX_CONTENT_LENGTH']}",
        )


def _reject_nul() -> None:
    """Reject a NUL in the path, the query or a form field with 400.

    PostgreSQL rejects text with NUL in a query, so any lookup by such a
    value would fail with a 500.
    """
    # Reading the form reads the body stream; keeping the body first leaves
    # it for the views that store the raw request as evidence.
    request.get_data(cache=True)
    values = [
        request.path,
        *(value for _, value in request.args.items(multi=True)),
        *(value for _, value in request.form.items(multi=True)),
    ]
    if any("\x00" in value for value in values):
        log.warning("Rejected a request to %r with a NUL character", request.path)
        abort(400, description="the request contains a NUL character (%00); remove it")


def _json_error(error: HTTPException) -> Response:
    """Return every HTTP error as JSON, with the reason in plain words."""
    response = jsonify(
        error=error.name.lower().replace(" ", "_"), message=error.description
    )
    response.status_code = error.code or 500
    for name, value in error.get_headers() or []:
        if name.lower() == "retry-after":
            response.headers[name] = value
    return response


def _register_routes(app: Flask) -> None:
    @app.get("/api/v1/health")
    def health():
        return jsonify(status="ok")

    @app.get("/api/v1/flows/<flow_id>")
    def describe_flow(flow_id: str):
        flow = app.extensions["stappen.flows"].get(flow_id)
        if flow is None:
            abort(404, description=f"flow {flow_id!r} not found")
        return jsonify(_flow_description(flow))


def _flow_description(flow: Flow) -> dict:
    """Describe a flow's steps for clients that look for wallet steps."""
    return {
        "id": flow.id,
        "title": flow.title,
        "languages": list(flow.languages),
        "start": flow.start,
        "steps": [
            {
                "id": step.id,
                "kind": step.kind,
                "title": step.title,
                "next": [route.goto for route in step.routes],
            }
            for step in flow.steps.values()
        ],
    }
