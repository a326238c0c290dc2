"""Consultant accounts and logins for tests of the consultant portal.

With an app from ``tests.apiharness.make_api`` (or any ``create_app``)::

    add_consultant(app, "anna", "utrecht")
    client = app.test_client()
    csrf = login(client, "anna")
    client.post("/consultant/...", data={"csrf_token": csrf, ...})

Werkzeug 3.1's test client keeps and sends cookies marked Secure over
plain http too, so no ``base_url="https://..."`` is needed.
"""

from __future__ import annotations

import re

from flask import Flask

from stappen import apiconfig, storage
from stappen.consultant import accounts, passwords
from stappen.consultant.accounts import Consultant

PASSWORD = "correct horse battery staple"
"""The default password of the accounts that :func:`add_consultant` creates."""

_CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def add_consultant(
    app: Flask,
    username: str,
    municipality: str,
    role: str = "consultant",
    password: str = PASSWORD,
    *,
    name: str = "",
    lang: str = "nl",
) -> Consultant:
    """Create an account directly in the app's store and return it."""
    with app.app_context(), storage.request_store().connection() as db:
        return accounts.add_account(
            db,
            username=username,
            name=name,
            role=role,
            municipality=municipality,
            lang=lang,
            password_hash=passwords.hash_password(password),
            now=apiconfig.now(app),
        )


def login(client, username: str, password: str = PASSWORD) -> str:
    """Log ``client`` in through the login form and return its session's CSRF token.

    Fails the test when the login does not succeed.
    """
    form = client.get("/consultant/login")
    assert form.status_code == 200, form.status_code
    response = client.post(
        "/consultant/login",
        data={
            "username": username,
            "password": password,
            "csrf_token": csrf_token_of(form),
        },
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    page = client.get("/consultant/")
    assert page.status_code == 200, page.status_code
    return csrf_token_of(page)


def csrf_token_of(response) -> str:
    """Return the CSRF token of the first form on a page."""
    match = _CSRF_FIELD.search(response.get_data(as_text=True))
    assert match is not None, "the page has no csrf_token field"
    return match.group(1)
