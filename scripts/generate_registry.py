"""Generate `lint_mainlayer/data/main_layers.json` from transformers' installed source.

Usage: python scripts/generate_registry.py [--check] [--output PATH] [--transformers-dir DIR]

The source is only parsed (libcst), never imported: importing transformers would pull in
TensorFlow, and the table must be reproducible on machines that have neither installed.
`--check` exits 1 when the checked-in table differs from what this script would write.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import json
import os
import re
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import libcst as cst
import libcst.matchers as m

DEFAULT_OUTPUT = (
    Path(__file__).resolve().parent.parent
    / "lint_mainlayer"
    / "data"
    / "main_layers.json"
)

_MAIN_LAYER = re.compile(r"^TF\w*MainLayer$")
# Bart and its copies spell it `TFBartPretrainedModel`.
_PRETRAINED = re.compile(r"^TF\w*Pre[Tt]rainedModel$")
# Cheap text filter so only the few files that define a main layer get parsed.
_MAIN_LAYER_DEF = re.compile(r"^class TF\w*MainLayer\b", re.MULTILINE)
# Words that mark a model class as carrying a task head rather than being the bare base model.
_HEAD_MARKERS = ("For", "Head", "With")


@dataclass(frozen=True)
class _Holding:
    """`self.<field> = <layer>(...)` inside a class's `__init__`."""

    field: str
    layer: str
    call: cst.Call


@dataclass(frozen=True)
class _Class:
    name: str
    bases: tuple[str, ...]
    config_class: str | None
    init: cst.FunctionDef | None
    holdings: tuple[_Holding, ...]


# --- exports ---------------------------------------------------------------------------------


def _fetch_all(text: str) -> list[str]:
    # Mirrors transformers.utils.import_utils.fetch__all__ line for line: exports are decided by
    # that textual parser (last line starting with `__all__`), not by what Python would evaluate.
    if "__all__" not in text:
        return []
    lines = text.splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("__all__")]
    if not starts:
        return []
    lines = lines[starts[-1] :]
    if lines[0].endswith("]"):
        return [
            obj.strip("\"' ") for obj in lines[0].split("=")[1].strip(" []").split(",")
        ]
    names: list[str] = []
    for line in lines[1:]:
        if line.strip() == "]":
            break
        names.append(line.strip("\"', "))
    return names


def _requires_exports(text: str) -> set[str]:
    # Mirrors the `@requires` scan in create_import_structure_from_path: the first top-level
    # `class`/`def` line after an `@requires(...)` line is exported, whatever sits in between.
    exported: set[str] = set()
    previous = ""
    for line in text.split("\n"):
        if line.startswith((" ", "\t", "@", ")")) and not line.startswith("@requires"):
            continue
        skip = False
        if "@requires" in previous:
            if line.startswith(("class", "def")):
                start = 6 if line.startswith("class") else 4
                exported.add(line[start:].split("(")[0].strip(":"))
            else:
                skip = True
        if not skip:
            previous = line
    return exported


def _models_exports(directory: Path) -> set[str]:
    # Mirrors create_import_structure_from_path: every sub-folder (deprecated/ included), every
    # .py file but __init__.py, and modular_*.py dropped when the folder also has modeling_*.
    names: set[str] = set()
    files: list[str] = []
    for entry in sorted(os.listdir(directory)):
        if (directory / entry).is_dir():
            if entry != "__pycache__":
                names |= _models_exports(directory / entry)
        elif entry != "__init__.py":
            files.append(entry)
    if any("modular_" in f for f in files) and any("modeling_" in f for f in files):
        files = [f for f in files if "modular_" not in f]
    for file in files:
        if not file.endswith(".py"):
            continue
        text = (directory / file).read_text("utf-8")
        if "@requires" in text:
            names |= _requires_exports(text)
        names.update(_fetch_all(text))
    return names


