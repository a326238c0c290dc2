"""The interface text of the administrator's pages: Dutch first, English second.

Templates read them as ``admin.key``. Both languages have the same keys,
which tests/test_consultant_admin.py checks. The problem lines of the audit
trail stay in English, as ``flask --app app audit verify`` prints them.
"""

from __future__ import annotations

from stappen.consultant.texts import DEFAULT_LANGUAGE

ADMIN_TEXTS: dict[str, dict[str, str]] = {
    "nl": {
        "nav_label": "Beheer",
        "nav_audit": "Audittrail",
        "nav_accounts": "Accounts",
        "audit_title": "Audittrail",
        "audit_intro": "Deze pagina controleert de hele hashketen van de "
        "audittrail en de ondertekende controlepunten, zoals "
        "flask --app app audit verify doet.",
        "audit_state": "Stand van de audittrail",
        "events": "Gebeurtenissen",
        "newest_event": "Nieuwste gebeurtenis",
        "newest_event_value": "nummer {seq}, {time}",
        "checkpoints": "Controlepunten",
        "newest_checkpoint": "Nieuwste controlepunt",
        "newest_checkpoint_value": "bij nummer {seq}, {time}",
        "none": "geen",
        "problems_title": "Controle",
        "no_problems": "Geen problemen: geen enkele gebeurtenis is gewijzigd, "
        "verwijderd, ingevoegd of verplaatst.",
        "problems_found": "Problemen gevonden: {count}. Elke regel noemt een "
        "gebeurtenis die gewijzigd, verwijderd, ingevoegd of verplaatst is, of "
        "een controlepunt dat niet meer klopt.",
        "problems_lang_note": "De meldingen zijn in het Engels, zoals het "
        "commando ze geeft.",
        "erased": "Gebeurtenissen waarvan de persoonsgegevens na de "
        "bewaartermijn zijn gewist: {count}. Dat is geen probleem.",
        "key_missing": "De auditsleutel ontbreekt of is onleesbaar, dus de "
        "handtekeningen van de controlepunten zijn niet te controleren en er "
        "kan geen controlepunt bij. Maak de sleutel op de server met:",
        "sign_title": "Controlepunt",
        "sign_intro": "Een controlepunt ondertekent de hash van de nieuwste "
        "gebeurtenis met de auditsleutel. Een latere wijziging van gebeurtenissen "
        "wordt dan gevonden, ook als de hashes opnieuw berekend zijn. Deze knop doet "
        "wat flask --app app audit sign doet, en legt zelf een gebeurtenis vast "
        "die het controlepunt meeneemt.",
        "sign_button": "Nu een controlepunt ondertekenen",
        "signed_notice": "Controlepunt ondertekend bij gebeurtenis {seq}.",
        "sign_no_key_notice": "Er is geen controlepunt ondertekend, want de "
        "auditsleutel ontbreekt of is onleesbaar.",
        "sign_no_head_notice": "Er is geen controlepunt ondertekend, want de "
        "rij audit_head ontbreekt. Zet die terug uit een back-up.",
        "accounts_title": "Accounts",
        "accounts_intro": "De accounts van gemeente {municipality}. U kunt hier "
        "een account deblokkeren, uitschakelen en weer inschakelen.",
        "accounts_cli_only": "Accounts aanmaken en wachtwoorden instellen kan "
        "alleen op de server, met deze commando's:",
        "accounts_caption": "Accounts van gemeente {municipality}",
        "username": "Gebruikersnaam",
        "name": "Naam",
        "role": "Rol",
        "language": "Taal",
        "locked_until": "Geblokkeerd tot",
        "disabled": "Uitgeschakeld",
        "last_login": "Laatst ingelogd",
        "actions": "Acties",
        "yes": "ja",
        "no": "nee",
        "not_locked": "niet geblokkeerd",
        "never": "nooit",
        "lang_nl": "Nederlands",
        "lang_en": "Engels",
        "you": "dit bent u",
        "unlock": "Deblokkeren",
        "disable": "Uitschakelen",
        "enable": "Inschakelen",
        "unlocked_notice": "Account {username} is gedeblokkeerd.",
        "disabled_notice": "Account {username} is uitgeschakeld. Beëindigde "
        "sessies: {ended}.",
        "enabled_notice": "Account {username} is weer ingeschakeld.",
        "disable_self": "U kunt uw eigen account niet uitschakelen. Vraag een "
        "andere beheerder, of gebruik flask --app app users disable.",
    },
    "en": {
        "nav_label": "Administration",
        "nav_audit": "Audit trail",
        "nav_accounts": "Accounts",
        "audit_title": "Audit trail",
        "audit_intro": "This page checks the whole hash chain of the audit "
        "trail and the signed checkpoints, as flask --app app audit verify does.",
        "audit_state": "State of the audit trail",
        "events": "Events",
        "newest_event": "Newest event",
        "newest_event_value": "number {seq}, {time}",
        "checkpoints": "Checkpoints",
        "newest_checkpoint": "Newest checkpoint",
        "newest_checkpoint_value": "at number {seq}, {time}",
        "none": "none",
        "problems_title": "Verification",
        "no_problems": "No problems: no event was changed, deleted, inserted "
        "or reordered.",
        "problems_found": "Problems found: {count}. Each line names an event "
        "that was changed, deleted, inserted or reordered, or a checkpoint "
        "that no longer holds.",
        "problems_lang_note": "The lines are in English, as the command prints them.",
        "erased": "Events whose personal data was erased after the retention "
        "period: {count}. That is no problem.",
        "key_missing": "The audit key is missing or unreadable, so the "
        "checkpoints' signatures cannot be checked and no checkpoint can be "
        "added. Create the key on the server with:",
        "sign_title": "Checkpoint",
        "sign_intro": "A checkpoint signs the hash of the newest event with "
        "the audit key. Whoever changes events afterwards is found, even when "
        "they recompute the hashes. This button does what flask --app app "
        "audit sign does, and records an event of its own that the checkpoint "
        "covers.",
        "sign_button": "Sign a checkpoint now",
        "signed_notice": "Signed a checkpoint at event {seq}.",
        "sign_no_key_notice": "No checkpoint was signed, because the audit key "
        "is missing or unreadable.",
        "sign_no_head_notice": "No checkpoint was signed, because the "
        "audit_head row is missing. Restore it from a backup.",
        "accounts_title": "Accounts",
        "accounts_intro": "The accounts of the municipality {municipality}. "
        "Here you can unlock, disable and enable an account.",
        "accounts_cli_only": "Creating accounts and setting passwords is only "
        "possible on the server, with these commands:",
        "accounts_caption": "Accounts of the municipality {municipality}",
        "username": "Username",
        "name": "Name",
        "role": "Role",
        "language": "Language",
        "locked_until": "Locked until",
        "disabled": "Disabled",
        "last_login": "Last login",
        "actions": "Actions",
        "yes": "yes",
        "no": "no",
        "not_locked": "not locked",
        "never": "never",
        "lang_nl": "Dutch",
        "lang_en": "English",
        "you": "this is you",
        "unlock": "Unlock",
        "disable": "Disable",
        "enable": "Enable",
        "unlocked_notice": "Account {username} is unlocked.",
        "disabled_notice": "Account {username} is disabled. Sessions ended: {ended}.",
        "enabled_notice": "Account {username} is enabled again.",
        "disable_self": "You cannot disable your own account. Ask another "
        "administrator, or use flask --app app users disable.",
    },
}


def admin_texts_for(lang: str) -> dict[str, str]:
    """Return the texts of ``lang``, or the Dutch ones for an unknown language."""
    return ADMIN_TEXTS.get(lang, ADMIN_TEXTS[DEFAULT_LANGUAGE])
