"""The review pages: the applications list, an application's review, the
decision form and the evidence export.

A consultant sees only the applications of their own municipality: any
other application is answered with 404, as if it did not exist.
"""

from __future__ import annotations

import json
import logging
import math
import re
from datetime import datetime
from decimal import Decimal, InvalidOperation

from flask import Response, current_app, redirect, render_template, request, url_for
from werkzeug.exceptions import NotFound

from stappen import apiconfig, keys, storage
from stappen.consultant import accounts
from stappen.consultant.auth import current_consultant
from stappen.consultant.review_texts import review_texts_for
from stappen.review import decide, evidence, recompute, reverify
from stappen.review.ruletable import tables_for
from stappen.rules import DmnError
from stappen.storage.applications import APPLICATION_STATUSES, DECISION_OUTCOMES

log = logging.getLogger(__name__)

PAGE_SIZE = 20
"""Applications per page of the list."""
MAX_PAGE = 100_000

APPLICATION_ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")
"""An application id as ``uuid4().hex`` makes it. Other text is not looked up."""

AMOUNT_PATTERN = re.compile(r"\d{1,9}([.,]\d{1,2})?")
"""A decision's amount in euros: whole euros, or with one or two decimals."""


def register_review_views(blueprint) -> None:
    """Add the review pages to the consultant blueprint; the list is its index."""
    blueprint.add_url_rule("/", "index", applications)
    blueprint.add_url_rule("/applications", "applications", applications)
    blueprint.add_url_rule(
        "/applications/<application_id>", "application", application_page
    )
    blueprint.add_url_rule(
        "/applications/<application_id>/decision",
        "decide",
        decide_application,
        methods=["POST"],
    )
    blueprint.add_url_rule(
        "/applications/<application_id>/evidence.json", "evidence", export
    )


def template_context() -> dict:
    """Give the review templates their texts, as ``review``."""
    consultant = current_consultant()
    lang = consultant.lang if consultant is not None else "nl"
    return {"review": review_texts_for(lang), "format_time": format_time}


def format_time(moment: datetime | str | None) -> str:
    """Format a moment as ``2026-09-01 12:00 UTC``."""
    if moment is None:
        return ""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


# The list.


def applications() -> str:
    """List the municipality's applications, filtered by status and scheme."""
    municipality = current_consultant().municipality
    db = storage.request_connection()
    schemes = db.schemes(municipality)
    status = request.args.get("status") or None
    scheme = request.args.get("scheme") or None
    status = status if status in APPLICATION_STATUSES else None
    scheme = scheme if scheme in schemes else None
    page_number = _page_number(request.args.get("page"))

    page = db.list_applications(
        municipality,
        status=status,
        scheme=scheme,
        limit=PAGE_SIZE,
        offset=(page_number - 1) * PAGE_SIZE,
    )
    pages = max(1, math.ceil(page.total / PAGE_SIZE))
    return render_template(
        "consultant/applications.html",
        page=page,
        page_number=page_number,
        pages=pages,
        first=(page_number - 1) * PAGE_SIZE + 1,
        status=status,
        scheme=scheme,
        schemes=schemes,
        statuses=APPLICATION_STATUSES,
    )


def _page_number(value: str | None) -> int:
    # int() rejects some digits that isdigit accepts, such as "²", and
    # numbers of over 4300 digits, so neither reaches it.
    if value is None or not value.isdecimal():
        return 1
    if len(value) > len(str(MAX_PAGE)):
        return MAX_PAGE
    return max(1, min(int(value), MAX_PAGE))


# One application.


def _own_application(db, application_id: str) -> dict:
    """Return the application if it belongs to the consultant's municipality."""
    if not APPLICATION_ID_PATTERN.fullmatch(application_id):
        raise NotFound()
    application = db.application(application_id)
    if application is None:
        raise NotFound()
    if application["municipality"] != current_consultant().municipality:
        log.warning(
            "Consultant %s requested application %s of another municipality",
            current_consultant().id,
            application_id,
        )
        raise NotFound()
    return application


def application_page(application_id: str) -> str:
    """Show an application's review and record that the consultant viewed it."""
    db = storage.request_connection()
    application = _own_application(db, application_id)
    with db.transaction():
        decide.note_viewed(db, application_id, current_consultant().id, app_now())
    return _render_detail(db, application)


