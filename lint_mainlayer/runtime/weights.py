"""Finding main layers and reading their weights; loading a checkpoint through its model
class, the fallback for checkpoints that `sources` cannot read from files.

TensorFlow and transformers are imported inside the functions only.
"""

from __future__ import annotations

import contextlib
import copy
import json
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from lint_mainlayer import registry

# Extras that change how a model *names* its weights, not which weights it has: passing the
# user's value to the reference model would break loading the checkpoint.
_NAMING_EXTRAS = frozenset({"load_weight_prefix"})

T = TypeVar("T")


def main_layer_entry(obj: Any) -> registry.MainLayer | None:
    """The registry entry of a transformers main layer, or of the class it derives from."""
    table = _table()
    for klass in type(obj).__mro__:
        if klass.__module__.startswith("transformers.") and klass.__name__ in table:
            return table[klass.__name__]
    return None


def _table() -> Mapping[str, registry.MainLayer]:
    try:
        return registry.load()
    except (OSError, ValueError, KeyError):
        # Without the table nothing can be recognised; the checker then finds no layers,
        # which its output says, rather than crashing.
        return {}


def find_main_layers(obj: Any) -> list[Any]:
    """The outermost main layers in a layer or model, in tracking order, each once."""
    if main_layer_entry(obj) is not None:
        return [obj]
    found: list[Any] = []
    seen: set[int] = set()
    for child in _children(obj):
        for layer in find_main_layers(child):
            if id(layer) not in seen:
                seen.add(id(layer))
                found.append(layer)
    return found


def _children(layer: Any) -> Iterator[Any]:
    flatten = getattr(layer, "_flatten_modules", None)
    if flatten is not None:
        # `_flatten_modules` (not `.layers`) also reaches layers held in lists and dicts.
        yield from flatten(include_self=False, recursive=False)
        return
    yield from getattr(layer, "layers", ())


def ordered_weights(layer: Any) -> list[Any]:
    """The layer's variables in an order that depends on its structure only.

    `layer.weights` lists trainable variables before non-trainable ones, so freezing a
    sub-layer would reorder it; this lists each sub-layer's own variables, depth first in
    tracking order, whatever is trainable.
    """
    if not hasattr(layer, "_trainable_weights"):
        return list(getattr(layer, "weights", ()))
    out: list[Any] = []
    seen: set[int] = set()

    def visit(node: Any) -> None:
        for variable in [*getattr(node, "_trainable_weights", ()), *getattr(node, "_non_trainable_weights", ())]:
            if id(variable) not in seen:
                seen.add(id(variable))
                out.append(variable)
        for child in _children(node):
            visit(child)

    visit(layer)
    return out


def read_value(variable: Any) -> Any:
    """A numpy copy of one variable, also from inside a `tf.function` being traced."""
    import tensorflow as tf

    with tf.init_scope():
        return variable.numpy()


# Keras layers that hold weights once built: one of them left unbuilt inside a built main
# layer means the build stopped half way (Dropout and the like never hold any).
_WEIGHTED_KERAS_LAYERS = frozenset(
    {"Dense", "EinsumDense", "Embedding", "LayerNormalization", "BatchNormalization", "Conv1D", "Conv2D"}
)


def unbuilt_parts(layer: Any) -> list[str]:
    """Names of the sub-layers that hold weights when built but are not built: a main layer
    whose build was interrupted (the script failed) has weights for some parts only."""
    flatten = getattr(layer, "_flatten_layers", None)
    if flatten is None:
        return []
    missing = []
    for sub in flatten(include_self=False):
        if getattr(sub, "built", True):
            continue
        module = type(sub).__module__
        if module.startswith("transformers.") or type(sub).__name__ in _WEIGHTED_KERAS_LAYERS:
            missing.append(str(getattr(sub, "name", type(sub).__name__)))
    return missing


def layer_config(layer: Any) -> Any:
    """The transformers config the layer was built from."""
    config = getattr(layer, "config", None)
    if config is None:
        config = getattr(layer, "_config", None)
    return config


@dataclass(frozen=True)
class Reference:
    """The checkpoint's weights for one main layer, in `ordered_weights` order."""

    names: tuple[str, ...]
    values: tuple[Any, ...]
    loaded: tuple[bool, ...]


class NoReferenceError(Exception):
    """The checkpoint could not be loaded through the base model class."""


_cache: dict[tuple[str, str, str, str], Reference] = {}


def clear_cache() -> None:
    """Forget loaded checkpoints (they hold a copy of every weight)."""
    _cache.clear()


