from bot.handoff.events import (
    CallTransferRequested,
    EventHub,
    MessageAdded,
    Overflow,
    QueueChanged,
    TicketChanged,
)


def test_every_event_has_a_wire_type() -> None:
    events = [QueueChanged("c", "queued"), MessageAdded("c", {"seq": 1}), TicketChanged(1, "open"),
              CallTransferRequested("c", "anna"), Overflow()]
    types = [e.to_wire()["type"] for e in events]
    assert types == ["queue.changed", "conversation.message", "ticket.changed", "call.transfer",
                     "resync"]


async def test_fan_out_and_overflow() -> None:
    hub = EventHub(queue_size=2)
    async with hub.subscribe() as fast, hub.subscribe() as slow:
        assert hub.subscribers == 2
        hub.publish(QueueChanged("a", "queued"))
        assert await fast.get() == QueueChanged("a", "queued")
        hub.publish(QueueChanged("b", "queued"))
        hub.publish(QueueChanged("c", "queued"))  # slow now holds a, b; c overflows
        assert [await slow.get(), await slow.get()] == [QueueChanged("a", "queued"),
                                                        QueueChanged("b", "queued")]
        assert isinstance(await slow.get(), Overflow)
        assert slow.get_nowait() is None
        assert [fast.get_nowait(), fast.get_nowait()] == [QueueChanged("b", "queued"),
                                                          QueueChanged("c", "queued")]
    assert hub.subscribers == 0
