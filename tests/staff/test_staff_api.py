"""The console's JSON API end to end on the real gateway app: two staff members, one citizen
(through the chat API), a fake Rasa on a real port; SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp.test_utils import TestClient

from tests.staff.conftest import Gateway, login


async def say(client: TestClient, cid: str, text: str) -> dict[str, Any]:
    resp = await client.post("/api/v1/chat", json={"conversation_id": cid, "text": text})
    assert resp.status == 200, await resp.text()
    return dict(await resp.json())


async def messages(client: TestClient, cid: str) -> list[dict[str, Any]]:
    resp = await client.get(f"/api/v1/conversations/{cid}/messages")
    assert resp.status == 200
    return list((await resp.json())["messages"])


def csrf(token: str) -> dict[str, str]:
    return {"X-CSRF-Token": token}


async def test_the_whole_flow_through_the_api(gateway: Gateway) -> None:
    citizen = await gateway.start()
    anna = await gateway.another_client(citizen)
    ben = await gateway.another_client(citizen)
    anna_token, ben_token = await login(anna, "anna"), await login(ben, "ben")

    answer = await say(citizen, "flow1", "Ich möchte mit einem Menschen sprechen")
    assert answer["handoff"]["status"] == "queued"
    assert "Platz 1" in answer["messages"][-1]["text"]
    waiting = await (await citizen.get("/api/v1/conversations/flow1/handoff")).json()
    assert (waiting["status"], waiting["position"]) == ("queued", 1)
    assert waiting["estimated_wait_seconds"] > 0 and "Platz 1" in waiting["text"]

    queue = await (await anna.get("/staff/api/queue")).json()
    (entry,) = queue["queue"]
    assert (entry["conversation_id"], entry["status"], entry["reason"], entry["channel"]) == (
        "flow1", "queued", "explicit_request", "web")
    assert entry["services"] == ["anmeldung"] and entry["waiting_since"]

    # Both click "Übernehmen" at the same moment: exactly one gets it.
    r1, r2 = await asyncio.gather(
        anna.post("/staff/api/conversations/flow1/claim", headers=csrf(anna_token)),
        ben.post("/staff/api/conversations/flow1/claim", headers=csrf(ben_token)))
    assert sorted([r1.status, r2.status]) == [200, 409]
    winner, winner_token, loser = (anna, anna_token, ben) if r1.status == 200 else \
        (ben, ben_token, anna)
    conflict = await (r2 if r1.status == 200 else r1).json()
    assert conflict["error"]["code"] == "handoff-already-claimed"
    assert "bereits" in conflict["error"]["message"]

    # The citizen writes; the bot stays silent; staff see it.
    silent = await say(citizen, "flow1", "Es geht um meine Ummeldung")
    assert silent["messages"] == [] and silent["handoff"]["status"] == "assigned"
    detail = await (await winner.get("/staff/api/conversations/flow1")).json()
    assert detail["messages"][-1]["text"] == "Es geht um meine Ummeldung"
    assert detail["actions"]["write"] is True
    assert (await (await loser.get("/staff/api/conversations/flow1")).json())["actions"][
        "write"] is False

    resp = await winner.post("/staff/api/conversations/flow1/messages",
                             json={"text": "Gern, was genau möchten Sie wissen?"},
                             headers=csrf(winner_token))
    assert resp.status == 200
    staff_seq = (await resp.json())["message"]["seq"]
    seen = await messages(citizen, "flow1")
    assert [m["role"] for m in seen if m["seq"] == staff_seq] == ["staff"]
    assert any(m["role"] == "system" and "ist jetzt für Sie da" in m["text"] for m in seen)

    # Suggestions come from the dialogue engine under a separate sender id.
    sugg = await (await winner.get("/staff/api/conversations/flow1/suggestions")).json()
    assert sugg["question"] == "Es geht um meine Ummeldung"
    assert sugg["suggestions"][0]["text"] == "Der Assistent antwortet: Es geht um meine Ummeldung"

    # Hand back: the bot answers again, and a rating is asked.
    resp = await winner.post("/staff/api/conversations/flow1/release", json={"to": "bot"},
                             headers=csrf(winner_token))
    assert (resp.status, (await resp.json())["status"]) == (200, "bot")
    assert (await messages(citizen, "flow1"))[-1]["text"].startswith("Wie zufrieden")
    rated = await say(citizen, "flow1", '/handoff_rating{"score": 5}')
    assert rated["messages"][0]["text"] == "Vielen Dank für Ihre Bewertung!"
    back = await say(citizen, "flow1", "Was kostet ein Ausweis?")
    assert back["messages"][0]["text"] == "Der Assistent antwortet: Was kostet ein Ausweis?"
    assert back["handoff"] is None
    assert (await (await anna.get("/staff/api/queue")).json())["queue"] == []


async def test_close_with_outcome_and_tickets(gateway: Gateway) -> None:
    citizen = await gateway.start()
    anna = await gateway.another_client(citizen)
    token = await login(anna, "anna")
    await say(citizen, "c2", "Bitte eine Person")
    assert (await anna.post("/staff/api/conversations/c2/claim", headers=csrf(token))).status \
        == 200
    bad = await anna.post("/staff/api/conversations/c2/close", json={"outcome": "prima"},
                          headers=csrf(token))
    assert (bad.status, (await bad.json())["error"]["code"]) == (400, "invalid-outcome")
    resp = await anna.post("/staff/api/conversations/c2/close",
                           json={"outcome": "callback_needed", "note": "Rückfrage Fachbereich",
                                 "callback": {"name": "Erika", "phone": "0151 1234567"}},
                           headers=csrf(token))
    assert (await resp.json())["status"] == "callback_requested"
    (ticket,) = (await (await anna.get("/staff/api/tickets")).json())["tickets"]
    assert (ticket["status"], ticket["name"], ticket["phone"], ticket["overdue"]) == (
        "open", "Erika", "0151 1234567", False)
    assert ticket["due_at"] > ticket["created_at"]
    tid = ticket["id"]
    assert (await anna.post(f"/staff/api/tickets/{tid}/claim", headers=csrf(token))).status \
        == 200
    done = await anna.post(f"/staff/api/tickets/{tid}/close", json={"outcome": "called_back"},
                           headers=csrf(token))
    assert (await done.json())["status"] == "done"
    assert (await (await anna.get("/staff/api/tickets")).json())["tickets"] == []
    missing = await anna.post("/staff/api/tickets/999/claim", headers=csrf(token))
    assert (missing.status, (await missing.json())["error"]["code"]) == (404, "ticket-not-found")


async def test_supervisor_stats_and_roles(gateway: Gateway) -> None:
    citizen = await gateway.start()
    anna = await gateway.another_client(citizen)
    boss = await gateway.another_client(citizen)
    anna_token = await login(anna, "anna")
    await login(boss, "sophie")
    await say(citizen, "s1", "Gibt es einen Hundesteuer-Rabatt?")  # the bot has no answer
    await say(citizen, "s2", "Mensch bitte")
    await say(citizen, "s3", "Was kostet ein Ausweis?")  # contained by the bot
    await anna.post("/staff/api/conversations/s2/claim", headers=csrf(anna_token))
    forbidden = await anna.get("/staff/api/stats")
    assert (forbidden.status, (await forbidden.json())["error"]["code"]) == (403, "forbidden")
    stats = await (await boss.get("/staff/api/stats?days=7")).json()
    assert stats["conversations"] == 3 and stats["escalated_conversations"] == 2
    assert stats["handoff_rate"] == round(2 / 3, 4)
    assert stats["containment_rate"] == round(1 / 3, 4)
    assert stats["queue"]["waiting"] == 1 and stats["queue"]["assigned"] == 1
    assert stats["gaps"][0]["question"] == "Gibt es einen Hundesteuer-Rabatt?"
    assert stats["gaps"][0]["reasons"] == {"low_confidence": 1}
    assert (await boss.get("/staff/api/stats?days=0")).status == 400


async def test_voice_calls_share_the_queue_and_can_be_transferred(gateway: Gateway) -> None:
    from bot.gateway import keys
    from bot.messages import HandoffRequest
    from voice.call import TranscriptLine
    from voice.handoff import StoreHandoffQueue

    client = await gateway.start()
    anna = await gateway.another_client(client)
    token = await login(anna, "anna")
    store = client.server.app[keys.STORE]
    await StoreHandoffQueue(store).enqueue(
        "call-1", HandoffRequest("explicit_request", "Anrufer hat die Taste 0 gedrückt"),
        [TranscriptLine("caller", "ich brauche einen termin", 0.82),
         TranscriptLine("bot", "Ich verbinde Sie.")])
    (entry,) = (await (await anna.get("/staff/api/queue")).json())["queue"]
    assert (entry["conversation_id"], entry["channel"]) == ("call-1", "voice")
    detail = await (await anna.get("/staff/api/conversations/call-1")).json()
    assert [m["text"] for m in detail["messages"]][:2] == ["ich brauche einen termin",
                                                           "Ich verbinde Sie."]
    assert detail["actions"]["transfer_call"] is True
    resp = await anna.post("/staff/api/conversations/call-1/transfer", headers=csrf(token))
    assert (await resp.json())["transfer"] == "requested"
    for _ in range(100):  # the router runs as its own task
        if gateway.transfers:
            break
        await asyncio.sleep(0)
    assert gateway.transfers == [("call-1", "staff:anna")]
    not_call = await anna.post("/staff/api/conversations/nope/transfer", headers=csrf(token))
    assert (await not_call.json())["error"]["code"] == "conversation-not-found"


async def test_a_restart_mid_handoff_loses_nothing(gateway: Gateway) -> None:
    citizen = await gateway.start()
    anna = await gateway.another_client(citizen)
    token = await login(anna, "anna")
    await say(citizen, "r1", "Mensch")
    await anna.post("/staff/api/conversations/r1/claim", headers=csrf(token))
    await anna.post("/staff/api/conversations/r1/messages", json={"text": "Vor dem Neustart"},
                    headers=csrf(token))
    cookies = {c.key: c.value for c in anna.session.cookie_jar}
    await anna.close()
    await citizen.close()

    citizen = await gateway.start()  # a new gateway process on the same database
    anna = await gateway.another_client(citizen)
    anna.session.cookie_jar.update_cookies(cookies, anna.make_url("/staff"))
    me = await anna.get("/staff/api/me")  # the session survived
    assert me.status == 200
    token = (await me.json())["csrf_token"]
    assert (await say(citizen, "r1", "Sind Sie noch da?"))["messages"] == []
    resp = await anna.post("/staff/api/conversations/r1/messages",
                           json={"text": "Nach dem Neustart"}, headers=csrf(token))
    assert resp.status == 200
    roles = [(m["role"], m["text"]) for m in await messages(citizen, "r1")
             if m["role"] in ("staff", "citizen")]
    assert roles == [("citizen", "Mensch"), ("staff", "Vor dem Neustart"),
                     ("citizen", "Sind Sie noch da?"), ("staff", "Nach dem Neustart")]
    audit = (await (await anna.get("/staff/api/conversations/r1")).json())["audit"]
    assert [a["action"] for a in audit] == ["queued", "claimed", "message", "message"]


async def test_agents_only_read_conversations_that_were_handed_over(gateway: Gateway) -> None:
    citizen = await gateway.start()
    anna = await gateway.another_client(citizen)
    boss = await gateway.another_client(citizen)
    await login(anna, "anna")
    await login(boss, "sophie")
    await say(citizen, "private1", "Wie beantrage ich Wohngeld?")
    hidden = await anna.get("/staff/api/conversations/private1")
    assert (hidden.status, (await hidden.json())["error"]["code"]) == (
        404, "conversation-not-found")
    assert (await anna.get("/staff/api/conversations/private1/suggestions")).status == 404
    assert (await boss.get("/staff/api/conversations/private1")).status == 200
    await say(citizen, "private1", "Dann bitte ein Mensch")
    assert (await anna.get("/staff/api/conversations/private1")).status == 200
