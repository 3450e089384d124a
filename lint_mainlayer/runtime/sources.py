"""Checkpoints as sources of tensors, read from their files one tensor at a time.

A main layer is judged against the files its weights could have come from, not against a
second model built and loaded for the purpose: building one doubles the run's memory at
real model sizes. Each tensor is read when it is compared and dropped right after, so the
checker's extra memory is about one tensor of the layer and one of the checkpoint.

Formats: Keras/transformers HDF5 (`tf_model.h5`, sharded `tf_model.h5.index.json`, any
`*.h5` that `save_weights` wrote), TF-format safetensors (`model.safetensors` that
`TFPreTrainedModel.save_pretrained(safe_serialization=True)` writes, sharded too) and TF
checkpoints (`tf.train.Checkpoint`, `save_weights(prefix)`). A hub name is looked up in the
local Hugging Face cache. What none of these covers (a PyTorch-only checkpoint, a hub name
not cached) falls back to loading the checkpoint through the model class
(`weights.load_reference`).

Tensors are paired with a layer's by name (the longest unique suffix of the `/`-separated
path, since outer prefixes vary), and can also be looked up *by value*: a fingerprint (the
shape and 32 values at fixed positions, exact) indexes the checkpoint's tensors of a given
shape, so a tensor copied from another position is found in one dictionary lookup after the
tensors of that shape have been read once.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

# Sample size of a fingerprint: enough that two different tensors of a real model never
# share one, small enough to keep for every tensor of a large model.
FINGERPRINT_SAMPLES = 32

_H5_SUFFIXES = (".h5", ".hdf5")
_TF_CKPT_SKIP = ("_CHECKPOINTABLE_OBJECT_GRAPH", ".OPTIMIZER_SLOT", "save_counter", "optimizer/")


class SourceError(Exception):
    """A checkpoint could not be read from files."""


Path = tuple[str, ...]


def split_name(name: str) -> Path:
    """`a/b/kernel:0` and `a/b/kernel/.ATTRIBUTES/VARIABLE_VALUE` as `("a", "b", "kernel")`."""
    if name.endswith("/.ATTRIBUTES/VARIABLE_VALUE"):
        name = name[: -len("/.ATTRIBUTES/VARIABLE_VALUE")]
    if ":" in name.rsplit("/", 1)[-1]:
        name = name.rsplit(":", 1)[0]
    return tuple(part for part in name.split("/") if part)


@dataclass
class Checkpoint:
    """The tensors of one checkpoint, by name, read on demand.

    `label` is the checkpoint as the script named it (a folder, a file, a hub name).
    """

    label: str
    shapes: dict[str, tuple[int, ...]]
    _read: Callable[[str], Any]
    _close: Callable[[], None] = lambda: None
    _suffixes: dict[Path, int] | None = None
    _paths: dict[str, Path] = field(default_factory=dict)
    _by_value: dict[tuple[int, ...], dict[bytes, list[str]]] = field(default_factory=dict)

    def read(self, name: str) -> Any:
        """The tensor `name` as a numpy array."""
        import numpy as np

        return np.asarray(self._read(name))

    def close(self) -> None:
        """Close the files behind the checkpoint."""
        self._close()

    def pair(self, path: Path) -> str | None:
        """The tensor whose name ends like `path` does, by the longest suffix that only
        one tensor has; None when there is none or the longest one found is shared."""
        if self._suffixes is None:
            counts: dict[Path, int] = {}
            for index, name in enumerate(self.shapes):
                parts = split_name(name)
                self._paths[name] = parts
                for start in range(len(parts)):
                    suffix = parts[start:]
                    counts[suffix] = -1 if suffix in counts else index
            self._suffixes = counts
        names = list(self.shapes)
        for start in range(len(path)):
            hit = self._suffixes.get(path[start:])
            if hit is None:
                continue
            return None if hit < 0 else names[hit]
        return None

    def find_by_value(self, value: Any, exclude: str | None = None) -> str | None:
        """A tensor of this checkpoint equal to `value` (fingerprint, then a full check)."""
        from lint_mainlayer.runtime.compare import relate

        shape = tuple(value.shape)
        index = self._by_value.get(shape)
        if index is None:
            index = {}
            for name, tensor_shape in self.shapes.items():
                if tensor_shape == shape:
                    tensor = self.read(name)
                    index.setdefault(fingerprint(tensor), []).append(name)
            self._by_value[shape] = index
        for name in index.get(fingerprint(value), ()):
            if name != exclude and relate(value, self.read(name))[0]:
                return name
        return None

    def path_of(self, name: str) -> Path:
        """`name` split into its path components."""
        return self._paths.get(name) or split_name(name)


def fingerprint(value: Any) -> bytes:
    """The shape and a fixed sample of values, as bytes: equal tensors share it."""
    import numpy as np

    flat = np.asarray(value).reshape(-1)
    positions = np.linspace(0, flat.size - 1, min(flat.size, FINGERPRINT_SAMPLES)).astype(np.int64)
    sample = flat[positions].astype(np.float32)
    return repr(tuple(np.shape(value))).encode() + sample.tobytes()


def sample(value: Any) -> Any:
    """A fixed sample of `value`'s elements (the same positions for any same-shaped tensor)."""
    import numpy as np

    flat = np.asarray(value).reshape(-1)
    count = min(flat.size, 4 * FINGERPRINT_SAMPLES)
    positions = np.linspace(0, flat.size - 1, count).astype(np.int64)
    return flat[positions].astype(np.float32)


