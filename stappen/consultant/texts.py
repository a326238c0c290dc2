"""The portal's interface text, by language: Dutch first, English second.

Templates read them as ``texts.key``. Both languages have the same keys,
which tests/test_consultant_auth.py checks.
"""

from __future__ import annotations

DEFAULT_LANGUAGE = "nl"

TEXTS: dict[str, dict[str, str]] = {
    "nl": {
        "portal_name": "Stappen consultantportaal",
        "skip_link": "Naar de inhoud",
        "logged_in_as": "Ingelogd als",
        "municipality": "Gemeente",
        "logout": "Uitloggen",
        "language": "Taal",
        "language_other": "English",
        "login_title": "Inloggen",
        "login_intro": "Log in met de gebruikersnaam en het wachtwoord van uw "
        "account als consulent.",
        "username": "Gebruikersnaam",
        "password": "Wachtwoord",
        "login_button": "Inloggen",
        "error_summary": "Er is een probleem",
        "error_prefix": "Fout",
        "login_failed": "De gebruikersnaam of het wachtwoord is onjuist. Controleer "
        "ze en probeer het opnieuw.",
        "login_missing": "Vul uw gebruikersnaam en uw wachtwoord in.",
        "account_locked": "Dit account is tijdelijk geblokkeerd na te veel "
        "mislukte pogingen. Probeer het na {minutes} minuten opnieuw, of vraag "
        "een beheerder het account te deblokkeren.",
        "form_expired": "Het formulier is verlopen. Probeer het opnieuw.",
        "logged_out": "U bent uitgelogd.",
        "session_ended": "Uw sessie is verlopen. Log opnieuw in.",
        "index_title": "Overzicht",
        "index_intro": "Welkom, {name}. Hier komen de aanvragen van uw gemeente.",
        "role_consultant": "consulent",
        "role_administrator": "beheerder",
        "error_title": "Er ging iets mis",
        "error_csrf": "Het formulier is verlopen of kwam niet van deze site. "
        "Ga terug, laad de pagina opnieuw en probeer het nog eens.",
        "error_forbidden": "U hebt geen toegang tot deze pagina.",
        "error_login_required": "Log eerst in om deze actie te doen.",
        "error_not_found": "Deze pagina bestaat niet.",
        "error_rate_limited": "Er zijn te veel inlogpogingen gedaan vanaf uw "
        "netwerk. Probeer het over {minutes} minuten opnieuw.",
        "error_other": "Er ging iets mis. Probeer het later opnieuw.",
        "back_to_portal": "Terug naar het consultantportaal",
    },
    "en": {
        "portal_name": "Stappen consultant portal",
        "skip_link": "Skip to content",
        "logged_in_as": "Logged in as",
        "municipality": "Municipality",
        "logout": "Log out",
        "language": "Language",
        "language_other": "Nederlands",
        "login_title": "Log in",
        "login_intro": "Log in with the username and password of your "
        "consultant account.",
        "username": "Username",
        "password": "Password",
        "login_button": "Log in",
        "error_summary": "There is a problem",
        "error_prefix": "Error",
        "login_failed": "The username or password is incorrect. Check them and "
        "try again.",
        "login_missing": "Enter your username and your password.",
        "account_locked": "This account is locked for a while after too many "
        "failed attempts. Try again in {minutes} minutes, or ask an "
        "administrator to unlock it.",
        "form_expired": "The form expired. Please try again.",
        "logged_out": "You have logged out.",
        "session_ended": "Your session has ended. Please log in again.",
        "index_title": "Overview",
        "index_intro": "Welcome, {name}. Your municipality's applications will "
        "be listed here.",
        "role_consultant": "consultant",
        "role_administrator": "administrator",
        "error_title": "Something went wrong",
        "error_csrf": "The form expired or did not come from this site. Go "
        "back, reload the page and try again.",
        "error_forbidden": "You do not have access to this page.",
        "error_login_required": "Log in first to do this.",
        "error_not_found": "This page does not exist.",
        "error_rate_limited": "Too many login attempts came from your network. "
        "Try again in {minutes} minutes.",
        "error_other": "Something went wrong. Please try again later.",
        "back_to_portal": "Back to the consultant portal",
    },
}


def texts_for(lang: str) -> dict[str, str]:
    """Return the texts of ``lang``, or the Dutch ones for an unknown language."""
    return TEXTS.get(lang, TEXTS[DEFAULT_LANGUAGE])
