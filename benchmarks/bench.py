"""Time lint-mainlayer as whole processes against ruff and grep, and print a markdown table.

    python benchmarks/bench.py [--runs 7] [--cli "lint-mainlayer"] [--only a,b,c,c+,d,e]

Time the install users have, not an editable one (whose import hook adds ~15 ms to every
process; the table's first line says which was timed):

    python -m venv /tmp/lm && /tmp/lm/bin/pip install . && python benchmarks/bench.py --cli /tmp/lm/bin/lint-mainlayer

Every case runs each tool once untimed (to warm the file cache), then `--runs` times,
the tools taking turns so that all see the same machine load; the table shows medians and
the ratios to ruff (`ruff check --isolated --no-cache --select F401`) and to
`grep -rlF MainLayer`, measured in the same run. Peak memory is the largest resident set
of the lint-mainlayer process or any of its workers (from `wait4`).

Cases:
  (a) CPython's standard library, copied without site-packages (a copy, because a
      .gitignore above the installed one may hide it); no main layers.
  (b) the installed transformers package tree, with an empty cache each run.
  (c) one small file with a main layer (it needs the rules), empty cache.
      (c+) transformers' 2,125-line modeling_tf_bert.py with a user's main-layer import
      appended (the e+ text), one cold whole process, empty cache.
  (d) (b) again with a warm cache.
  (e) one 2,000-line modeling_tf_*.py file linted as the language server lints it: in a
      warm process, the text changed between lints (as by keystrokes); time per lint.
      (e+) the same file with a user's main-layer import appended, so that the cheap
      stages cannot skip it and the full rules run.
  (f) a generated project (`pyproject.toml`, a package of a few hundred modules importing
      each other, relatively and absolutely, one builder module and one script that calls
      it with a pretrained config): the builder named alone, as pre-commit names it, with
      warm caches (summaries and results); (f0) the same with `--no-project`, so that the
      difference is the project analysis' warm cost; (f-lsp) the builder linted as the
      language server lints it (every lint reads the project again), time per lint.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

SMALL = (
    "from transformers import BertConfig, TFBertMainLayer\n"
    'config = BertConfig.from_pretrained("bert-base-uncased")\n'
    "bert = TFBertMainLayer(config)\n"
)
# What a user's file adds that the cheap stages cannot skip (case e+).
USER_TAIL = (
    "\n\nfrom transformers import BertConfig as _BertConfig, TFBertMainLayer as _Layer\n"
    '_config = _BertConfig.from_pretrained("bert-base-uncased")\n'
    "_bert = _Layer(_config)\n"
)
LSP_SCRIPT = """
import statistics, sys, time
from pathlib import Path
from lint_mainlayer import api
path, runs, tail = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
settings = api.document_settings(path.absolute()).settings
text = path.read_text("utf-8") + tail
api.check_text(text + "\\n# opened\\n", str(path), settings)  # a running server has the engine loaded
times = []
for n in range(runs):
    changed = text + f"\\n# keystroke {n}\\n"  # a new string, as each edit sends
    start = time.perf_counter()
    api.check_text(changed, str(path), settings)
    times.append(time.perf_counter() - start)
print(statistics.median(times))
"""


@dataclass
class Timing:
    seconds: list[float] = field(default_factory=list)
    peak_kb: int = 0

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


@dataclass
class Case:
    name: str
    description: str
    target: str
    commands: dict[str, list[str]]
    # Runs before each timed lint-mainlayer run (clearing or keeping the cache).
    before: Callable[[], None] = lambda: None
    # For (e): the command prints its own per-lint time instead of being timed whole.
    self_timed: bool = False
    check: Callable[[dict[str, Timing]], bool | None] = lambda t: None


def run_once(command: Sequence[str], self_timed: bool) -> tuple[float, int]:
    """Wall time (or the time the process reports) and peak RSS in KiB of one process."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert process.stdout is not None
    output = process.stdout.read()
    # wait4 gives this child's own rusage: its peak RSS, and its workers' (the largest).
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode not in (0, 1, 2):
        raise SystemExit(f"{shlex.join(command)} failed with {process.returncode}")
    if self_timed:
        elapsed = float(output.decode().strip().splitlines()[-1])
    return elapsed, int(usage.ru_maxrss)


