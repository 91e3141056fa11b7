"""Where citizen text leaves a conversation for an aggregate, it is redacted."""

from __future__ import annotations

from bot.handoff.state import HandoffStatus
from bot.handoff.stats import supervisor_stats
from bot.store import Store
from tests.handoff.fixtures import FakeClock, make_service


async def test_supervisor_gaps_show_questions_without_personal_data(store: Store) -> None:
    service = make_service(store, clock=FakeClock())
    questions = {
        "a": "Ich heiße Anna Schmidt, wo melde ich meinen Hund an? Tel. 0170 1234567",
        "b": "Ich heiße Max Meier, wo melde ich meinen Hund an? Tel. 0151 7654321",
        "c": "Meine IBAN DE89 3704 0044 0532 0130 00 wurde falsch belastet",
    }
    for cid, text in questions.items():
        await store.append(cid, [("citizen", text, {}), ("bot", "Das weiß ich leider nicht.", {})])
        await store.set_handoff(cid, HandoffStatus.QUEUED, {"reason": "low_confidence"})
    gaps = (await supervisor_stats(service))["gaps"]
    shown = " ".join(g["question"] for g in gaps)
    for secret in ("Anna", "Schmidt", "Max Meier", "0170", "0151", "DE89"):
        assert secret not in shown
    # The same question from two citizens is now one gap, counted twice.
    assert {(g["question"], g["count"]) for g in gaps} == {
        ("Ich heiße [NAME], wo melde ich meinen Hund an? Tel. [TELEFON]", 2),
        ("Meine IBAN [IBAN] wurde falsch belastet", 1)}
