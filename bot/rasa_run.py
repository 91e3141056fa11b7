"""``python -m bot.rasa_run ARGS`` is ``python -m rasa ARGS``, with the garbage collector kept
from walking the model again and again (see :mod:`bot.gcpause`), and for the server a tracker
store that fails, failing the turn instead of Rasa's silent fallback (see
:mod:`bot.rasa_tracker_store`).

``run``: automatic collection is off from the start of the process until Rasa's start-up
listener has loaded the agent; then one collection runs and the loaded model is frozen out of
later collections. ``train``: what survives a full collection is frozen right after it, so each
later full collection walks only what is new (training ran 16 full collections over its
growing data, ≈ 7 s, the last 1.5 s at exit). Every other Rasa command runs unchanged.

Every command runs with one OpenBLAS thread unless ``OPENBLAS_NUM_THREADS`` says otherwise.
"""

from __future__ import annotations

import atexit
import gc
import os
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


def _one_blas_thread() -> None:
    # Must run before numpy is imported. A served turn multiplies small matrices (the intent
    # classifier's 1 x 512 by 512 x ~1000 kernel row): OpenBLAS's second thread then saves
    # nothing, but it spins after each call, competing with TensorFlow and the other processes
    # for the two cores; Rasa's CPU per turn rose from 18 to 57 ms that way
    # (bench/turn_cpu.py). TensorFlow has its own thread pools. An operator can still set it.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


def main() -> None:
    _one_blas_thread()
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
