"""``python -m bot.rasa_run ARGS`` is ``python -m rasa ARGS``, with the garbage collector kept
from walking the model again and again (see :mod:`bot.gcpause`), and for the server a tracker
store that fails, failing the turn instead of Rasa's silent fallback (see
:mod:`bot.rasa_tracker_store`).

``run``: automatic collection is off from the start of the process until Rasa's start-up
listener has loaded the agent; then one collection runs and the loaded model is frozen out of
later collections. ``train``: what survives a full collection is frozen right after it, so each
later full collection walks only what is new (training ran 16 full collections over its
growing data, ≈ 7 s, the last 1.5 s at exit). Every other Rasa command runs unchanged.
"""

from __future__ import annotations

import atexit
import gc
import sys
from typing import Any


def _hold_gc_until_loaded() -> None:
    from bot import gcpause

    gcpause.hold()  # until the agent is loaded; importing Rasa and TensorFlow counts too
    import rasa.core.run

    load = rasa.core.run.load_agent_on_start

    async def load_agent_on_start(*args: Any, **kwargs: Any) -> Any:
        try:
            return await load(*args, **kwargs)
        finally:
            gcpause.settle()

    # serve_application registers the listener by this module-level name when it runs.
    rasa.core.run.load_agent_on_start = load_agent_on_start


def _freeze_after_full_collections() -> None:
    def freeze(phase: str, info: dict[str, Any]) -> None:
        if phase == "stop" and info["generation"] == 2:
            gc.freeze()

    gc.callbacks.append(freeze)
    atexit.register(gc.freeze)  # the interpreter's last collection then walks nothing old


def main() -> None:
    if sys.argv[1:2] == ["run"] and sys.argv[2:3] != ["actions"]:  # the server, not rasa_sdk's
        _hold_gc_until_loaded()
        from bot import rasa_tracker_store

        rasa_tracker_store.install()  # before Rasa builds its agent
    elif sys.argv[1:2] == ["train"]:
        _freeze_after_full_collections()
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
