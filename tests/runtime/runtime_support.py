"""Constants and helpers for the runtime tests (conftest.py holds the fixtures).

A plain module, not conftest: test modules import it by name (conftest puts this folder on
sys.path), which works under every pytest import mode.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "fixtures" / "runtime"

# arch -> (config class, base model class, field, tiny config kwargs)
TINY: dict[str, tuple[str, str, str, dict[str, Any]]] = {
    "bert": (
        "BertConfig", "TFBertModel", "bert",
        {"vocab_size": 99, "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2,
         "intermediate_size": 37, "max_position_embeddings": 64},
    ),
    "distilbert": (
        "DistilBertConfig", "TFDistilBertModel", "distilbert",
        {"vocab_size": 99, "dim": 32, "n_layers": 2, "n_heads": 2, "hidden_dim": 37, "max_position_embeddings": 64},
    ),
    "roberta": (
        "RobertaConfig", "TFRobertaModel", "roberta",
        {"vocab_size": 99, "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2,
         "intermediate_size": 37, "max_position_embeddings": 64},
    ),
    "albert": (
        "AlbertConfig", "TFAlbertModel", "albert",
        {"vocab_size": 99, "embedding_size": 16, "hidden_size": 32, "num_hidden_layers": 2,
         "num_attention_heads": 2, "intermediate_size": 37, "max_position_embeddings": 64},
    ),
    "gpt2": (
        "GPT2Config", "TFGPT2Model", "transformer",
        {"vocab_size": 99, "n_embd": 32, "n_layer": 2, "n_head": 2, "n_positions": 64},
    ),
    "bart": (
        "BartConfig", "TFBartModel", "model",
        {"vocab_size": 99, "d_model": 32, "encoder_layers": 2, "decoder_layers": 2,
         "encoder_attention_heads": 2, "decoder_attention_heads": 2, "encoder_ffn_dim": 37,
         "decoder_ffn_dim": 37, "max_position_embeddings": 64},
    ),
}

#: Fix fixtures (input.py + expected.py) and the checkpoint each one reads.
FIX_FIXTURES: dict[str, str] = {
    **{arch: arch for arch in TINY},
    "bert_frozen": "bert",
    "siamese": "bert",
    "mll003_subclass": "bert",
    "mll004_missing_build": "bert",
    "mll004_bert_rebound_head": "bert",
    **{f"mll004_{arch}_{kind}": arch for arch in ("bert", "distilbert", "roberta") for kind in ("head", "plain")
       if (arch, kind) != ("bert", "head")},
}

#: Whole-model fix fixtures (MLL005, MLL006) and the checkpoint each reads: base models and
#: task heads, several architectures. Their scripts may also hold a model that was loaded
#: (and is replaced or thrown away), so only the flagged line's layers are random before.
MODEL_FIX_FIXTURES: dict[str, str] = {
    "mll005_bert_head": "bert",
    "mll005_distilbert_auto": "distilbert",
    "mll005_gpt2_base": "gpt2",
    "mll005_roberta_field": "roberta",
    "mll006_bert_discarded": "bert",
}

#: Token ids every fixture model accepts (the tiny vocabularies have 99 entries).
INPUT_IDS = [[5, 17, 33, 48, 60, 72, 88, 94], [6, 11, 23, 35, 47, 59, 71, 83]]




def save_tiny(arch: str, folder: Path, *, perturb: bool, seed: int) -> Path:
    import numpy as np
    import tensorflow as tf
    import transformers

    config_name, model_name, _, kwargs = TINY[arch]
    config = getattr(transformers, config_name)(**kwargs)
    tf.random.set_seed(seed)
    model = getattr(transformers, model_name)(config)
    model.build_in_name_scope()
    if perturb:
        # Real checkpoints have no zero biases or unit LayerNorm gammas; move every tensor
        # away from its initial value, as pretraining would.
        rng = np.random.default_rng(seed)
        for variable in model.weights:
            noise = rng.normal(0.0, 0.02, variable.shape).astype(variable.dtype.as_numpy_dtype)
            variable.assign(variable.numpy() + noise)
    model.save_pretrained(folder)
    return folder


def reference_model(arch: str, checkpoint: Path) -> Any:
    """`TFXModel.from_pretrained(checkpoint)` for `arch`."""
    import transformers

    return getattr(transformers, TINY[arch][1]).from_pretrained(str(checkpoint))


@dataclass(frozen=True)
class VerifyResult:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def layers(self) -> list[dict[str, Any]]:
        return list(json.loads(self.stdout)["layers"])

    @property
    def document(self) -> dict[str, Any]:
        return dict(json.loads(self.stdout))

    @property
    def statuses(self) -> list[str]:
        return [layer["status"] for layer in self.layers]


def subprocess_env(checkpoint: Path | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    if checkpoint is not None:
        env["LML_CHECKPOINT"] = str(checkpoint)
    return env


def verify_subprocess(*argv: str, checkpoint: Path | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """`lint-mainlayer verify ARGV`, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "lint_mainlayer", "verify", *argv],
        cwd=REPO,
        env=subprocess_env(checkpoint),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
