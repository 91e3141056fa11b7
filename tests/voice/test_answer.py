"""Bot messages shaped for the ear: spoken choices, link offers, number questions."""

from __future__ import annotations

from bot.messages import BotMessage, Button, HandoffRequest, Source
from voice.answer import (
    LINK_ON_WEBSITE,
    LinkChannel,
    link_channel,
    match_choice,
    shape_answer,
)

DOCS = BotMessage("Welches Dokument brauchen Sie?",
                  buttons=(Button("Reisepass", "/pass"), Button("Personalausweis", "/ausweis"),
                           Button("Kinderreisepass", "/kinderpass")))


def test_buttons_become_spoken_choices_with_keys() -> None:
    answer = shape_answer([DOCS])
    assert answer.text == (
        "Welches Dokument brauchen Sie? Sie können wählen: Reisepass, Personalausweis oder "
        "Kinderreisepass. Sagen Sie Ihre Wahl, oder drücken Sie eine Taste von eins bis drei.")
    assert [(c.digit, c.payload) for c in answer.choices] == [
        ("1", "/pass"), ("2", "/ausweis"), ("3", "/kinderpass")]


def test_links_become_an_offer_and_are_kept() -> None:
    answer = shape_answer([BotMessage(
        "Den Antrag finden Sie unter https://stadt.example/antrag.",
        sources=(Source("s1", "Reisepass", "https://stadt.example/pass"),
                 Source("s2", "Ohne Link")))])
    assert "https" not in answer.text
    assert answer.text.endswith("Sagen Sie dazu einfach SMS oder E-Mail.")
    assert answer.links == ("https://stadt.example/antrag", "https://stadt.example/pass")


def test_without_a_sender_links_point_to_the_website() -> None:
    answer = shape_answer([BotMessage("Den Antrag finden Sie unter https://stadt.example/a.")],
                          offer_links=False)
    assert "SMS" not in answer.text and answer.text.endswith(LINK_ON_WEBSITE)
    assert answer.links == ()
    assert shape_answer([BotMessage("Kein Link.")], offer_links=False).text == "Kein Link."


def test_fees_and_dates_are_spoken_and_handoff_is_carried() -> None:
    request = HandoffRequest("complaint", "Beschwerde")
    answer = shape_answer([BotMessage("Das kostet 37,50 €."),
                           BotMessage("Ich leite Sie weiter.", handoff=request)])
    assert answer.text == "Das kostet siebenunddreißig Euro fünfzig. Ich leite Sie weiter."
    assert answer.handoff == request


def test_number_questions_are_recognised() -> None:
    assert shape_answer([BotMessage("Wie lautet Ihre Postleitzahl?")]).expects_number
    assert not shape_answer([BotMessage("Die Postleitzahl steht im Brief.")]).expects_number
    marked = BotMessage("Bitte geben Sie es ein.", extra={"voice": {"expect": "number"}})
    assert shape_answer([marked]).expects_number


def test_the_caller_names_a_choice() -> None:
    choices = shape_answer([DOCS]).choices
    assert match_choice("den Personalausweis bitte", choices).payload == "/ausweis"
    assert match_choice("Kinderreisepass", choices).payload == "/kinderpass"
    assert match_choice("die zweite", choices).payload == "/ausweis"
    assert match_choice("Nummer drei", choices).payload == "/kinderpass"
    assert match_choice("reisepas", choices).payload == "/pass"  # recognition slip
    assert match_choice("wie spät ist es", choices) is None
    assert match_choice("", choices) is None


def test_link_channel_replies() -> None:
    assert link_channel("Per SMS bitte") is LinkChannel.SMS
    assert link_channel("lieber per E-Mail") is LinkChannel.EMAIL
    assert link_channel("nein danke") is None
