"""Fixtures for the runtime checker's tests: tiny checkpoints and ways to run `verify`.

Every test here needs TensorFlow, tf-keras and transformers (the `[runtime]` extra); without
them the tests are skipped, unless LML_REQUIRE_RUNTIME=1 (CI) turns the skip into a failure.
Nothing downloads: checkpoints are built from tiny configs and saved under a tmp dir.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

# Before anything imports TensorFlow: transformers' TF classes need Keras 2 (tf-keras), and
# no test may reach the Hub.
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

sys.path.insert(0, str(Path(__file__).resolve().parent))

from runtime_support import TINY, VerifyResult, save_tiny


@pytest.fixture(scope="session", autouse=True)
def runtime_stack() -> None:
    """Skip (or, under LML_REQUIRE_RUNTIME=1, fail) without the runtime extra."""
    for module in ("tensorflow", "tf_keras", "transformers"):
        if os.environ.get("LML_REQUIRE_RUNTIME") == "1":
            importlib.import_module(module)
        else:
            pytest.importorskip(module, reason=f"the runtime checker needs {module} (pip install lint-mainlayer[runtime])")
    import transformers

    transformers.logging.set_verbosity_error()


@pytest.fixture(scope="session")
def checkpoints(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Tiny perturbed checkpoints by arch, plus `bert_fresh` (as initialised: zero biases,
    unit gammas), `bert_other` and `distilbert_other` (other perturbed checkpoints of the
    same shapes)."""
    root = tmp_path_factory.mktemp("checkpoints")
    found = {arch: save_tiny(arch, root / arch, perturb=True, seed=i) for i, arch in enumerate(TINY)}
    found["bert_fresh"] = save_tiny("bert", root / "bert_fresh", perturb=False, seed=100)
    found["bert_other"] = save_tiny("bert", root / "bert_other", perturb=True, seed=101)
    found["distilbert_other"] = save_tiny("distilbert", root / "distilbert_other", perturb=True, seed=102)
    return found


@pytest.fixture
def verify_in_process(monkeypatch: pytest.MonkeyPatch) -> Callable[..., VerifyResult]:
    """Run `verify` in this process (no TF import per run), JSON output unless told."""
    from click.testing import CliRunner

    from lint_mainlayer.runtime.command import verify

    def run(script: Path | str, *args: str, checkpoint: Path | None = None, fmt: str = "json",
            options: tuple[str, ...] = ()) -> VerifyResult:
        if checkpoint is not None:
            monkeypatch.setenv("LML_CHECKPOINT", str(checkpoint))
        argv = [*options, "--format", fmt, str(script), *args]
        result = CliRunner().invoke(verify, argv, catch_exceptions=False)
        return VerifyResult(result.exit_code, result.stdout, result.stderr)

    return run


@pytest.fixture
def run_script_globals(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[Path, Path], dict[str, Any]]]:
    """Run a fixture script in this process and return its globals (its model, its layers)."""
    import runpy

    def run(script: Path, checkpoint: Path) -> dict[str, Any]:
        monkeypatch.setenv("LML_CHECKPOINT", str(checkpoint))
        monkeypatch.setattr(sys, "argv", [str(script)])
        return runpy.run_path(str(script), run_name="fixture")

    yield run
