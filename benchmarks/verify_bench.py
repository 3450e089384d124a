"""What `lint-mainlayer verify` costs over running the script itself, and print a markdown table.

    python benchmarks/verify_bench.py [--size base|small|tiny] [--runs 3] [--steps 3]

A BERT checkpoint is built locally (random weights, `save_pretrained` to a temporary
folder: nothing is downloaded); `--size base` is bert-base (110 M parameters, 440 MB of
`tf_model.h5`). A short fine-tuning script loads it with `TFBertModel.from_pretrained(...).bert`,
puts a classification head on it and runs `--steps` steps of `fit` (batch 8, 128 tokens).
The script then runs plainly (`python script.py`) and under `python -m lint_mainlayer
verify script.py`, taking turns `--runs` times after one untimed warm-up of each (file
cache). The table shows median wall times and the largest peak resident set of each
process (`wait4`), and their ratios; the targets are verify <= 1.2x the script's time and
<= 1.3x its peak memory.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

SIZES = {
    # bert-base-uncased's shapes.
    "base": {"vocab_size": 30522, "hidden_size": 768, "num_hidden_layers": 12, "num_attention_heads": 12,
             "intermediate_size": 3072, "max_position_embeddings": 512},
    "small": {"vocab_size": 30522, "hidden_size": 256, "num_hidden_layers": 4, "num_attention_heads": 4,
              "intermediate_size": 1024, "max_position_embeddings": 512},
    "tiny": {"vocab_size": 1000, "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2,
             "intermediate_size": 37, "max_position_embeddings": 512},
}

BUILD = """
import json, os, sys
import tensorflow as tf
from transformers import BertConfig, TFBertModel
config = BertConfig(**json.loads(sys.argv[2]))
tf.random.set_seed(0)
model = TFBertModel(config)
model.build_in_name_scope()
model.save_pretrained(sys.argv[1])
print(model.count_params())
"""

SCRIPT = """
import os
import numpy as np
import tensorflow as tf
from transformers import TFBertModel

CKPT = os.environ["LML_BENCH_CHECKPOINT"]
STEPS = int(os.environ["LML_BENCH_STEPS"])
bert = TFBertModel.from_pretrained(CKPT).bert
input_ids = tf.keras.Input(shape=(128,), dtype=tf.int32)
logits = tf.keras.layers.Dense(2)(bert(input_ids).pooler_output)
model = tf.keras.Model(input_ids, logits)
model.compile(optimizer=tf.keras.optimizers.Adam(2e-5),
              loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
rng = np.random.default_rng(0)
x = rng.integers(1000, 2000, (8 * STEPS, 128)).astype("int32") % bert.config.vocab_size
y = rng.integers(0, 2, (8 * STEPS,)).astype("int32")
model.fit(x, y, batch_size=8, epochs=1, verbose=0)
print("fine-tuning done")
"""


def _env(checkpoint: Path, steps: int) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        TF_USE_LEGACY_KERAS="1",
        TF_CPP_MIN_LOG_LEVEL="3",
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_VERBOSITY="error",
        LML_BENCH_CHECKPOINT=str(checkpoint),
        LML_BENCH_STEPS=str(steps),
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")])),
    )
    return env


def _measure(argv: list[str], env: dict[str, str]) -> tuple[float, int, int, str]:
    """Wall time, peak RSS in bytes, exit status and stdout of one process."""
    with tempfile.TemporaryFile() as out:
        started = time.perf_counter()
        process = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.DEVNULL, cwd=REPO)
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read().decode("utf-8", "replace")
    return elapsed, usage.ru_maxrss * 1024, process.returncode, text


def _size(n: float) -> str:
    return f"{n / 2**30:.2f} GB" if n >= 2**30 else f"{n / 2**20:.0f} MB"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=list(SIZES), default="base")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--steps", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="lml-verify-bench-") as tmp:
        root = Path(tmp)
        checkpoint = root / "checkpoint"
        env = _env(checkpoint, args.steps)
        built = subprocess.run(
            [sys.executable, "-c", BUILD, str(checkpoint), json.dumps(SIZES[args.size])],
            env=env, capture_output=True, text=True, check=True,
        )
        parameters = int(built.stdout.strip().splitlines()[-1])
        script = root / "finetune.py"
        script.write_text(textwrap.dedent(SCRIPT))
        plain = [sys.executable, str(script)]
        verify = [sys.executable, "-m", "lint_mainlayer", "verify", "--format", "json", str(script)]

        results: dict[str, list[tuple[float, int]]] = {"plain": [], "verify": []}
        report = ""
        for run in range(args.runs + 1):
            for name, argv in (("plain", plain), ("verify", verify)):
                elapsed, peak, code, out = _measure(argv, env)
                if name == "verify":
                    report = out
                    if code != 0:
                        print(out, file=sys.stderr)
                        raise SystemExit(f"verify exited with {code}")
                elif code != 0:
                    raise SystemExit(f"the script exited with {code}")
                if run:  # the first round only warms the file cache
                    results[name].append((elapsed, peak))
        statuses = [layer["status"] for layer in json.loads(report)["layers"]]

    t_plain = statistics.median(t for t, _ in results["plain"])
    t_verify = statistics.median(t for t, _ in results["verify"])
    m_plain = max(m for _, m in results["plain"])
    m_verify = max(m for _, m in results["verify"])
    time_ratio, memory_ratio = t_verify / t_plain, m_verify / m_plain
    print(
        f"{os.cpu_count()} cores, Python {platform.python_version()}, median of {args.runs} runs; "
        f"BERT {args.size} ({parameters / 1e6:.1f} M parameters), {args.steps} fit steps; "
        f"verify's verdict: {', '.join(statuses)}\n"
    )
    print("| case | script | verify | ratio | target | met |")
    print("|---|---:|---:|---:|---|---|")
    print(f"| wall time | {t_plain:.1f} s | {t_verify:.1f} s | {time_ratio:.2f}x | <= 1.2x | "
          f"{'yes' if time_ratio <= 1.2 else 'no'} |")
    print(f"| peak RSS | {_size(m_plain)} | {_size(m_verify)} | {memory_ratio:.2f}x | <= 1.3x | "
          f"{'yes' if memory_ratio <= 1.3 else 'no'} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
