"""The callback form, run by the gateway when nobody can take over (pure; no I/O).

    offered ──yes──▶ name ──▶ contact ──▶ confirm ──consent──▶ (ticket filed)
       └─no─▶ (cancelled)   any step: "abbrechen" ─▶ (cancelled)

Nothing is filed without the explicit consent button (or a plain "ja" at the confirm step).
Works in any channel: buttons degrade to spoken or typed choices.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from bot.messages import BotMessage, Button

YES = "/callback_yes"
NO = "/callback_no"
CONSENT = "/callback_consent"

CONSENT_TEXT = (
    "Ich willige ein, dass die Stadtverwaltung meinen Namen und meine Kontaktdaten speichert, "
    "um mich zu meinem Anliegen zurückzurufen oder mir zu schreiben. Die Angaben werden nach "
    "Erledigung gelöscht. Die Einwilligung kann ich jederzeit widerrufen.")

_EMAIL = re.compile(r"[^@\s,;]+@[^@\s,;]+\.[A-Za-z]{2,}")
_PHONE = re.compile(r"\+?\d[\d \t/()-]{4,}\d")
_CANCEL = {"abbrechen", "abbruch", "stopp", "stop", "nein", "nein danke", "cancel", "no"}
_AGREE = {"ja", "ja bitte", "ja gerne", "gerne", "ok", "okay", "yes", "einverstanden"}


class FormStep(StrEnum):
    OFFERED = "offered"
    NAME = "name"
    CONTACT = "contact"
    CONFIRM = "confirm"


@dataclass(frozen=True, slots=True)
class CallbackForm:
    step: FormStep
    topic: dict[str, Any] = field(default_factory=dict)  # the HandoffRequest that led here
    name: str = ""
    phone: str = ""
    email: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"step": self.step.value, "topic": self.topic, "name": self.name,
                "phone": self.phone, "email": self.email}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CallbackForm:
        return cls(step=FormStep(data["step"]), topic=dict(data.get("topic") or {}),
                   name=str(data.get("name", "")), phone=str(data.get("phone", "")),
                   email=str(data.get("email", "")))


@dataclass(frozen=True, slots=True)
class FormTurn:
    """What to say, the form afterwards (None when finished or cancelled), and whether to file."""

    messages: tuple[BotMessage, ...]
    form: CallbackForm | None
    file_ticket: bool = False


def offer(topic: dict[str, Any], why: str, promise_hours: float) -> FormTurn:
    text = (f"{why} Möchten Sie, dass wir uns bei Ihnen melden? Wir rufen Sie an oder schreiben "
            f"Ihnen innerhalb von {promise_hours:g} Stunden.")
    return FormTurn((BotMessage(text, buttons=(Button("Ja, bitte melden Sie sich", YES),
                                               Button("Nein, danke", NO))),),
                    CallbackForm(FormStep.OFFERED, topic))


def advance(form: CallbackForm, text: str) -> FormTurn:
    said = text.strip()
    plain = said.lower().strip(" .!")
    # At the name step only an unmistakable cancel counts ("Nein" is no name, but keep it simple).
    cancel = said == NO or plain == "abbrechen" or (
        plain in _CANCEL and form.step is not FormStep.NAME)
    if cancel:
        return FormTurn((BotMessage("In Ordnung, ich habe nichts gespeichert. Sie können mir "
                                    "gerne weiter Fragen stellen."),), None)
    if form.step is FormStep.OFFERED:
        if said == YES or plain in _AGREE:
            return FormTurn((BotMessage("Gerne. Wie ist Ihr Name?"),),
                            replace(form, step=FormStep.NAME))
        return FormTurn((BotMessage("Bitte antworten Sie mit Ja oder Nein.",
                                    buttons=(Button("Ja, bitte melden Sie sich", YES),
                                             Button("Nein, danke", NO))),), form)
    if form.step is FormStep.NAME:
        name = " ".join(said.split())
        if not 2 <= len(name) <= 100 or not any(c.isalpha() for c in name) or name.startswith("/"):
            return FormTurn((BotMessage("Bitte nennen Sie Ihren Namen (oder schreiben Sie "
                                        "„abbrechen“)."),), form)
        return FormTurn((BotMessage(f"Danke, {name}. Unter welcher Telefonnummer oder "
                                    "E-Mail-Adresse erreichen wir Sie?"),),
                        replace(form, step=FormStep.CONTACT, name=name))
    if form.step is FormStep.CONTACT:
        email = _EMAIL.search(said)
        phone = _PHONE.search(_EMAIL.sub(" ", said))
        digits = sum(c.isdigit() for c in phone.group()) if phone else 0
        if email is None and not 6 <= digits <= 15:
            return FormTurn((BotMessage("Das habe ich nicht als Telefonnummer oder "
                                        "E-Mail-Adresse erkannt. Bitte versuchen Sie es noch "
                                        "einmal, z. B. 0151 2345678 oder name@example.de."),),
                            form)
        filled = replace(form, step=FormStep.CONFIRM,
                         email=email.group() if email else "",
                         phone=" ".join(phone.group().split()) if phone and 6 <= digits <= 15
                         else "")
        return FormTurn((confirm_message(filled),), filled)
    # CONFIRM
    if said == CONSENT or plain in _AGREE:
        return FormTurn((), None, file_ticket=True)
    return FormTurn((confirm_message(form),), form)


def confirm_message(form: CallbackForm) -> BotMessage:
    contact = ", ".join(x for x in (f"Telefon {form.phone}" if form.phone else "",
                                    f"E-Mail {form.email}" if form.email else "") if x)
    return BotMessage(
        f"Bitte prüfen Sie: {form.name}, {contact}. {CONSENT_TEXT}",
        buttons=(Button("Ja, ich willige ein und sende ab", CONSENT), Button("Abbrechen", NO)))


def filed_message(ticket_id: int, due_text: str) -> BotMessage:
    return BotMessage(f"Vielen Dank. Ihr Rückrufwunsch ist erfasst (Nummer {ticket_id}). Wir "
                      f"melden uns spätestens {due_text}. Bis dahin helfe ich Ihnen gerne weiter.")
