"""``python -m bot.rasa_run ARGS`` is ``python -m rasa ARGS``, with the garbage collector held off
while ``rasa run`` loads its model (see :mod:`bot.gcpause`).

The collector is off from the start of the process until Rasa's start-up listener has loaded
the agent; then one collection runs and the loaded model is frozen out of later collections.
Every other Rasa command runs unchanged.
"""

from __future__ import annotations

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


def main() -> None:
    if sys.argv[1:2] == ["run"]:
        _hold_gc_until_loaded()
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