def load_reference(
    entry: registry.MainLayer,
    checkpoint: str,
    layer: Any,
    extras: dict[str, Any] | None = None,
) -> Reference:
    """`entry.model_class.from_pretrained(checkpoint).<field>`'s weights, cached.

    The user's config is passed along, so the reference has the same structure as the
    user's layer; if the checkpoint refuses it (other shapes), the checkpoint's own config
    is used and the comparison notes the differing shapes.
    """
    if entry.model_class is None:
        raise NoReferenceError(f"no transformers model class holds {entry.name}")
    kwargs = {
        k: v for k, v in (extras or {}).items() if k in entry.model_extras and k not in _NAMING_EXTRAS
    }
    config = layer_config(layer)
    key = (checkpoint, entry.model_class, _config_key(config), repr(sorted(kwargs.items())))
    if key in _cache:
        return _cache[key]

    import importlib

    module = importlib.import_module(entry.module)
    model_class = getattr(module, entry.model_class, None)
    if model_class is None:
        raise NoReferenceError(f"{entry.module} has no {entry.model_class}")
    attempts: list[dict[str, Any]] = []
    if config is not None:
        attempts.append({"config": copy.deepcopy(config)})
    attempts.append({})

    def load() -> Reference:
        with _quiet_transformers():
            errors = []
            for attempt in attempts:
                try:
                    model, info = model_class.from_pretrained(
                        checkpoint, output_loading_info=True, **kwargs, **attempt
                    )
                    break
                except Exception as exc:  # noqa: BLE001 - any failure means "cannot compare"
                    errors.append(f"{type(exc).__name__}: {_first_line(exc)}")
            else:
                raise NoReferenceError(
                    f"{entry.model_class}.from_pretrained({checkpoint!r}) failed: {errors[-1]}"
                )
            variables = ordered_weights(_held_layer(model, entry, type(layer)))
            missing = set((info or {}).get("missing_keys", ()))
            names = tuple(v.name for v in variables)
            loaded = tuple(_strip_first(n) not in missing for n in names)
            if names and not any(loaded):
                raise NoReferenceError(
                    f"{entry.model_class}.from_pretrained({checkpoint!r}) loaded none of the "
                    f"{len(names)} weights of .{'/'.join(entry.fields)}: not a checkpoint of it"
                )
            return Reference(names=names, values=tuple(v.numpy() for v in variables), loaded=loaded)

    reference = in_fresh_thread(load)
    _cache[key] = reference
    return reference


def in_fresh_thread(function: Callable[[], T]) -> T:
    """Run `function` in a new thread and return its result (or raise its exception).

    The checker may be asked to judge a layer from inside the user's model call or a
    `tf.function` being traced (its first use). Keras's call context, TF's graph and name
    scopes and a distribution strategy's scope are all per thread: building the reference
    model there would nest its weight names under the user's model, so from_pretrained would
    match none of them. A fresh thread starts eager and outside all of that.
    """
    result: list[T] = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            result.append(function())
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            failure.append(exc)

    thread = threading.Thread(target=run, name="lint-mainlayer-reference")
    thread.start()
    thread.join()
    if failure:
        raise failure[0]
    return result[0]


def _held_layer(model: Any, entry: registry.MainLayer, layer_class: type) -> Any:
    # Several fields may hold main layers (T5: encoder and decoder); take the one of the
    # user's class, else the first.
    candidates = [_dotted_get(model, f) for f in entry.fields]
    candidates = [c for c in candidates if c is not None]
    for candidate in candidates:
        if isinstance(candidate, layer_class) or type(candidate).__name__ == entry.name:
            return candidate
    if not candidates:
        raise NoReferenceError(f"{entry.model_class} has no field {' or '.join(entry.fields)}")
    return candidates[0]


def _dotted_get(obj: Any, path: str) -> Any:
    for part in path.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj


def _strip_first(name: str) -> str:
    # from_pretrained reports missing weights without the outer model's scope.
    return name.split("/", 1)[1] if "/" in name else name


def _config_key(config: Any) -> str:
    if config is None:
        return ""
    try:
        return json.dumps(config.to_dict(), sort_keys=True, default=str)
    except Exception:  # noqa: BLE001 - an odd config only costs a cache miss
        return repr(id(config))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else ""


@contextlib.contextmanager
def _quiet_transformers() -> Iterator[None]:
    # The reference load is the checker's business; its "All layers were initialized"
    # chatter would read as if it were about the user's model.
    from transformers.utils import logging as hf_logging

    previous = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    try:
        yield
    finally:
        hf_logging.set_verbosity(previous)