def measure(case: Case, runs: int) -> dict[str, Timing]:
    timings = {tool: Timing() for tool in case.commands}
    for round_number in range(runs + 1):
        for tool, command in case.commands.items():
            if tool == "lint-mainlayer":
                case.before()
            seconds, peak = run_once(command, case.self_timed and tool == "lint-mainlayer")
            if round_number == 0:
                continue  # warm-up: file cache, .pyc files
            timings[tool].seconds.append(seconds)
            timings[tool].peak_kb = max(timings[tool].peak_kb, peak)
    return timings


def copy_stdlib(target: Path) -> Path:
    source = Path(sysconfig.get_paths()["stdlib"])
    shutil.copytree(
        source,
        target,
        ignore=shutil.ignore_patterns("site-packages", "dist-packages", "__pycache__", "*.pyc"),
        symlinks=True,
    )
    return target


def transformers_root() -> Path:
    spec = importlib.util.find_spec("transformers")  # found, not imported
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("transformers is not installed in this environment")
    return Path(next(iter(spec.submodule_search_locations)))


def count_py(path: Path) -> int:
    return 1 if path.is_file() else sum(1 for _ in path.rglob("*.py"))


def default_cli() -> list[str]:
    script = Path(sys.executable).with_name("lint-mainlayer")
    return [str(script)] if script.exists() else [sys.executable, "-m", "lint_mainlayer"]


def python_of(command: list[str]) -> str:
    """The interpreter behind a lint-mainlayer command: a console script's shebang."""
    first = Path(command[0])
    try:
        line = first.read_bytes().split(b"\n", 1)[0]
    except OSError:
        return command[0]
    return line[2:].decode().strip() if line.startswith(b"#!") else command[0]


def install_kind(python: str) -> str:
    """How lint-mainlayer is installed for `python` (PEP 610's direct_url.json): an editable
    install's import hook costs every process ~15 ms that a normal install does not pay."""
    probe = (
        "import importlib.metadata as m, json\n"
        "d = m.distribution('lint-mainlayer').read_text('direct_url.json')\n"
        "print('editable' if d and json.loads(d).get('dir_info', {}).get('editable') else 'normal')"
    )
    done = subprocess.run([python, "-c", probe], capture_output=True, text=True, check=False)
    return done.stdout.strip() or "unknown"


def tool(name: str) -> str:
    found = shutil.which(name) or str(Path(sys.executable).with_name(name))
    if not Path(found).exists():
        raise SystemExit(f"{name} not found")
    return found