# --- opening checkpoints -------------------------------------------------------------


def open_checkpoint(label: str, location: str | None = None) -> Checkpoint:
    """The checkpoint named `label`, read from `location` (default: `label`), which is a
    folder holding a saved model, a weights file, a TF checkpoint prefix or a hub name in
    the local cache. Raises SourceError when no readable file is found."""
    where = location or label
    if os.path.isdir(where):
        return _open_folder(label, where)
    if os.path.isfile(where):
        return _open_file(label, where)
    if os.path.isfile(where + ".index"):
        return _open_tf_checkpoint(label, where)
    cached = _from_hub_cache(where)
    if cached is not None:
        return _open_folder(label, cached)
    raise SourceError(f"{where!r} is neither a folder, a weights file nor a cached hub checkpoint")


def _open_folder(label: str, folder: str) -> Checkpoint:
    for index_name, kind in (("tf_model.h5.index.json", "h5"), ("model.safetensors.index.json", "safetensors")):
        index_path = os.path.join(folder, index_name)
        if os.path.isfile(index_path):
            with open(index_path, encoding="utf-8") as handle:
                weight_map = json.load(handle).get("weight_map", {})
            files = [os.path.join(folder, f) for f in dict.fromkeys(weight_map.values())]
            return _merge(label, [_open_file(label, f) for f in files], kind)
    for name in ("tf_model.h5", "model.safetensors"):
        path = os.path.join(folder, name)
        if os.path.isfile(path):
            return _open_file(label, path)
    h5_files = sorted(f for f in os.listdir(folder) if f.endswith(_H5_SUFFIXES))
    if len(h5_files) == 1:
        return _open_file(label, os.path.join(folder, h5_files[0]))
    checkpoint_file = os.path.join(folder, "checkpoint")
    if os.path.isfile(checkpoint_file):
        import tensorflow as tf

        prefix = tf.train.latest_checkpoint(folder)
        if prefix:
            return _open_tf_checkpoint(label, prefix)
    raise SourceError(f"no TensorFlow weights file (tf_model.h5, model.safetensors) in {folder}")


def _open_file(label: str, path: str) -> Checkpoint:
    if path.endswith(_H5_SUFFIXES):
        return _open_h5(label, path)
    if path.endswith(".safetensors"):
        return _open_safetensors(label, path)
    if path.endswith(".index") and os.path.isfile(path):
        return _open_tf_checkpoint(label, path[: -len(".index")])
    raise SourceError(f"cannot read weights from {path} (not HDF5, safetensors or a TF checkpoint)")