def _is_import_structure(node: cst.BaseExpression) -> bool:
    return m.matches(
        node,
        m.Name("_import_structure") | m.Subscript(value=m.Name("_import_structure")),
    )


def _string_values(node: cst.CSTNode) -> Iterator[str]:
    for string in m.findall(node, m.SimpleString()):
        assert isinstance(string, cst.SimpleString)
        value = string.evaluated_value
        if isinstance(value, str):
            yield value


def _top_level_exports(init: cst.Module) -> set[str]:
    # The hand-written `_import_structure` of transformers/__init__.py: a dict literal, then
    # `_import_structure[...] = [...]` and `_import_structure[...].extend([...])` per backend.
    # Before ~4.45 every model's objects were listed here; in 4.57 only non-model objects are.
    names: set[str] = set()
    for node in m.findall(init, m.Assign() | m.Call()):
        if isinstance(node, cst.Assign):
            if not any(_is_import_structure(t.target) for t in node.targets):
                continue
            if isinstance(node.value, cst.Dict):
                for element in node.value.elements:
                    if isinstance(element, cst.DictElement):
                        names.update(_string_values(element.value))
            else:
                names.update(_string_values(node.value))
        elif isinstance(node, cst.Call) and m.matches(
            node.func,
            m.Attribute(
                value=m.Subscript(value=m.Name("_import_structure")),
                attr=m.Name("extend") | m.Name("append"),
            ),
        ):
            for arg in node.args:
                names.update(_string_values(arg))
    return names


def exported_names(transformers_dir: Path) -> frozenset[str]:
    """Every name `from transformers import <name>` resolves in the given source tree.

    That is the top-level `_import_structure` plus, when the top-level `__init__.py` hands
    `models/` to `define_import_structure` (4.57 does), every `__all__` entry and `@requires`
    object found by transformers' own scan of that folder.
    """
    init_text = (transformers_dir / "__init__.py").read_text("utf-8")
    names = _top_level_exports(cst.parse_module(init_text))
    if (
        "define_import_structure(" in init_text
        and (transformers_dir / "models").is_dir()
    ):
        names |= _models_exports(transformers_dir / "models")
    return frozenset(names)


# --- classes ---------------------------------------------------------------------------------


def _dotted(node: cst.BaseExpression) -> str | None:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        head = _dotted(node.value)
        return f"{head}.{node.attr.value}" if head else None
    if isinstance(node, cst.SimpleString):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return None


def _holdings(init: cst.FunctionDef) -> tuple[_Holding, ...]:
    found: list[_Holding] = []
    pattern = m.Assign(
        targets=[m.AssignTarget(target=m.Attribute(value=m.Name("self")))],
        value=m.Call(func=m.Name()),
    )
    for node in m.findall(init.body, pattern):
        assert isinstance(node, cst.Assign)
        target = node.targets[0].target
        call = node.value
        assert isinstance(target, cst.Attribute) and isinstance(call, cst.Call)
        assert isinstance(call.func, cst.Name)
        found.append(
            _Holding(field=target.attr.value, layer=call.func.value, call=call)
        )
    return tuple(found)


def _class_info(node: cst.ClassDef) -> _Class:
    config_class: str | None = None
    init: cst.FunctionDef | None = None
    for statement in node.body.body:
        if (
            isinstance(statement, cst.FunctionDef)
            and statement.name.value == "__init__"
        ):
            init = statement
        elif isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                if m.matches(
                    small,
                    m.Assign(targets=[m.AssignTarget(target=m.Name("config_class"))]),
                ):
                    assert isinstance(small, cst.Assign)
                    config_class = _dotted(small.value)
    bases = tuple(name for arg in node.bases if (name := _dotted(arg.value)))
    holdings = _holdings(init) if init is not None else ()
    return _Class(node.name.value, bases, config_class, init, holdings)


