"""The portal's own words (buttons, labels, built-in error messages).

Authors write the texts of their steps; these are the texts around them.
Messages with ``{name}`` placeholders are filled in by the templates or by
the browser script, which receives the same catalogue.
"""

MESSAGES = {
    "nl": {
        "language_name": "Nederlands",
        "switch_language": "English",
        "skip_to_content": "Naar de inhoud",
        "next": "Volgende",
        "back": "Vorige",
        "start": "Start",
        "start_again": "Opnieuw beginnen",
        "step_of": "Stap {n} van {total}",
        "error_summary_title": "Er is een probleem",
        "error_prefix": "Fout",
        "change": "Wijzigen",
        "yes": "Ja",
        "no": "Nee",
        "optional": "niet verplicht",
        "answers_title": "Uw antwoorden",
        "no_answers": "U heeft nog geen vragen beantwoord.",
        "summary_continue": "Verder",
        "needs_javascript": (
            "Voor deze stap is JavaScript nodig. Zet JavaScript aan in uw "
            "browser, of neem contact op met {organisation}."
        ),
        "placeholder_title": "Deze stap is nog niet beschikbaar",
        "placeholder_body": (
            "Hier komt de stap ‘{kind}’. Die werkt nog niet in deze versie van "
            "het portaal: er gebeurt op deze pagina nog niets met uw gegevens."
        ),
        "placeholder_skip": "Deze stap overslaan (alleen om het portaal te bekijken)",
        "kind_wallet": "gegevens delen met uw wallet",
        "kind_check": "controle van uw recht",
        "kind_application": "aanvraag",
        "kind_decision": "besluit",
        "flows_title": "Regelingen en diensten",
        "flows_intro": "Kies waar u mee aan de slag wilt.",
        "for_authors": "Voor makers van dit portaal",
        "not_found_title": "Pagina niet gevonden",
        "not_found_body": (
            "Deze pagina bestaat niet (meer). Controleer het adres, of ga naar "
            "de startpagina."
        ),
        "home": "Startpagina",
        "amount_prefix": "€",
        "answer_yes": "Ja",
        "answer_no": "Nee",
        "cleared": "Uw antwoorden zijn gewist.",
        "error_required": "Beantwoord deze vraag.",
        "error_required_choice": "Kies een antwoord.",
        "error_invalid": "Dit antwoord is niet geldig.",
        "error_min": "Vul een waarde in van minimaal {min}.",
        "error_max": "Vul een waarde in van maximaal {max}.",
        "error_too_long": "Gebruik maximaal {max_length} tekens.",
        "error_min_date": "Vul een datum in op of na {min}.",
        "error_max_date": "Vul een datum in op of voor {max}.",
    },
    "en": {
        "language_name": "English",
        "switch_language": "Nederlands",
        "skip_to_content": "Skip to content",
        "next": "Continue",
        "back": "Back",
        "start": "Start",
        "start_again": "Start again",
        "step_of": "Step {n} of {total}",
        "error_summary_title": "There is a problem",
        "error_prefix": "Error",
        "change": "Change",
        "yes": "Yes",
        "no": "No",
        "optional": "optional",
        "answers_title": "Your answers",
        "no_answers": "You have not answered any questions yet.",
        "summary_continue": "Continue",
        "needs_javascript": (
            "This step needs JavaScript. Turn JavaScript on in your browser, or "
            "contact {organisation}."
        ),
        "placeholder_title": "This step is not available yet",
        "placeholder_body": (
            "The step ‘{kind}’ will be here. It does not work in this version "
            "of the portal yet: nothing happens with your data on this page."
        ),
        "placeholder_skip": "Skip this step (only to preview the portal)",
        "kind_wallet": "sharing data with your wallet",
        "kind_check": "checking your entitlement",
        "kind_application": "application",
        "kind_decision": "decision",
        "flows_title": "Schemes and services",
        "flows_intro": "Choose what you want to do.",
        "for_authors": "For the authors of this portal",
        "not_found_title": "Page not found",
        "not_found_body": (
            "This page does not exist (any more). Check the address, or go to the "
            "home page."
        ),
        "home": "Home page",
        "amount_prefix": "€",
        "answer_yes": "Yes",
        "answer_no": "No",
        "cleared": "Your answers have been cleared.",
        "error_required": "Answer this question.",
        "error_required_choice": "Choose an answer.",
        "error_invalid": "This answer is not valid.",
        "error_min": "Enter a value of at least {min}.",
        "error_max": "Enter a value of at most {max}.",
        "error_too_long": "Use at most {max_length} characters.",
        "error_min_date": "Enter a date on or after {min}.",
        "error_max_date": "Enter a date on or before {max}.",
    },
}


def messages(lang: str) -> dict[str, str]:
    """Return the portal's words in ``lang``, Dutch for an unknown language."""
    return MESSAGES.get(lang, MESSAGES["nl"])
