"""The fixed sentences the actions say, in German ("Sie", short) and English.

``say(lang, key, **values)``; a key missing in English falls back to German. Leichte Sprache
variants have the key suffix ``.ls``.
"""

from __future__ import annotations

_TEXTS: dict[str, dict[str, str]] = {
    "de": {
        "rephrase": "Das habe ich leider nicht verstanden. Können Sie Ihre Frage anders "
                    "formulieren? Zum Beispiel: „Was kostet ein Reisepass?“",
        "offer_human": "Ich verstehe Ihre Frage leider nicht. Möchten Sie mit einer "
                       "Mitarbeiterin oder einem Mitarbeiter sprechen?",
        "button_yes_human": "Ja, bitte verbinden",
        "button_no_human": "Nein, ich frage anders",
        "declined": "In Ordnung. Stellen Sie Ihre Frage gern noch einmal mit anderen Worten.",
        "how_can_i_help": "Gut. Was möchten Sie wissen?",
        "deny_ok": "In Ordnung. Was kann ich sonst für Sie tun?",
        "which_service": "Zu welcher Leistung möchten Sie das wissen? Zum Beispiel "
                         "Personalausweis, Anmeldung oder Hundesteuer.",
        "ask_location": "Welches Amt für Sie zuständig ist, hängt von Ihrem Wohnort ab. "
                        "Nennen Sie mir Ihre Postleitzahl oder Ihren Stadtteil.",
        "unknown_location": "Diesen Ort kenne ich nicht. Hier sind alle Stellen:",
        "offices_intro": "{service}: Hier bekommen Sie das.",
        "offices_intro_one": "{service}: Dafür ist diese Stelle zuständig.",
        "offices_named": "Hier die Angaben zu dieser Stelle:",
        "offices_postcode": "Für die Postleitzahl {postcode} ist zuständig:",
        "offices_district": "Im Stadtteil {district}:",
        "offices_nearest": "Am nächsten liegt:",
        "no_offices": "Für {service} nennt der Katalog keine Stelle. Fragen Sie bitte beim "
                      "Bürgerservice nach{phone}.",
        "life_intro": "{name}: Das ist zu erledigen.",
        "life_more": "Wählen Sie eine Leistung, dann erkläre ich sie Ihnen genauer.",
        "simple_on": "Gern. Ich schreibe jetzt in Leichter Sprache. Was möchten Sie wissen?",
        "handoff.explicit_request": "Gern. Ich verbinde Sie mit einer Mitarbeiterin oder "
                                    "einem Mitarbeiter. Bitte haben Sie einen Moment Geduld.",
        "handoff.complaint": "Das tut mir leid. Ich gebe Ihr Anliegen an eine Mitarbeiterin "
                             "oder einen Mitarbeiter weiter.",
        "handoff.status_enquiry": "Den Stand Ihres Antrags kann nur die zuständige Stelle "
                                  "sehen. Ich verbinde Sie mit einer Mitarbeiterin oder einem "
                                  "Mitarbeiter.",
        "handoff.distress": "Das klingt sehr belastend. Sie sind damit nicht allein.\n"
                            "Bei akuter Gefahr rufen Sie bitte sofort den Notruf 112.\n"
                            "Die Telefonseelsorge hilft rund um die Uhr und kostenlos: "
                            "0800 111 0 111.\n"
                            "Das Hilfetelefon „Gewalt gegen Frauen“: 116 016.\n"
                            "Ich verbinde Sie jetzt mit einem Menschen aus der Stadtverwaltung.",
        "handoff.not_understood": "Gern. Ich verbinde Sie mit einer Mitarbeiterin oder einem "
                                  "Mitarbeiter.",
        "handoff.low_confidence": "Gern. Ich verbinde Sie mit einer Mitarbeiterin oder einem "
                                  "Mitarbeiter.",
        "english_note": "",
        # Leichte Sprache
        "rephrase.ls": "Das habe ich nicht verstanden.\nBitte schreiben Sie es anders.",
        "offer_human.ls": "Ich verstehe Sie leider nicht.\nMöchten Sie mit einem Menschen "
                          "sprechen?",
        "which_service.ls": "Worum geht es?\nZum Beispiel: Ausweis, Anmeldung oder Hund.",
        "ask_location.ls": "Es gibt mehrere Ämter.\nWo wohnen Sie?\nSchreiben Sie Ihre "
                           "Post-Leit-Zahl.\nOder Ihren Stadt-Teil.",
    },
    "en": {
        "rephrase": "Sorry, I did not understand that. Could you rephrase your question? "
                    "For example: \"How much does a passport cost?\"",
        "offer_human": "Sorry, I still don't understand your question. Would you like to talk "
                       "to a member of staff?",
        "button_yes_human": "Yes, connect me",
        "button_no_human": "No, I'll rephrase",
        "declined": "All right. Feel free to ask your question again in other words.",
        "how_can_i_help": "Good. What would you like to know?",
        "deny_ok": "All right. What else can I do for you?",
        "which_service": "Which service do you mean? For example ID card, registration or dog "
                         "tax.",
        "ask_location": "Which office is responsible depends on where you live. Tell me your "
                        "postcode or your district.",
        "unknown_location": "I don't know that place. Here are all offices:",
        "offices_intro": "{service}: this is where you can do it.",
        "offices_intro_one": "{service}: this office is responsible.",
        "offices_named": "Here are the details of this office:",
        "offices_postcode": "Responsible for postcode {postcode}:",
        "offices_district": "In the district {district}:",
        "offices_nearest": "Nearest to you:",
        "no_offices": "The catalogue names no office for {service}. Please ask the citizens' "
                      "service{phone}.",
        "life_intro": "{name}: here is what to do.",
        "life_more": "Choose a service and I will explain it in more detail.",
        "simple_on": "Sure. I will use simple language. What would you like to know?",
        "handoff.explicit_request": "Sure. I am connecting you with a member of staff. "
                                    "Please wait a moment.",
        "handoff.complaint": "I am sorry to hear that. I am passing your concern on to a "
                             "member of staff.",
        "handoff.status_enquiry": "Only the responsible office can see the status of your "
                                  "application. I am connecting you with a member of staff.",
        "handoff.distress": "That sounds very hard. You are not alone.\n"
                            "If you are in immediate danger, call 112 now.\n"
                            "Telefonseelsorge (crisis line) is free and open day and night: "
                            "0800 111 0 111.\n"
                            "Violence against women helpline: 116 016 (also in English).\n"
                            "I am connecting you with a person from the city administration now.",
        "handoff.not_understood": "Sure. I am connecting you with a member of staff.",
        "handoff.low_confidence": "Sure. I am connecting you with a member of staff.",
        "english_note": "The city's information is only available in German:",
        "clarify": "I found several matching services. Which one do you mean?",
        "abstain": "I found nothing about this in the city's information. Would you like to "
                   "talk to a member of staff?",
    },
}


def say(lang: str, key: str, **values: str) -> str:
    table = _TEXTS.get(lang, _TEXTS["de"])
    text = table.get(key)
    if text is None:
        text = _TEXTS["de"][key]
    return text.format(**values) if values else text


def say_simple(lang: str, key: str, simple: bool, **values: str) -> str:
    """The Leichte Sprache variant where one exists and is wanted (German only)."""
    if simple and lang == "de" and f"{key}.ls" in _TEXTS["de"]:
        return say(lang, f"{key}.ls", **values)
    return say(lang, key, **values)