def _pretrained_base(cls: _Class, classes: dict[str, _Class]) -> str | None:
    # Nearest TF*PreTrainedModel ancestor, following bases defined in the same module.
    seen: set[str] = set()
    queue = list(cls.bases)
    while queue:
        base = queue.pop(0).rpartition(".")[2]
        if _PRETRAINED.match(base):
            return base
        if base in classes and base not in seen:
            seen.add(base)
            queue.extend(classes[base].bases)
    return None


def _parameters(init: cst.FunctionDef) -> tuple[list[cst.Param], list[cst.Param]]:
    """(positional, keyword-only) parameters, without `self`."""
    params = init.params
    positional = [*params.posonly_params, *params.params][1:]
    return positional, list(params.kwonly_params)


def _config_annotation(init: cst.FunctionDef | None) -> str | None:
    if init is None:
        return None
    positional, keyword_only = _parameters(init)
    for param in [*positional, *keyword_only]:
        if param.name.value == "config" and param.annotation is not None:
            return _dotted(param.annotation.annotation)
    return None


def _extras(module: cst.Module, init: cst.FunctionDef | None) -> list[dict[str, Any]]:
    if init is None:
        return []
    positional, keyword_only = _parameters(init)
    extras: list[dict[str, Any]] = []
    # Positions count from `config`, which is argument 0 of every main layer in transformers.
    for position, param in enumerate(positional):
        if param.name.value != "config":
            extras.append(_extra(module, param, position))
    extras.extend(_extra(module, param, None) for param in keyword_only)
    return extras


def _extra(
    module: cst.Module, param: cst.Param, position: int | None
) -> dict[str, Any]:
    default = module.code_for_node(param.default) if param.default is not None else None
    return {
        "name": param.name.value,
        "position": position,
        "required": default is None,
        "default": default,
    }


def _forwarded(model: _Class, layer: str) -> list[str]:
    """Parameters of the model's `__init__` that reach the main layer's constructor call."""
    if model.init is None:
        return []
    positional, keyword_only = _parameters(model.init)
    params = [
        p.name.value for p in [*positional, *keyword_only] if p.name.value != "config"
    ]
    used: set[str] = set()
    for holding in model.holdings:
        if holding.layer == layer:
            for arg in holding.call.args:
                used.update(
                    n.value
                    for n in m.findall(arg.value, m.Name())
                    if isinstance(n, cst.Name)
                )
    return [p for p in params if p in used]


def _choose_model(layer: str, holders: list[_Class]) -> _Class | None:
    if not holders:
        return None
    preferred = f"TF{layer[2 : -len('MainLayer')]}Model"
    for holder in holders:
        if holder.name == preferred:
            return holder
    plain = [
        h
        for h in holders
        if h.name.endswith("Model") and not any(w in h.name for w in _HEAD_MARKERS)
    ]
    return (plain or holders)[0]


def _module_name(path: Path, transformers_dir: Path) -> str:
    parts = path.relative_to(transformers_dir).with_suffix("").parts
    return ".".join(("transformers", *parts))


def _module_entries(
    path: Path, transformers_dir: Path, exported: frozenset[str]
) -> list[dict[str, Any]]:
    module = cst.parse_module(path.read_text("utf-8"))
    classes = {
        node.name.value: _class_info(node)
        for node in module.body
        if isinstance(node, cst.ClassDef)
    }
    pretrained = {name: _pretrained_base(cls, classes) for name, cls in classes.items()}
    entries: list[dict[str, Any]] = []
    for layer in (cls for name, cls in classes.items() if _MAIN_LAYER.match(name)):
        holders = [
            cls
            for cls in classes.values()
            if pretrained[cls.name] and any(h.layer == layer.name for h in cls.holdings)
        ]
        model = _choose_model(layer.name, holders)
        pretrained_class = pretrained[model.name] if model else None
        # Fall back to the config the weights are loaded with when the layer names none itself.
        fallback = (
            classes[pretrained_class].config_class
            if pretrained_class in classes
            else None
        )
        config_class = layer.config_class or _config_annotation(layer.init) or fallback
        if config_class is None:
            raise ValueError(f"{path}: cannot tell the config class of {layer.name}")
        entries.append(
            {
                "name": layer.name,
                "module": _module_name(path, transformers_dir),
                "config_class": config_class,
                "model_class": model.name if model else None,
                "fields": [h.field for h in model.holdings if h.layer == layer.name]
                if model
                else [],
                "exported": layer.name in exported,
                "pretrained_class": pretrained_class,
                "extras": _extras(module, layer.init),
                "model_extras": _forwarded(model, layer.name) if model else [],
            }
        )
    return entries


