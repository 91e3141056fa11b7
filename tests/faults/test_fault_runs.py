"""Short fault runs against one real instance (Rasa, action server, gateway) on a real, throwaway
PostgreSQL: during a load run of simulated citizens (bench/load.py), each component in turn is
killed with SIGKILL (the supervisor restarts Rasa, the action server and the gateway; the tool
restarts PostgreSQL). Every message must end up stored exactly once with its answer, and the
clients may only have seen clear, retryable errors. Longer runs and the cluster:
bench/faults.py, results in docs/BENCHMARKS.md.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from tests.conftest import REPO
from tests.handoff.pg import INSTALL_HINT, pg_bin

pytestmark = pytest.mark.slow

STATE = REPO / "var" / "test-stack"  # shared with tests/test_stack.py: the trained model
FAULTS = ("rasa", "action_server", "gateway", "postgres")
# What a client may see while a component is down: the documented 503s and 409, and dropped or
# refused connections while the gateway restarts; every one of them is retried.
CLEAR = ("http-503-dialogue-unavailable", "http-503-storage-unavailable",
         "http-409-message-in-progress", "connection-", "ws-connection-",
         "ws-dialogue-unavailable", "ws-storage-unavailable", "ws-message-in-progress")


def _run(cmd: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, env=dict(os.environ, PYTHONWARNINGS="ignore"))
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGTERM)  # the tool stops its instance and PostgreSQL
        out, _ = proc.communicate(timeout=120)
        raise AssertionError(f"{cmd[1]} did not finish in {timeout:.0f} s:\n{out[-4000:]}")
    return subprocess.CompletedProcess(cmd, proc.returncode, out, "")


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict:
    if pg_bin() is None:
        pytest.skip(INSTALL_HINT)
    out = tmp_path_factory.mktemp("faults") / "faults.json"
    run = _run([sys.executable, "bench/faults.py", "--state-dir", str(STATE), "--train",
                "--postgres",
                "--faults", ",".join(FAULTS), "--citizens", "4", "--duration", "15",
                "--kill-after", "4", "--retry-for", "400", "--json", str(out)], 3000)
    assert out.is_file(), run.stdout[-4000:]
    return json.loads(out.read_text("utf-8"))


@pytest.mark.timeout(3300)
@pytest.mark.parametrize("fault", FAULTS)
def test_nothing_is_lost_or_duplicated_when_a_component_dies(report: dict, fault: str) -> None:
    result = next(r for r in report["faults"] if r["fault"] == fault)
    assert result["reconciliation"] | {"stored": 0} == {
        "stored": 0, "lost": 0, "duplicated": 0, "unanswered": 0, "altered": 0, "foreign": 0}
    assert result["reconciliation"]["stored"] == result["messages_sent"] > 0
    # Retries are transparent: every message was answered in the end, none given up.
    assert result["gave_up"] == {}
    assert result["messages_answered"] == result["messages_sent"]
    unclear = [kind for kind in result["errors"] if not kind.startswith(CLEAR)]
    assert unclear == [], f"clients saw errors that are not clear/retryable: {unclear}"
    assert fault not in report["failed"]
