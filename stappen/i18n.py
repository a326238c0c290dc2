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
        "wallet_heading": "Met uw wallet-app",
        "wallet_persona_legend": "Kies een testpersoon",
        "wallet_persona_hint": (
            "Dit is een pilot: uw wallet krijgt verzonnen gegevens van deze "
            "testpersoon, geen echte gegevens van de overheid."
        ),
        "wallet_intro": (
            "Als u klaar bent, laat deze pagina een QR-code zien. Scan die met "
            "uw wallet-app."
        ),
        "wallet_start": "Toon de QR-code",
        "wallet_scan": (
            "Scan deze QR-code met uw wallet-app. De code is een paar minuten geldig."
        ),
        "wallet_open_app": "Open de wallet-app op deze telefoon",
        "wallet_new_code": "Nieuwe code",
        "wallet_cancel": "Stoppen",
        "wallet_no_camera_title": "Kunt u de QR-code niet scannen?",
        "wallet_no_camera_body": (
            "Gebruikt u deze website op de telefoon met uw wallet-app? Kies dan "
            "‘Open de wallet-app op deze telefoon’."
        ),
        "wallet_no_camera_call": (
            "Lukt dat ook niet, bel dan {organisation} op {phone}. Een medewerker "
            "helpt u verder."
        ),
        "wallet_no_camera_contact": (
            "Lukt dat ook niet, neem dan contact op met {organisation}. Een "
            "medewerker helpt u verder."
        ),
        "wallet_status_created": "Wacht op uw wallet-app.",
        "wallet_status_request_retrieved": (
            "Uw wallet-app heeft het verzoek. Bevestig het in de app."
        ),
        "wallet_status_submitted": (
            "Uw gegevens zijn ontvangen. Ze worden gecontroleerd."
        ),
        "wallet_status_issue_submitted": "Uw wallet-app haalt de gegevens op.",
        "wallet_status_verified": "Gelukt: uw gegevens zijn gecontroleerd.",
        "wallet_status_issued": "Gelukt: de gegevens staan in uw wallet-app.",
        "wallet_status_failed": (
            "Dit is niet gelukt: uw gegevens konden niet worden gecontroleerd. "
            "Probeer het opnieuw met een nieuwe code."
        ),
        "wallet_status_rejected": (
            "U heeft het verzoek in uw wallet-app geweigerd. Er is niets gedeeld."
        ),
        "wallet_status_expired": (
            "De code is verlopen. Vraag een nieuwe code aan als u verder wilt."
        ),
        "wallet_status_cancelled": "U bent gestopt. Er is niets gedeeld.",
        "wallet_status_error": (
            "De dienst is nu niet bereikbaar. Probeer het later opnieuw."
        ),
        "check_heading": "De uitkomst",
        "check_busy": "Wij rekenen uit of u recht heeft. Een moment geduld.",
        "check_done": "De berekening is klaar.",
        "check_eligible": "U heeft recht op deze regeling",
        "check_not_eligible": "U heeft geen recht op deze regeling",
        "check_trial_eligible": "U heeft waarschijnlijk recht op deze regeling",
        "check_trial_not_eligible": (
            "U heeft waarschijnlijk geen recht op deze regeling"
        ),
        "check_amount": "Bedrag: {amount}",
        "check_trial_no_voucher": (
            "Dit is een schatting, geen besluit. U krijgt hiermee geen voucher."
        ),
        "check_trial_wallet_later": (
            "Wilt u de regeling aanvragen? Dan rekenen wij opnieuw met de "
            "gegevens uit uw wallet."
        ),
        "check_voucher_heading": "Haal uw voucher op",
        "check_voucher_intro": (
            "Scan de QR-code met uw wallet-app. Dan komt de voucher in uw wallet."
        ),
        "check_voucher_issued": "Gelukt: de voucher staat in uw wallet-app.",
        "check_voucher_ended": (
            "De voucher is niet in uw wallet gekomen. Deel uw gegevens opnieuw, "
            "dan rekenen wij opnieuw en krijgt u een nieuwe code."
        ),
        "check_error_heading": "Dit is niet gelukt",
        "check_error_unreachable": (
            "De berekening is nu niet bereikbaar. Probeer het over een paar "
            "minuten opnieuw."
        ),
        "check_error_no_data": (
            "Wij hebben geen gedeelde gegevens van u. Deel eerst uw gegevens met "
            "uw wallet-app."
        ),
        "check_error_used": (
            "Uw gedeelde gegevens zijn al gebruikt of niet meer geldig. Deel uw "
            "gegevens opnieuw met uw wallet-app."
        ),
        "check_error_period": (
            "De regels van deze regeling gelden vandaag niet. U kunt nu niet "
            "online kijken of u recht heeft."
        ),
        "check_error_answers": (
            "Er ontbreekt een antwoord, of een antwoord klopt niet. Ga terug en "
            "controleer uw antwoorden."
        ),
        "check_help": "Lukt het niet? Neem contact op met {organisation}.",
        "check_retry": "Opnieuw proberen",
        "check_share_again": "Deel uw gegevens opnieuw",
        "check_answers_again": "Terug naar uw antwoorden",
        "application_heading": "Deel uw voucher",
        "application_intro": (
            "Uw wallet-app deelt de voucher en de gegevens waarmee wij "
            "rekenden. Zo kan de gemeente de berekening controleren."
        ),
        "application_busy": "Wij maken uw aanvraag. Een moment geduld.",
        "application_done_heading": "Uw aanvraag is ontvangen",
        "application_stored_heading": "U heeft deze aanvraag al gedaan",
        "application_reference_label": "Uw referentie",
        "application_differs": (
            "Uw gegevens zijn anders dan toen u de voucher kreeg. Een "
            "consulent van de gemeente kijkt daarnaar."
        ),
        "application_save_advice": (
            "Bewaar deze link, bijvoorbeeld als bladwijzer. Daarmee ziet u "
            "later hoe het met uw aanvraag gaat en haalt u het besluit op. "
            "Wie de link heeft, kan uw aanvraag zien: deel hem niet."
        ),
        "application_reopen": "Bekijk uw aanvraag",
        "application_reopen_label": "Link naar uw aanvraag",
        "application_error_heading": "Dit is niet gelukt",
        "application_error_not_eligible": (
            "Volgens deze voucher heeft u geen recht op de regeling. Daarom "
            "kunt u er niets mee aanvragen."
        ),
        "application_error_redeemed": (
            "Met deze voucher is al een aanvraag gedaan. U kunt een voucher "
            "maar één keer gebruiken."
        ),
        "application_error_rules": (
            "Deze voucher hoort bij regels die niet meer gelden. Haal een "
            "nieuwe voucher op."
        ),
        "application_error_again": (
            "Het delen is niet gelukt of duurde te lang. Vraag een nieuwe "
            "code en deel uw voucher opnieuw."
        ),
        "application_error_data": (
            "Uw wallet-app deelde niet alle gegevens die nodig zijn. Vraag een "
            "nieuwe code en deel uw voucher en gegevens opnieuw."
        ),
        "application_error_unreachable": (
            "De dienst is nu niet bereikbaar. Probeer het later opnieuw."
        ),
        "application_new_voucher": "Haal een nieuwe voucher op",
        "application_retry": "Opnieuw proberen",
        "decision_heading": "Uw aanvraag",
        "decision_error_heading": "Dit is niet gelukt",
        "decision_busy": "Wij zoeken uw aanvraag op. Een moment geduld.",
        "decision_form_intro": (
            "Vul de referentie en de code in die u kreeg toen u de aanvraag deed."
        ),
        "decision_reference_label": "Referentie",
        "decision_reference_hint": "Bijvoorbeeld VIL-7K3M-Q9TX.",
        "decision_code_label": "Code",
        "decision_code_hint": "De geheime code die u samen met de referentie kreeg.",
        "decision_show": "Bekijk uw aanvraag",
        "decision_error_reference_missing": "Vul de referentie van uw aanvraag in.",
        "decision_error_code_missing": "Vul de code van uw aanvraag in.",
        "decision_error_not_found": (
            "Wij vinden geen aanvraag met deze referentie en code. Controleer "
            "ze en probeer het opnieuw."
        ),
        "decision_error_unreachable": (
            "De dienst is nu niet bereikbaar. Probeer het over een paar minuten "
            "opnieuw."
        ),
        "decision_reference": "Referentie: {reference}",
        "decision_submitted_on": "Ingediend op {date}",
        "decision_decided_on": "Besloten op {date}",
        "decision_pending_title": "Uw aanvraag is in behandeling",
        "decision_pending": (
            "Een consulent van de gemeente bekijkt uw aanvraag. Zolang deze "
            "pagina openstaat, kijkt hij elke halve minuut of er een besluit is."
        ),
        "decision_refresh": "Kijk opnieuw",
        "decision_checked": "Nog geen besluit. Bijgewerkt om {time}.",
        "decision_granted_title": "Uw aanvraag is toegekend",
        "decision_rejected_title": "Uw aanvraag is afgewezen",
        "decision_amount": "Bedrag: {amount}",
        "decision_motivation_heading": "Waarom dit besluit",
        "decision_objection_heading": "Bent u het niet eens met het besluit?",
        "decision_objection": (
            "Dan kunt u bezwaar maken bij {organisation}. Doe dat binnen 6 weken "
            "na de datum van het besluit."
        ),
        "decision_wallet_heading": "Zet het besluit in uw wallet",
        "decision_wallet_intro": (
            "Dan heeft u altijd een bewijs van het besluit. Kies de knop. Dan "
            "ziet u een QR-code die u scant met uw wallet-app."
        ),
        "decision_collect": "Zet het besluit in uw wallet",
        "decision_collect_again": "Maak een nieuwe QR-code",
        "decision_already_issued": (
            "Het besluit staat al in uw wallet-app. U kunt het nog een keer "
            "ophalen, bijvoorbeeld in een andere wallet-app."
        ),
        "decision_issued": "Gelukt: het besluit staat in uw wallet-app.",
        "decision_ended": (
            "Het besluit is niet in uw wallet gekomen. Maak een nieuwe QR-code "
            "en probeer het opnieuw."
        ),
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
        "wallet_heading": "With your wallet app",
        "wallet_persona_legend": "Choose a test person",
        "wallet_persona_hint": (
            "This is a pilot: your wallet receives made-up data of this test "
            "person, not real data from the government."
        ),
        "wallet_intro": (
            "When you are ready, this page shows a QR code. Scan it with your "
            "wallet app."
        ),
        "wallet_start": "Show the QR code",
        "wallet_scan": (
            "Scan this QR code with your wallet app. It is valid for a few minutes."
        ),
        "wallet_open_app": "Open the wallet app on this phone",
        "wallet_new_code": "New code",
        "wallet_cancel": "Stop",
        "wallet_no_camera_title": "Cannot scan the QR code?",
        "wallet_no_camera_body": (
            "Are you using this website on the phone with your wallet app? Then "
            "choose ‘Open the wallet app on this phone’."
        ),
        "wallet_no_camera_call": (
            "If that does not work either, call {organisation} on {phone}. "
            "Someone will help you."
        ),
        "wallet_no_camera_contact": (
            "If that does not work either, contact {organisation}. Someone will "
            "help you."
        ),
        "wallet_status_created": "Waiting for your wallet app.",
        "wallet_status_request_retrieved": (
            "Your wallet app has the request. Confirm it in the app."
        ),
        "wallet_status_submitted": "Your data has arrived. It is being checked.",
        "wallet_status_issue_submitted": "Your wallet app is collecting the data.",
        "wallet_status_verified": "Done: your data has been checked.",
        "wallet_status_issued": "Done: the data is in your wallet app.",
        "wallet_status_failed": (
            "This did not work: your data could not be checked. Try again with "
            "a new code."
        ),
        "wallet_status_rejected": (
            "You declined the request in your wallet app. Nothing was shared."
        ),
        "wallet_status_expired": "The code has expired. Ask for a new code to go on.",
        "wallet_status_cancelled": "You stopped. Nothing was shared.",
        "wallet_status_error": "The service cannot be reached now. Try again later.",
        "check_heading": "The result",
        "check_busy": "We are working out whether you are entitled. One moment.",
        "check_done": "The calculation is ready.",
        "check_eligible": "You are entitled to this scheme",
        "check_not_eligible": "You are not entitled to this scheme",
        "check_trial_eligible": "You are probably entitled to this scheme",
        "check_trial_not_eligible": "You are probably not entitled to this scheme",
        "check_amount": "Amount: {amount}",
        "check_trial_no_voucher": (
            "This is an estimate, not a decision. It gives you no voucher."
        ),
        "check_trial_wallet_later": (
            "Want to apply for the scheme? Then we calculate again with the data "
            "in your wallet."
        ),
        "check_voucher_heading": "Collect your voucher",
        "check_voucher_intro": (
            "Scan the QR code with your wallet app. The voucher then goes into "
            "your wallet."
        ),
        "check_voucher_issued": "Done: the voucher is in your wallet app.",
        "check_voucher_ended": (
            "The voucher did not reach your wallet. Share your data again, then "
            "we calculate again and you get a new code."
        ),
        "check_error_heading": "This did not work",
        "check_error_unreachable": (
            "The calculation cannot be reached now. Try again in a few minutes."
        ),
        "check_error_no_data": (
            "We have no shared data from you. First share your data with your "
            "wallet app."
        ),
        "check_error_used": (
            "Your shared data has already been used or is no longer valid. Share "
            "your data again with your wallet app."
        ),
        "check_error_period": (
            "The rules of this scheme do not apply today. You cannot check online "
            "now whether you are entitled."
        ),
        "check_error_answers": (
            "An answer is missing or not right. Go back and check your answers."
        ),
        "check_help": "Not working? Contact {organisation}.",
        "check_retry": "Try again",
        "check_share_again": "Share your data again",
        "check_answers_again": "Back to your answers",
        "application_heading": "Share your voucher",
        "application_intro": (
            "Your wallet app shares the voucher and the data we calculated "
            "with. This lets the municipality check the calculation."
        ),
        "application_busy": "We are making your application. One moment.",
        "application_done_heading": "Your application has been received",
        "application_stored_heading": "You have already made this application",
        "application_reference_label": "Your reference",
        "application_differs": (
            "Your data is different from when you got the voucher. A "
            "consultant of the municipality will look into it."
        ),
        "application_save_advice": (
            "Keep this link, for example as a bookmark. With it you can see "
            "later how your application is going and collect the decision. "
            "Anyone with the link can see your application: do not share it."
        ),
        "application_reopen": "View your application",
        "application_reopen_label": "Link to your application",
        "application_error_heading": "This did not work",
        "application_error_not_eligible": (
            "This voucher says you are not entitled to the scheme, so you "
            "cannot apply with it."
        ),
        "application_error_redeemed": (
            "An application has already been made with this voucher. You can "
            "use a voucher only once."
        ),
        "application_error_rules": (
            "This voucher belongs to rules that no longer apply. Collect a new voucher."
        ),
        "application_error_again": (
            "Sharing did not work or took too long. Ask for a new code and "
            "share your voucher again."
        ),
        "application_error_data": (
            "Your wallet app did not share all the data that is needed. Ask "
            "for a new code and share your voucher and data again."
        ),
        "application_error_unreachable": (
            "The service cannot be reached now. Try again later."
        ),
        "application_new_voucher": "Collect a new voucher",
        "application_retry": "Try again",
        "decision_heading": "Your application",
        "decision_error_heading": "This did not work",
        "decision_busy": "We are looking up your application. One moment.",
        "decision_form_intro": (
            "Enter the reference and the code you received when you applied."
        ),
        "decision_reference_label": "Reference",
        "decision_reference_hint": "For example VIL-7K3M-Q9TX.",
        "decision_code_label": "Code",
        "decision_code_hint": "The secret code you received with the reference.",
        "decision_show": "View your application",
        "decision_error_reference_missing": "Enter the reference of your application.",
        "decision_error_code_missing": "Enter the code of your application.",
        "decision_error_not_found": (
            "We cannot find an application with this reference and code. Check "
            "them and try again."
        ),
        "decision_error_unreachable": (
            "The service cannot be reached now. Try again in a few minutes."
        ),
        "decision_reference": "Reference: {reference}",
        "decision_submitted_on": "Submitted on {date}",
        "decision_decided_on": "Decided on {date}",
        "decision_pending_title": "Your application is being processed",
        "decision_pending": (
            "A consultant of the municipality is looking at your application. "
            "While this page is open, it checks every half minute for a decision."
        ),
        "decision_refresh": "Check again",
        "decision_checked": "No decision yet. Updated at {time}.",
        "decision_granted_title": "Your application has been granted",
        "decision_rejected_title": "Your application has been rejected",
        "decision_amount": "Amount: {amount}",
        "decision_motivation_heading": "Why this decision",
        "decision_objection_heading": "Do you disagree with the decision?",
        "decision_objection": (
            "Then you can object to it (bezwaar maken). Send your objection to "
            "{organisation} within 6 weeks of the date of the decision."
        ),
        "decision_wallet_heading": "Put the decision in your wallet",
        "decision_wallet_intro": (
            "Then you always have proof of the decision. Choose the button. You "
            "then see a QR code to scan with your wallet app."
        ),
        "decision_collect": "Put the decision in your wallet",
        "decision_collect_again": "Make a new QR code",
        "decision_already_issued": (
            "The decision is already in your wallet app. You can collect it "
            "again, for example in another wallet app."
        ),
        "decision_issued": "Done: the decision is in your wallet app.",
        "decision_ended": (
            "The decision did not reach your wallet. Make a new QR code and try again."
        ),
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