# --- table -----------------------------------------------------------------------------------


def _version_literal(init: Path) -> str:
    match = re.search(
        r"^__version__\s*=\s*[\"']([^\"']+)[\"']", init.read_text("utf-8"), re.MULTILINE
    )
    if match is None:
        raise ValueError(f"no __version__ in {init}")
    return match.group(1)


def transformers_version(transformers_dir: Path) -> str:
    """The version of the transformers source tree at `transformers_dir`.

    The installed distribution's metadata when the tree is the installed one; otherwise (a
    checkout, an unpacked sdist) the `__version__` literal of its `__init__.py`.
    """
    try:
        dist = importlib.metadata.distribution("transformers")
    except importlib.metadata.PackageNotFoundError:
        dist = None
    if dist is not None:
        installed = Path(str(dist.locate_file("transformers")))
        if installed.is_dir() and installed.resolve() == transformers_dir.resolve():
            return dist.version
    return _version_literal(transformers_dir / "__init__.py")


def find_transformers_dir() -> Path | None:
    """The installed transformers package folder, located without importing it."""
    spec = importlib.util.find_spec("transformers")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def generate(transformers_dir: Path | str) -> dict[str, Any]:
    """The registry table for the transformers source tree at `transformers_dir`."""
    root = Path(transformers_dir)
    exported = exported_names(root)
    entries: list[dict[str, Any]] = []
    # Only modeling_tf_*.py: utils/dummy_tf_objects.py also defines `class TF*MainLayer`
    # placeholders (before 4.4x), and they hold no weights.
    for path in sorted(root.rglob("modeling_tf_*.py")):
        if not _MAIN_LAYER_DEF.search(path.read_text("utf-8")):
            continue
        entries.extend(_module_entries(path, root, exported))
    entries.sort(key=lambda entry: str(entry["name"]))
    return {"transformers_version": transformers_version(root), "main_layers": entries}


def render(table: dict[str, Any]) -> str:
    """The table as the exact text checked in: sorted keys, 2-space indent, final newline."""
    return json.dumps(table, indent=2, sort_keys=True) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Write (or with `--check`, verify) the registry table; returns the exit code."""
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0] if __doc__ else None
    )
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if the table is out of date"
    )
    parser.add_argument(
        "--output", type=Path, default=DEFAULT_OUTPUT, help="table path"
    )
    parser.add_argument(
        "--transformers-dir", type=Path, help="transformers package folder"
    )
    args = parser.parse_args(argv)

    transformers_dir = args.transformers_dir or find_transformers_dir()
    if transformers_dir is None:
        print("transformers is not installed; pass --transformers-dir", file=sys.stderr)
        return 2
    text = render(generate(transformers_dir))
    output: Path = args.output
    if args.check:
        current = output.read_text("utf-8") if output.is_file() else None
        if current != text:
            print(
                f"{output} is out of date; run scripts/generate_registry.py",
                file=sys.stderr,
            )
            return 1
        return 0
    output.parent.mkdir(parents=True, exist_ok=True)
    # newline="\n" so the checked-in file is byte-identical on Windows too.
    with output.open("w", encoding="utf-8", newline="\n") as f:
        f.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
