import pytest

from bot.messages import BotMessage, Button, HandoffRequest, Source, WireError

EXAMPLES = [
    BotMessage(text="Hallo"),
    BotMessage(text="Ein Reisepass kostet 70 Euro.",
               sources=(Source("1063453", "Reisepass", "https://example.org/p"),
                        Source("x", "Ohne Link")),
               buttons=(Button("Unterlagen", "/ask_documents"),)),
    BotMessage(text="Ich verbinde Sie.",
               handoff=HandoffRequest("explicit_request", "Bürger möchte Person",
                                      ("reisepass",), "fees"), extra={"lang": "de"}),
]


@pytest.mark.parametrize("message", EXAMPLES)
def test_round_trip_every_type(message: BotMessage) -> None:
    assert BotMessage.from_wire(message.to_wire()) == message
    assert BotMessage.from_rasa({"recipient_id": "x", "custom": message.to_wire()}) == message


def test_plain_rasa_text_and_buttons() -> None:
    m = BotMessage.from_rasa({"recipient_id": "x", "text": "Hallo",
                              "buttons": [{"title": "Ja", "payload": "/affirm"}]})
    assert m == BotMessage("Hallo", buttons=(Button("Ja", "/affirm"),))
    assert m.to_api() == {"text": "Hallo", "sources": [],
                          "buttons": [{"title": "Ja", "payload": "/affirm"}]}


@pytest.mark.parametrize("bad", [
    [], {"text": 1}, {"text": "a", "sources": "x"}, {"text": "a", "sources": [{"title": "t"}]},
    {"text": "a", "buttons": [{"title": "", "payload": "p"}]},
    {"text": "a", "handoff": {"services": ["x"]}},
])
def test_malformed_wire_messages_raise(bad: object) -> None:
    with pytest.raises(WireError):
        BotMessage.from_wire(bad)