def _open_h5(label: str, path: str) -> Checkpoint:
    import h5py  # type: ignore[import-untyped]

    try:
        handle = h5py.File(path, "r")
    except OSError as exc:
        raise SourceError(f"cannot open {path}: {exc}") from exc
    shapes: dict[str, tuple[int, ...]] = {}

    def visit(name: str, item: Any) -> None:
        if isinstance(item, h5py.Dataset) and item.dtype.kind == "f":
            shapes[name] = tuple(item.shape)

    # A whole saved model (`model.save("x.h5")`) keeps its weights under model_weights;
    # its optimizer's slots are no source of layer weights.
    root = handle["model_weights"] if "model_weights" in handle else handle
    root.visititems(visit)
    return Checkpoint(label, shapes, lambda name: root[name][()], handle.close)


def _open_safetensors(label: str, path: str) -> Checkpoint:
    from safetensors import safe_open

    handle = safe_open(path, framework="numpy")
    metadata = handle.metadata() or {}
    if metadata.get("format", "tf") != "tf":
        raise SourceError(f"{path} holds {metadata.get('format')} weights (names and layouts differ from TF's)")
    shapes = {name: tuple(handle.get_slice(name).get_shape()) for name in handle.keys()}
    return Checkpoint(label, shapes, handle.get_tensor)


def _open_tf_checkpoint(label: str, prefix: str) -> Checkpoint:
    import tensorflow as tf

    try:
        reader = tf.train.load_checkpoint(prefix)
    except Exception as exc:  # noqa: BLE001 - a broken checkpoint is reported, not raised
        raise SourceError(f"cannot read TF checkpoint {prefix}: {exc}") from exc
    dtypes = reader.get_variable_to_dtype_map()
    shapes = {
        name: tuple(shape)
        for name, shape in reader.get_variable_to_shape_map().items()
        if dtypes[name].is_floating and not any(skip in name for skip in _TF_CKPT_SKIP)
    }
    return Checkpoint(label, shapes, reader.get_tensor)


def _merge(label: str, parts: Sequence[Checkpoint], kind: str) -> Checkpoint:
    owner: dict[str, Checkpoint] = {}
    for part in parts:
        for name in part.shapes:
            owner.setdefault(name, part)

    def close() -> None:
        for part in parts:
            part.close()

    return Checkpoint(
        label,
        {name: part.shapes[name] for name, part in owner.items()},
        lambda name: owner[name].read(name),
        close,
    )


def _from_hub_cache(name: str) -> str | None:
    # Only what is already on disk: the checker never downloads.
    if name.startswith((os.sep, ".")) or name.count("/") > 1:
        return None
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return None
    for filename in ("tf_model.h5", "model.safetensors", "tf_model.h5.index.json", "model.safetensors.index.json"):
        with contextlib.suppress(Exception):
            found = try_to_load_from_cache(name, filename)
            if isinstance(found, str):
                return os.path.dirname(found)
    return None


def from_reference(label: str, names: Iterable[str], values: Iterable[Any], loaded: Iterable[bool]) -> Checkpoint:
    """A checkpoint over tensors already in memory (the from_pretrained fallback); tensors
    that the load reported missing are left out, as a file would not hold them."""
    table = {n: v for n, v, ok in zip(names, values, loaded) if ok}
    return Checkpoint(label, {n: tuple(v.shape) for n, v in table.items()}, table.__getitem__)


@dataclass
class Library:
    """The checkpoints opened during one run, each opened once, all closed at the end."""

    opened: dict[str, Checkpoint | SourceError] = field(default_factory=dict)

    def get(self, label: str, location: str | None = None) -> Checkpoint:
        """The checkpoint `label` (from `location`), opened on first use; SourceError if not."""
        key = location or label
        found = self.opened.get(key)
        if found is None:
            try:
                found = open_checkpoint(label, location)
            except SourceError as exc:
                found = exc
            self.opened[key] = found
        if isinstance(found, SourceError):
            raise found
        return found

    def add(self, key: str, checkpoint: Checkpoint) -> None:
        """Keep a checkpoint that was not opened from files (the fallback)."""
        self.opened[key] = checkpoint

    def close(self) -> None:
        """Close every file, and forget fingerprints."""
        for found in self.opened.values():
            if isinstance(found, Checkpoint):
                with contextlib.suppress(Exception):
                    found.close()
        self.opened.clear()

    def __iter__(self) -> Iterator[Checkpoint]:
        return (c for c in self.opened.values() if isinstance(c, Checkpoint))
