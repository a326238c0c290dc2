"""The consultant portal: the Flask pages where municipal consultants work.

The portal lives under ``/consultant/`` in the API app, never in the
static site. This package contains its foundation: accounts, passwords, login
sessions, CSRF protection and security headers. Views of the portal are
added to :data:`blueprint`::

    from stappen.consultant import blueprint, current_consultant, require_role

    @blueprint.get("/applications")
    def applications():
        consultant = current_consultant()   # never None here
        ...

Every route of the blueprint needs a logged-in consultant, whether or not
it is decorated, and every POST, PUT, PATCH and DELETE needs the CSRF
token that ``{{ csrf_field() }}`` puts in a form. See
docs/consultant-portal.md.
"""

from __future__ import annotations

from flask import Blueprint, Flask

from stappen.consultant import admin_views, auth, review_views, security, views
from stappen.consultant.accounts import Consultant
from stappen.consultant.auth import current_consultant, login_required, require_role
from stappen.consultant.settings import EXTENSION_KEY, read_settings

__all__ = [
    "Consultant",
    "blueprint",
    "current_consultant",
    "init_app",
    "login_required",
    "require_role",
]

blueprint = Blueprint("consultant", __name__, url_prefix="/consultant")

# The hooks run in this order: find the session, reject anonymous requests,
# then check the CSRF token of unsafe methods.
blueprint.before_request(auth.load_session)
blueprint.before_request(auth.require_login)
blueprint.before_request(views.check_csrf)
blueprint.after_request(views.remember_language)
blueprint.context_processor(views.template_context)
blueprint.context_processor(review_views.template_context)
blueprint.context_processor(admin_views.template_context)
blueprint.add_app_template_global(security.csrf_field, "csrf_field")
views.register_views(blueprint)
review_views.register_review_views(blueprint)
admin_views.register_admin_views(blueprint)


def init_app(app: Flask) -> None:
    """Read the portal's settings, register its blueprint and ``flask users``."""
    from stappen.consultant.cli import users_command

    app.extensions[EXTENSION_KEY] = read_settings(app)
    app.register_blueprint(blueprint)
    app.after_request(security.add_security_headers)
    app.cli.add_command(users_command)
