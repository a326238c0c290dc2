"""The consultant portal's settings, read once when the app starts.

Each is a whole number from a ``STAPPEN_CONSULTANT_*`` environment variable
or ``create_app(config)``; the defaults are in :data:`DEFAULTS`.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from flask import Flask

from stappen.apiconfig import whole_number

EXTENSION_KEY = "stappen.consultant"

DEFAULTS = {
    "CONSULTANT_MAX_FAILED_LOGINS": 5,
    "CONSULTANT_LOCKOUT_MINUTES": 15,
    "CONSULTANT_LOGIN_ATTEMPTS": 10,
    "CONSULTANT_LOGIN_WINDOW_MINUTES": 15,
    "CONSULTANT_IDLE_MINUTES": 30,
    "CONSULTANT_SESSION_HOURS": 8,
}


@dataclasses.dataclass(frozen=True)
class Settings:
    """The login rules of the portal."""

    max_failed_logins: int
    """Failed logins in a row that lock an account."""
    lockout: timedelta
    login_attempts: int
    """Login attempts that one client address may make per ``login_window``."""
    login_window: timedelta
    idle_timeout: timedelta
    """A session ends when no request came for this long."""
    session_lifetime: timedelta
    """A session ends this long after the login, however active."""


def read_settings(app: Flask) -> Settings:
    """Read the settings from ``app.config``; raise ApiConfigError when invalid."""
    for name, value in DEFAULTS.items():
        app.config.setdefault(name, value)
    return Settings(
        max_failed_logins=_positive(app, "CONSULTANT_MAX_FAILED_LOGINS"),
        lockout=timedelta(minutes=_positive(app, "CONSULTANT_LOCKOUT_MINUTES")),
        login_attempts=_positive(app, "CONSULTANT_LOGIN_ATTEMPTS"),
        login_window=timedelta(
            minutes=_positive(app, "CONSULTANT_LOGIN_WINDOW_MINUTES")
        ),
        idle_timeout=timedelta(minutes=_positive(app, "CONSULTANT_IDLE_MINUTES")),
        session_lifetime=timedelta(hours=_positive(app, "CONSULTANT_SESSION_HOURS")),
    )


def settings(app: Flask) -> Settings:
    """Return the settings that :func:`stappen.consultant.init_app` read."""
    return app.extensions[EXTENSION_KEY]


def _positive(app: Flask, name: str) -> int:
    return whole_number(app, name, minimum=1)
