"""Configuration of the handoff part: one frozen object with defaults, validated on creation.

Until these become fields of :class:`bot.settings.Settings` (proposed in docs/HANDOFF.md), the
staff setup builds it with defaults; tests build their own.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.handoff.hours import ServiceHours


@dataclass(frozen=True, slots=True)
class Canned:
    title: str
    text: str

    def to_api(self) -> dict[str, str]:
        return {"title": self.title, "text": self.text}


DEFAULT_CANNED: tuple[Canned, ...] = (
    Canned("Begrüßung", "Guten Tag, hier ist das Service-Team der Stadtverwaltung. Wie kann ich "
                        "Ihnen helfen?"),
    Canned("Moment bitte", "Einen Moment bitte, ich sehe das für Sie nach."),
    Canned("Termin", "Einen Termin können Sie online oder telefonisch unter der Behördennummer "
                     "115 vereinbaren."),
    Canned("Weiterleitung", "Ich leite Ihr Anliegen an den zuständigen Fachbereich weiter. Sie "
                            "erhalten dort eine Antwort."),
    Canned("Unterlagen", "Bitte bringen Sie Ihren Personalausweis oder Reisepass mit."),
    Canned("Abschluss", "Kann ich sonst noch etwas für Sie tun? Sonst wünsche ich Ihnen einen "
                        "schönen Tag."),
)


def default_hours() -> ServiceHours:
    return ServiceHours.parse("mo-fr 08:00-18:00")


@dataclass(frozen=True, slots=True)
class HandoffConfig:
    hours: ServiceHours = field(default_factory=default_hours)
    # The 115 promise: an answer within 24 hours.
    ticket_due_hours: float = 24.0
    # Offer a callback instead of queueing when no staff member has the console open.
    require_staff_online: bool = True
    # After hand-back or close, ask the citizen for a 1–5 rating of the conversation.
    ask_rating: bool = True
    rating_window_minutes: float = 60.0
    # Assumed handling time before there is history (for the citizen's wait estimate).
    default_handle_seconds: float = 300.0
    canned: tuple[Canned, ...] = DEFAULT_CANNED

    def __post_init__(self) -> None:
        if self.ticket_due_hours <= 0:
            raise ValueError("ticket_due_hours muss größer als 0 sein")
        if self.rating_window_minutes <= 0 or self.default_handle_seconds <= 0:
            raise ValueError("Zeiten müssen größer als 0 sein")