def shown(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms" if seconds < 0.1 else f"{seconds:.2f} s"


PROJECT_MODULES = 300
BUILDER = """\
import tensorflow as tf
from transformers import TFBertMainLayer

from .m0 import helper_0


def build_model(config, num_labels=2):
    ids = tf.keras.Input(shape=(None,), dtype=tf.int32)
    bert = TFBertMainLayer(config, name="bert")
    return tf.keras.Model(ids, tf.keras.layers.Dense(num_labels)(bert(ids)[1]))
"""
SCRIPT = """\
from transformers import AutoConfig

from proj.modeling import build_model
from . import m1

config = AutoConfig.from_pretrained("bert-base-uncased")
model = build_model(config)
m1.helper_1(model)
"""


def make_project(root: Path, modules: int = PROJECT_MODULES) -> Path:
    """A project of `modules` modules importing each other, a builder and a script."""
    package = root / "proj"
    package.mkdir(parents=True)
    (root / "pyproject.toml").write_text('[project]\nname = "proj"\nversion = "0"\n')
    (package / "__init__.py").write_text("")
    for n in range(modules):
        imports = [f"from .m{(n + 1) % modules} import helper_{(n + 1) % modules}",
                   f"import proj.m{(n + 7) % modules} as other"]
        body = [f"def helper_{n}(value):", f"    return helper_{(n + 1) % modules}(value) if value else other",
                "", "", f"class Thing{n}:", "    def __init__(self, size):", "        self.size = size", ""]
        (package / f"m{n}.py").write_text("\n".join([*imports, "", "", *body]))
    (package / "modeling.py").write_text(BUILDER)
    (package / "train.py").write_text(SCRIPT)
    return package / "modeling.py"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--cli", help="the lint-mainlayer command (default: the one next to this Python)")
    parser.add_argument("--only", default="a,b,c,c+,d,e,f", help="comma-separated cases")
    args = parser.parse_args(argv)
    cli = shlex.split(args.cli) if args.cli else default_cli()
    lint_python = sys.executable if not args.cli else python_of(cli)
    kind = install_kind(lint_python)
    ruff = [tool("ruff"), "check", "--isolated", "--no-cache", "--select", "F401", "--exit-zero", "-q"]
    grep = [tool("grep"), "-rlF", "MainLayer"]
    wanted = set(args.only.split(","))
    if os.environ.pop("PYTHONDONTWRITEBYTECODE", None):
        # Without .pyc files every run compiles lint-mainlayer's modules from source (~0.1 s
        # more per process): no installed tool runs so, and the warm-up round writes them.
        print("PYTHONDONTWRITEBYTECODE unset for the measured processes", file=sys.stderr)

    with tempfile.TemporaryDirectory(prefix="lint-mainlayer-bench-") as scratch_name:
        scratch = Path(scratch_name)
        cache_dir = scratch / "cache"
        lint = [*cli, "-q", "--exit-zero", "--cache-dir", str(cache_dir)]

        def clear_cache() -> None:
            shutil.rmtree(cache_dir, ignore_errors=True)

        tf_root = transformers_root()
        small = scratch / "small" / "train.py"
        small.parent.mkdir()
        small.write_text(SMALL)
        modeling = tf_root / "models" / "bert" / "modeling_tf_bert.py"
        cases: list[Case] = []
        if "a" in wanted:
            print("copying the standard library ...", file=sys.stderr)
            stdlib = copy_stdlib(scratch / "stdlib")
            cases.append(Case("a", f"stdlib, {count_py(stdlib)} files, no main layer", "<= 0.15 s and < ruff",
                              {"lint-mainlayer": [*lint, str(stdlib)], "ruff": [*ruff, str(stdlib)],
                               "grep": [*grep, str(stdlib)]}, clear_cache))
            cases[-1].check = lambda t: t["lint-mainlayer"].median <= 0.15 and t["lint-mainlayer"].median < t["ruff"].median
        if "b" in wanted:
            cases.append(Case("b", f"transformers {count_py(tf_root)} files, cold", "<= 3x ruff",
                              {"lint-mainlayer": [*lint, str(tf_root)], "ruff": [*ruff, str(tf_root)],
                               "grep": [*grep, str(tf_root)]}, clear_cache))
            cases[-1].check = lambda t: t["lint-mainlayer"].median <= 3 * t["ruff"].median
        if "c" in wanted:
            cases.append(Case("c", "one small file with a main layer, cold", "<= 0.10 s",
                              {"lint-mainlayer": [*lint, str(small)], "ruff": [*ruff, str(small)],
                               "grep": [*grep, str(small)]}, clear_cache))
            cases[-1].check = lambda t: t["lint-mainlayer"].median <= 0.10
        if "c+" in wanted:
            big = scratch / "big" / modeling.name
            big.parent.mkdir()
            big.write_text(modeling.read_text("utf-8") + USER_TAIL, "utf-8")
            lines = big.read_text("utf-8").count("\n")
            cases.append(Case("c+", f"{modeling.name} with a user's main layer appended ({lines} lines), cold",
                              "<= 0.15 s",
                              {"lint-mainlayer": [*lint, str(big)], "ruff": [*ruff, str(big)],
                               "grep": [*grep, str(big)]}, clear_cache))
            cases[-1].check = lambda t: t["lint-mainlayer"].median <= 0.15
        if "d" in wanted:
            def warm() -> None:
                if not cache_dir.exists():
                    subprocess.run([*lint, str(tf_root)], capture_output=True, check=False)

            cases.append(Case("d", f"transformers {count_py(tf_root)} files, warm cache", "< 0.1 s",
                              {"lint-mainlayer": [*lint, str(tf_root)], "ruff": [*ruff, str(tf_root)],
                               "grep": [*grep, str(tf_root)]}, warm))
            cases[-1].check = lambda t: t["lint-mainlayer"].median < 0.1
        if "e" in wanted:
            lines = modeling.read_text("utf-8").count("\n")
            for suffix, tail, label in (("", "", "skipped by the cheap stages"), ("+", USER_TAIL, "full rules")):
                cases.append(Case(
                    f"e{suffix}", f"language server: {modeling.name} ({lines} lines), {label}, per lint", "<= 0.10 s",
                    {"lint-mainlayer": [lint_python, "-c", LSP_SCRIPT, str(modeling), str(args.runs), tail],
                     "ruff": [*ruff, str(modeling)], "grep": [*grep, str(modeling)]},
                    self_timed=True,
                ))
                cases[-1].check = lambda t: t["lint-mainlayer"].median <= 0.10

        if "f" in wanted:
            builder = make_project(scratch / "project")
            count = count_py(builder.parent)

            def warm_project() -> None:
                if not cache_dir.exists():
                    subprocess.run([*lint, str(builder)], capture_output=True, check=False)
                    subprocess.run([*lint, "--no-project", str(builder)], capture_output=True, check=False)

            for suffix, extra, label in (("", [], "project analysis"), ("0", ["--no-project"], "--no-project")):
                cases.append(Case(
                    f"f{suffix}", f"project of {count} modules, the builder named alone, warm caches, {label}",
                    "< f0 + 50 ms" if not suffix else "",
                    {"lint-mainlayer": [*lint, *extra, str(builder)], "ruff": [*ruff, str(builder)],
                     "grep": [*grep, str(builder)]}, warm_project,
                ))
            cases.append(Case(
                "f-lsp", f"language server: the builder of the project of {count} modules, per lint", "< 0.3 s",
                {"lint-mainlayer": [lint_python, "-c", LSP_SCRIPT, str(builder), str(args.runs), ""],
                 "ruff": [*ruff, str(builder)], "grep": [*grep, str(builder)]},
                self_timed=True,
            ))
            cases[-1].check = lambda t: t["lint-mainlayer"].median < 0.3

        load_before = os.getloadavg()[0]
        rows = []
        for case in cases:
            print(f"case ({case.name}) ...", file=sys.stderr)
            timings = measure(case, args.runs)
            clear_cache()
            rows.append((case, timings))
        load_after = os.getloadavg()[0]

    print(f"{os.cpu_count()} cores ({len(os.sched_getaffinity(0))} usable), Python {sys.version.split()[0]}, "
          f"median of {args.runs} runs, load average {load_before:.1f} before / {load_after:.1f} after, "
          f"lint-mainlayer: {kind} install\n")
    print("| case | lint-mainlayer | ruff F401 | grep | vs ruff | vs grep | peak RSS | target | met |")
    print("|---|---:|---:|---:|---:|---:|---:|---|---|")
    medians = {case.name: t["lint-mainlayer"].median for case, t in rows}
    for case, t in rows:
        ours, theirs, grepped = t["lint-mainlayer"].median, t["ruff"].median, t["grep"].median
        met = case.check(t)
        if case.name == "f" and "f0" in medians:
            met = ours < medians["f0"] + 0.05
        print(f"| ({case.name}) {case.description} | {shown(ours)} | {shown(theirs)} | {shown(grepped)} | "
              f"{ours / theirs:.2f}x | {ours / grepped:.2f}x | {t['lint-mainlayer'].peak_kb / 1024:.0f} MB | "
              f"{case.target} | {'yes' if met else ('-' if not case.target else 'no')} |")
    if any(case.self_timed for case, _ in rows):
        print("\n(e): lint-mainlayer is timed per lint inside a warm process, as the language server runs;"
              " ruff and grep are whole processes on the same file.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
