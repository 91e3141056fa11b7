import asyncio
import contextlib

from bot.handoff.events import CallTransferRequested, EventHub, QueueChanged
from bot.staff.calls import route_call_transfers


async def test_transfer_events_reach_the_voice_line_and_failures_do_not_stop_it() -> None:
    hub = EventHub()
    seen: list[tuple[str, str]] = []
    done = asyncio.Event()

    async def transfer(call_id: str, target: str) -> bool:
        seen.append((call_id, target))
        if call_id == "broken":
            raise ConnectionError("PBX down")
        if call_id == "c2":
            done.set()
        return True

    router = asyncio.create_task(route_call_transfers(hub, transfer))
    while hub.subscribers == 0:
        await asyncio.sleep(0)
    hub.publish(QueueChanged("c0", "assigned"))
    hub.publish(CallTransferRequested("broken", "anna"))
    hub.publish(CallTransferRequested("c2", "ben"))
    await asyncio.wait_for(done.wait(), 5)
    router.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await router
    assert seen == [("broken", "staff:anna"), ("c2", "staff:ben")]
