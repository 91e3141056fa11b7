"""The short German note staff see when a conversation is handed over to them."""

from __future__ import annotations

from collections.abc import Sequence

REASONS = {
    "explicit_request": "Wunsch nach persönlicher Beratung",
    "complaint": "Beschwerde",
    "status_enquiry": "Frage zum Stand eines eigenen Antrags",
    "distress": "Notlage – bitte vorrangig und einfühlsam behandeln",
    "not_understood": "Der Assistent hat die Frage mehrfach nicht verstanden",
    "low_confidence": "Keine passende Antwort im Leistungskatalog",
}

ASPECTS = {
    "general": "allgemein",
    "documents": "Unterlagen",
    "office": "zuständige Stelle",
    "fees": "Gebühren",
    "processing_time": "Bearbeitungsdauer",
    "prerequisites": "Voraussetzungen",
    "online": "Online-Antrag",
    "appointment": "Termin",
}

MAX_MESSAGES = 3
MAX_CHARS = 200


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_CHARS else text[: MAX_CHARS - 1].rstrip() + "…"


def staff_summary(reason: str, *, services: Sequence[str] = (), aspect: str | None = None,
                  user_messages: Sequence[str] = (), persons: Sequence[str] = (),
                  language: str = "de", simple_language: bool = False) -> str:
    """One paragraph per fact, most important first; ``services`` are display names.

    ``user_messages`` are the citizen's own words, oldest first; only the last few are kept
    and each is clipped, so the note stays readable at a glance.
    """
    lines = [f"Anlass: {REASONS.get(reason, reason)}."]
    if services:
        topic = ", ".join(services)
        if aspect and aspect != "general":
            topic += f" ({ASPECTS.get(aspect, aspect)})"
        lines.append(f"Thema: {topic}.")
    if persons:
        lines.append("Betrifft auch: " + ", ".join(dict.fromkeys(persons)) + ".")
    if language == "en":
        lines.append("Sprache: Englisch.")
    if simple_language:
        lines.append("Wünscht Leichte Sprache.")
    messages = [m for m in user_messages if m.strip() and not m.startswith("/")][-MAX_MESSAGES:]
    if messages:
        quoted = " | ".join(f"„{_clip(m)}“" for m in messages)
        lines.append(f"Letzte Nachrichten: {quoted}")
    return "\n".join(lines)