def _render_detail(db, application: dict, form=None, errors=None, status=200):
    review = _review(db, application) if application["record"] else None
    decision = application["decision"]
    decider = None
    if decision is not None:
        account = accounts.find_by_id(db, decision["consultant"])
        decider = (
            account.consultant.name if account is not None else decision["consultant"]
        )
    if form is None:
        recomputed = (review or {}).get("recomputation")
        amount = (
            recomputed.recomputed["amount"]
            if recomputed and recomputed.recomputed
            else None
        )
        form = {"outcome": "", "motivation": "", "amount": amount or ""}
    page = render_template(
        "consultant/application.html",
        application=application,
        review_data=review,
        decider=decider,
        form=form,
        errors=errors or {},
        notice=request.args.get("notice"),
        max_motivation=decide.MAX_MOTIVATION_LENGTH,
    )
    return page, status


def _review(db, application: dict) -> dict:
    """Re-verify, recompute and lay out the rule tables of an application."""
    record = application["record"]
    presentation = record["presentation"]
    presented = reverify.as_presented(presentation)
    now, now_problem = _reverify_now(presentation)
    recomputation = recompute.recompute_from_db(db, record)
    tables = []
    if recomputation.recomputed is not None:
        try:
            tables = tables_for(
                recomputation.rules,
                recomputation.rules_name,
                recomputation.recomputed["trace"],
            )
        except DmnError as error:
            log.error(
                "Application %s: rule table unreadable: %s", application["id"], error
            )
    checks_passed = presented.passed and now is not None and now.passed
    return {
        "presented": presented,
        "now": now,
        "now_problem": now_problem,
        "rows": reverify.side_by_side(presented, now or _empty_now(presented)),
        "recomputation": recomputation,
        "tables": tables,
        "all_passed": checks_passed and recomputation.matches,
    }


def _reverify_now(presentation: dict):
    app = current_app._get_current_object()
    try:
        return reverify.as_of_now(app, presentation), None
    except (apiconfig.ApiConfigError, keys.KeyFileError) as error:
        log.error("Cannot verify a presentation as of now: %s", error)
        return None, str(error)


def _empty_now(presented: reverify.Reverification) -> reverify.Reverification:
    return reverify.Reverification(reverify.NOW, presented.at, [])


def app_now() -> datetime:
    return apiconfig.now(current_app._get_current_object())


# The decision.


def decide_application(application_id: str):
    """Store a decision from the form, then show the application again (PRG)."""
    db = storage.request_connection()
    application = _own_application(db, application_id)
    form = {
        "outcome": request.form.get("outcome", ""),
        "motivation": request.form.get("motivation", "").strip(),
        "amount": request.form.get("amount", "").strip(),
    }
    errors = _form_errors(form)
    if errors:
        return _render_detail(db, application, form, errors, status=400)

    amount = _amount(form["amount"]) if form["outcome"] == "granted" else None
    decided = decide.decide(
        db,
        application_id,
        outcome=form["outcome"],
        motivation=form["motivation"],
        amount=amount,
        consultant_id=current_consultant().id,
        now=app_now(),
    )
    notice = "decided" if decided else "already_decided"
    target = url_for(
        "consultant.application", application_id=application_id, notice=notice
    )
    return redirect(target + "#notice", code=303)


def _form_errors(form: dict) -> dict[str, str]:
    """Return the key of each field's error message, by field."""
    errors = {}
    if form["outcome"] not in DECISION_OUTCOMES:
        errors["outcome"] = "error_outcome"
    if not form["motivation"]:
        errors["motivation"] = "error_motivation"
    elif len(form["motivation"]) > decide.MAX_MOTIVATION_LENGTH:
        errors["motivation"] = "error_motivation_long"
    if form["outcome"] == "granted" and _amount(form["amount"]) is None:
        errors["amount"] = "error_amount"
    return errors


def _amount(text: str) -> str | None:
    """Return an amount as exact decimal text ("264", "264.5"), or None if invalid."""
    if not AMOUNT_PATTERN.fullmatch(text):
        return None
    try:
        value = Decimal(text.replace(",", "."))
    except InvalidOperation:
        return None
    return str(int(value)) if value == value.to_integral() else str(value)


# The export.


def export(application_id: str) -> Response:
    """Send the evidence document as a download and record the export."""
    db = storage.request_connection()
    application = _own_application(db, application_id)
    app = current_app._get_current_object()
    with db.transaction():
        decide.note_exported(db, application_id, current_consultant().id, app_now())
    document = evidence.export_evidence(app, db, application_id)
    body = json.dumps(document, indent=2, ensure_ascii=False, sort_keys=True)
    filename = f"{application['reference']}-evidence.json"
    response = Response(body, mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
