"""The collector is held off while a process loads and frozen out afterwards (bot/gcpause.py),
and ``python -m bot.rasa_run run`` does that around Rasa's loading of the agent. Each test runs
in a fresh interpreter: the collector's state is process-wide."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from tests.conftest import REPO


def _python(code: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], check=False, cwd=REPO,
                          capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_held_collector_ignores_libraries_that_switch_it_on_and_settle_frees_and_freezes() -> None:
    _python("""
        import gc, weakref
        from bot import gcpause

        class Node:
            pass

        before = gc.get_threshold()
        collections = []
        gc.callbacks.append(lambda phase, info: phase == "stop" and collections.append(info))
        gcpause.hold()
        gcpause.hold()  # twice is once
        gc.disable(); gc.enable()  # what srsly does while loading spaCy's lookup tables
        garbage = Node(); garbage.me = garbage
        dead = weakref.ref(garbage)
        del garbage
        kept = [Node() for _ in range(50_000)]  # far beyond the default threshold of 700
        assert collections == [], collections
        assert dead() is not None  # a cycle: only the collector frees it

        gcpause.settle()
        assert dead() is None  # the start-up garbage is gone
        assert gc.get_threshold() == before  # automatic collections again
        assert gc.get_freeze_count() >= len(kept)  # the survivors are out of later collections
        gcpause.settle()  # settling again changes no thresholds
        assert gc.get_threshold() == before
    """)


def test_a_command_that_ends_soon_freezes_without_collecting() -> None:
    _python("""
        import gc, weakref
        from bot import gcpause

        class Node:
            pass

        with gcpause.paused("index", collect=False):
            garbage = Node(); garbage.me = garbage
            dead = weakref.ref(garbage)
            del garbage
        assert dead() is not None  # not collected: the process is about to end anyway
        assert gc.get_freeze_count() > 0  # and the exit's own collection skips it
        assert gc.get_threshold()[0] > 0
    """)


def test_rasa_run_holds_the_collector_until_the_agent_is_loaded() -> None:
    """bot.rasa_run wraps Rasa's start-up listener by the name serve_application uses."""
    out = _python("""
        import asyncio, gc
        import rasa.core.run

        async def fake_load(model_path, endpoints, remote_storage, app, loop):
            print("threshold while loading", gc.get_threshold()[0])
            return "agent"

        rasa.core.run.load_agent_on_start = fake_load
        from bot import rasa_run

        before = gc.get_threshold()
        rasa_run._hold_gc_until_loaded()
        assert gc.get_threshold()[0] == 0
        agent = asyncio.run(rasa.core.run.load_agent_on_start("m", None, None, None, None))
        assert agent == "agent"
        assert gc.get_threshold() == before and gc.get_freeze_count() > 0
        print("ok")
    """)
    assert out.splitlines() == ["threshold while loading 0", "ok"]


def test_the_stack_starts_rasa_through_rasa_run(tmp_path) -> None:
    from bot.settings import Settings
    from bot.supervisor import stack_specs

    settings = Settings.load(env={}, state_dir=tmp_path, rasa_workers=2)
    specs = stack_specs(settings, tmp_path / "model.tar.gz", {})
    rasa = [s for s in specs if s.name.startswith("rasa")]
    assert len(rasa) == 2
    assert all(s.argv[1:4] == ("-m", "bot.rasa_run", "run") for s in rasa)


def test_rasa_train_freezes_what_survives_each_full_collection() -> None:
    out = _python("""
        import gc, weakref
        from bot import rasa_run

        class Node:
            pass

        rasa_run._freeze_after_full_collections()
        kept = [Node() for _ in range(10_000)]
        gc.collect()
        frozen = gc.get_freeze_count()
        assert frozen >= len(kept)  # survivors of the full collection are out of later ones
        garbage = Node(); garbage.me = garbage  # garbage made afterwards is still collected
        dead = weakref.ref(garbage)
        del garbage
        gc.collect()
        assert dead() is None
        print("ok")
    """)
    assert out.strip() == "ok"


def test_rasa_commands_run_with_one_blas_thread_unless_the_operator_says_otherwise() -> None:
    # `python -m bot.rasa_run --version` goes through main() like every Rasa command.
    probe = """
        import runpy, sys
        sys.argv = ["bot.rasa_run", "--version"]
        try:
            runpy.run_module("bot.rasa_run", run_name="__main__")
        except SystemExit:
            pass
        import threadpoolctl
        print("BLAS", sorted({p["num_threads"] for p in threadpoolctl.threadpool_info()
                              if p["internal_api"] == "openblas"}))
    """
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    assert "BLAS [1]" in _python(probe, env=env)
    assert "BLAS [2]" in _python(probe, env={**env, "OPENBLAS_NUM_THREADS": "2"})
