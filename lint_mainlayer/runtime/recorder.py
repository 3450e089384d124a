"""Recording the main layers a script constructs, and noticing when they are first used.

Everything is patched lazily: a module that the script has not imported yet is patched
right after it is imported (a `sys.meta_path` finder wraps its loader), so installing the
recorder imports neither TensorFlow nor transformers, and the script's own environment set-up
(`os.environ[...]` before `import tensorflow`) still works. Every patch is undone on exit.

What is patched, and why:
- each registry main layer class's `__init__` (record the layer and the user's call site)
  and `__call__` (a call on real tensors is a use; called after the original, so a layer
  that the call builds is compared with its fresh weights, before any training step);
- `PretrainedConfig.from_pretrained` and `AutoConfig.from_pretrained`: transformers 4.57
  leaves `name_or_path` empty on configs from `XConfig.from_pretrained`, so the checkpoint
  a config came from is remembered here;
- `TFPreTrainedModel.from_pretrained`: layers built inside it belong to that checkpoint,
  and its own calls on dummy inputs are not uses;
- Keras `Model.fit/evaluate/predict/*_on_batch/__call__`: a use of every main layer the
  model holds (before the method runs, so `--stop-at-first-use` takes seconds).

And, for where the weights came from (provenance): every checkpoint the script names is a
candidate source for every layer, so a layer filled from checkpoint B is judged against B:
- `from_pretrained` of any class (models and configs), Keras `Model.load_weights(path,
  by_name=...)` (also noted on each recorded layer the model holds), `tf.train.Checkpoint`
  `restore`/`read`;
- `Layer.set_weights` on a recorded layer or one of its sub-layers (an event in its history;
  the values are then found by comparing with every candidate checkpoint);
- configs read from files: `PretrainedConfig._dict_from_json_file` (`from_json_file`) and
  `json.load` of a `config.json`; a config whose values equal such a file's belongs to that
  file's folder (this covers `from_dict` and `XConfig(**json.load(...))`);
- eager `Variable.assign` to a layer's weights after its first use: the evidence, with the
  values kept at first use, that a layer was re-initialised rather than trained.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.abc
import importlib.util
import os
import sys
import sysconfig
import types
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lint_mainlayer import registry
from lint_mainlayer.runtime.report import relative_location

if TYPE_CHECKING:
    from typing_extensions import Self

_KERAS_TRAINING_MODULES = (
    "tf_keras.src.engine.training",
    "keras.src.engine.training",  # Keras 2.13-2.15, bundled with TensorFlow
    "keras.engine.training",  # Keras 2.x before 2.13
)
_MODEL_USES = ("fit", "evaluate", "predict", "train_on_batch", "test_on_batch", "predict_on_batch")
_CONFIG_MODULE = "transformers.configuration_utils"
_AUTO_CONFIG_MODULE = "transformers.models.auto.configuration_auto"
_TF_UTILS_MODULE = "transformers.modeling_tf_utils"
_KERAS_LAYER_MODULES = (
    "tf_keras.src.engine.base_layer",
    "keras.src.engine.base_layer",
    "keras.engine.base_layer",
)
_VARIABLE_MODULE = "tensorflow.python.ops.resource_variable_ops"
_TF_CHECKPOINT_MODULE = "tensorflow.python.checkpoint.checkpoint"
_CONFIG_FILE = "config.json"
_LIBRARY_PACKAGES = ("transformers", "tensorflow", "tf_keras", "keras", "lint_mainlayer", "absl")

# The checker's own work (loading reference checkpoints) must not be recorded or count as
# use; a module-level depth, since it nests and TF runs Python callbacks on this thread.
_suspend_depth = 0
_active: Recorder | None = None


@contextlib.contextmanager
def suspended() -> Iterator[None]:
    """Neither record layers nor notice uses inside this block."""
    global _suspend_depth
    _suspend_depth += 1
    try:
        yield
    finally:
        _suspend_depth -= 1


class StopScript(BaseException):
    """Raised into the script at its first use under `--stop-at-first-use`.

    A BaseException, so that the script's own `except Exception:` does not swallow it.
    """


@dataclass
class Record:
    """One main layer constructed by the script."""

    layer: Any
    entry: registry.MainLayer
    location: str | None
    config: Any
    # The checkpoint of the `from_pretrained` call that built the layer, if any.
    loaded_from: str | None
    extras: dict[str, Any]
    first_use: Any = None  # checker.FirstUse, set when a use was seen and judged
    used_at: str | None = None
    # Checkpoints loaded into a model holding the layer (`load_weights`), oldest first.
    loads: list[str] = field(default_factory=list)
    # The transformers model whose constructor built the layer (`TFBertForSequenceClassification`
    # for the `bert` of `TFBertForSequenceClassification(config)`); None for a layer built alone.
    model: str | None = None
    # What happened to the layer's weights, in order: (kind, text, location) with kind
    # "load", "set", "use" or "assign".
    events: list[tuple[str, str, str | None]] = field(default_factory=list)
    # id(variable) -> where it was first assigned after the first use (eager assign only).
    reassigned: dict[int, str] = field(default_factory=dict)

    def add_event(self, kind: str, text: str, location: str | None) -> None:
        """Note an event once: a loop that loads or assigns at one line is one event."""
        event = (kind, text, location)
        if event not in self.events:
            self.events.append(event)


@dataclass
class _Patch:
    owner: Any
    attribute: str
    original: Any  # the value in owner.__dict__, or _MISSING

    def undo(self) -> None:
        if self.original is _MISSING:
            with contextlib.suppress(AttributeError):
                delattr(self.owner, self.attribute)
        else:
            setattr(self.owner, self.attribute, self.original)


_MISSING = object()


@dataclass
class Recorder:
    """Records main layers while installed (`with Recorder(...):`).

    `judge(record, where)` is called at a layer's first use (not under
    `stop_at_first_use`, which stops the script instead) and returns the `FirstUse` to keep.
    """

    stop_at_first_use: bool = False
    judge: Callable[[Record, str], Any] | None = None
    progress: Callable[[str], None] | None = None
    records: list[Record] = field(default_factory=list)
    stopped_at: str | None = None
    _patches: list[_Patch] = field(default_factory=list)
    _config_sources: dict[int, tuple[Any, str]] = field(default_factory=dict)
    _loading: list[str] = field(default_factory=list)
    _recorded_ids: set[int] = field(default_factory=set)
    _held: dict[int, tuple[Any, int, frozenset[int]]] = field(default_factory=dict)
    _finder: Any = None
    _patched_classes: set[type] = field(default_factory=set)
    _library_roots: tuple[str, ...] = ()
    # Every checkpoint the script named, oldest first, each once.
    checkpoints: list[str] = field(default_factory=list)
    _config_files: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    _var_owner: dict[int, Record] = field(default_factory=dict)
    _writing: int = 0
    _config_loading: int = 0
    _executing_eagerly: Callable[[], bool] | None = None

    # --- installing -------------------------------------------------------------------

    def __enter__(self) -> Self:
        global _active
        if _active is not None:
            raise RuntimeError("a runtime recorder is already installed")
        _active = self
        self._library_roots = _library_roots()
        hooks = self._module_hooks()
        pending = {}
        for name, hook in hooks.items():
            module = sys.modules.get(name)
            if module is not None:
                hook(module)
            else:
                pending[name] = hook
        self._finder = _PatchOnImport(pending, self)
        sys.meta_path.insert(0, self._finder)
        self._patch_json()
        return self

    def __exit__(self, *exc: object) -> None:
        global _active
        with contextlib.suppress(ValueError):
            sys.meta_path.remove(self._finder)
        for patch in reversed(self._patches):
            patch.undo()
        self._patches.clear()
        _active = None

    def _module_hooks(self) -> dict[str, Callable[[types.ModuleType], None]]:
        hooks: dict[str, Callable[[types.ModuleType], None]] = {}
        by_module: dict[str, list[registry.MainLayer]] = {}
        for entry in registry.load().values():
            by_module.setdefault(entry.module, []).append(entry)
        for module_name, entries in by_module.items():
            hooks[module_name] = functools.partial(self._patch_layers, entries=entries)
        for module_name in _KERAS_TRAINING_MODULES:
            hooks[module_name] = self._patch_keras
        for module_name in _KERAS_LAYER_MODULES:
            hooks[module_name] = self._patch_keras_layer
        hooks[_CONFIG_MODULE] = self._patch_config
        hooks[_AUTO_CONFIG_MODULE] = self._patch_auto_config
        hooks[_TF_UTILS_MODULE] = self._patch_tf_utils
        hooks[_VARIABLE_MODULE] = self._patch_variables
        hooks[_TF_CHECKPOINT_MODULE] = self._patch_tf_checkpoint
        return hooks

    def _replace(self, owner: Any, attribute: str, value: Any) -> None:
        self._patches.append(_Patch(owner, attribute, owner.__dict__.get(attribute, _MISSING)))
        setattr(owner, attribute, value)

    # --- the patches ----------------------------------------------------------------

    def _patch_layers(self, module: types.ModuleType, entries: list[registry.MainLayer]) -> None:
        for entry in entries:
            cls = module.__dict__.get(entry.name)
            if isinstance(cls, type):
                self._patch_layer_class(cls, entry)

    def _patch_layer_class(self, cls: type, entry: registry.MainLayer) -> None:
        self._patched_classes.add(cls)
        original_init = cls.__dict__.get("__init__")
        original_call = cls.__dict__.get("__call__")
        recorder = self
        base: Any = cls  # for super() on an instance typed Any

        def __init__(layer: Any, *args: Any, **kwargs: Any) -> None:
            if original_init is not None:
                original_init(layer, *args, **kwargs)
            else:
                super(base, layer).__init__(*args, **kwargs)
            if _active is recorder and not _suspend_depth and recorder._outermost(layer) is cls:
                recorder._constructed(layer, entry, args, kwargs)

        def __call__(layer: Any, *args: Any, **kwargs: Any) -> Any:
            if original_call is not None:
                out = original_call(layer, *args, **kwargs)
            else:
                out = super(base, layer).__call__(*args, **kwargs)  # type: ignore[misc]
            # After the call: a call may build the layer, and inside a traced training step
            # no update has run yet, so the weights read now are the starting point.
            if _active is recorder and recorder._watching() and not _symbolic(args, kwargs):
                recorder._layer_used(layer)
            return out

        if original_init is not None:
            functools.update_wrapper(__init__, original_init)
        self._replace(cls, "__init__", __init__)
        self._replace(cls, "__call__", __call__)

    def _patch_keras(self, module: types.ModuleType) -> None:
        model_class = getattr(module, "Model", None)
        if model_class is None or not hasattr(model_class, "fit"):
            return
        for method in (*_MODEL_USES, "__call__"):
            original = model_class.__dict__.get(method)
            if original is not None:
                self._replace(model_class, method, _model_wrapper(self, original, method))
        original_load = model_class.__dict__.get("load_weights")
        if original_load is not None:
            self._replace(model_class, "load_weights", self._load_weights_wrapper(original_load))

    def _load_weights_wrapper(self, original: Any) -> Any:
        recorder = self

        @functools.wraps(original)
        def load_weights(model: Any, filepath: Any, *args: Any, **kwargs: Any) -> Any:
            if _active is not recorder or _suspend_depth:
                return original(model, filepath, *args, **kwargs)
            path = os.fspath(filepath)
            by_name = bool(kwargs.get("by_name", args[0] if args else False))
            location = recorder.user_location()
            recorder._writing += 1
            try:
                return original(model, filepath, *args, **kwargs)
            finally:
                recorder._writing -= 1
                recorder.note_checkpoint(path)
                held = recorder._held_ids(model)
                text = f"load_weights({path}{', by_name=True' if by_name else ''})"
                for record in recorder.records:
                    if id(record.layer) in held:
                        record.loads.append(path)
                        record.add_event("load", text, location)

        return load_weights

    def _patch_keras_layer(self, module: types.ModuleType) -> None:
        layer_class = getattr(module, "Layer", None)
        original = layer_class.__dict__.get("set_weights") if layer_class is not None else None
        if original is None:
            return
        recorder = self

        @functools.wraps(original)
        def set_weights(layer: Any, weights: Any) -> Any:
            if _active is not recorder or _suspend_depth or recorder._loading or recorder._writing:
                return original(layer, weights)
            owners = recorder._owners_of(layer)
            location = recorder.user_location()
            result = original(layer, weights)
            part = "" if all(r.layer is layer for r in owners) else f" (of {getattr(layer, 'name', '?')})"
            for record in owners:
                record.add_event("set", f"set_weights{part}", location)
            return result

        self._replace(layer_class, "set_weights", set_weights)

    def _patch_variables(self, module: types.ModuleType) -> None:
        from tensorflow.python.eager import context

        self._executing_eagerly = context.executing_eagerly
        # Once TensorFlow is fully imported, ResourceVariable holds its own copy of assign:
        # each class that has one is patched.
        for class_name in ("BaseResourceVariable", "ResourceVariable", "UninitializedVariable"):
            variable_class = getattr(module, class_name, None)
            original = variable_class.__dict__.get("assign") if isinstance(variable_class, type) else None
            if original is not None:
                self._replace(variable_class, "assign", self._assign_wrapper(original))

    def _assign_wrapper(self, original: Any) -> Any:
        recorder = self

        @functools.wraps(original)
        def assign(variable: Any, *args: Any, **kwargs: Any) -> Any:
            out = original(variable, *args, **kwargs)
            # Only eager writes by the script: loads are bracketed, and an optimizer's
            # updates run traced (fit) or through assign_sub/assign_add.
            if recorder._var_owner and _active is recorder and not _suspend_depth:
                record = recorder._var_owner.get(id(variable))
                if record is not None and not recorder._loading and not recorder._writing:
                    recorder._assigned(record, variable)
            return out

        return assign

    def _patch_tf_checkpoint(self, module: types.ModuleType) -> None:
        checkpoint_class = getattr(module, "Checkpoint", None)
        if checkpoint_class is None:
            return
        recorder = self
        for method in ("restore", "read"):
            original = checkpoint_class.__dict__.get(method)
            if original is None:
                continue

            def wrapper(checkpoint: Any, save_path: Any, *args: Any, method: Any = original, **kwargs: Any) -> Any:
                if _active is recorder and not _suspend_depth and save_path is not None:
                    recorder.note_checkpoint(os.fspath(save_path))
                return method(checkpoint, save_path, *args, **kwargs)

            self._replace(checkpoint_class, method, functools.wraps(original)(wrapper))

    def _patch_json(self) -> None:
        import json

        original = json.load
        recorder = self

        @functools.wraps(original)
        def load(fp: Any, *args: Any, **kwargs: Any) -> Any:
            result = original(fp, *args, **kwargs)
            name = getattr(fp, "name", None)
            if (
                _active is recorder
                and not _suspend_depth
                and not recorder._config_loading
                and not recorder._loading
                and isinstance(name, (str, os.PathLike))
            ):
                recorder._config_file_read(os.fspath(name), result)
            return result

        self._replace(json, "load", load)

    def _patch_config(self, module: types.ModuleType) -> None:
        base = getattr(module, "PretrainedConfig", None)
        if base is not None:
            self._wrap_config_loader(base)

    def _patch_auto_config(self, module: types.ModuleType) -> None:
        auto = getattr(module, "AutoConfig", None)
        if auto is not None:
            self._wrap_config_loader(auto)

    def _wrap_config_loader(self, owner: type) -> None:
        descriptor = owner.__dict__.get("from_pretrained")
        if not isinstance(descriptor, classmethod):
            return
        function = descriptor.__func__
        recorder = self

        @functools.wraps(function)
        def from_pretrained(cls: type, *args: Any, **kwargs: Any) -> Any:
            recorder._config_loading += 1
            try:
                result = function(cls, *args, **kwargs)
            finally:
                recorder._config_loading -= 1
            name = args[0] if args else kwargs.get("pretrained_model_name_or_path")
            config = result[0] if isinstance(result, tuple) else result
            if _active is recorder and name is not None and not _suspend_depth:
                # Strong reference: ids of dead configs could be reused by new ones.
                recorder._config_sources[id(config)] = (config, os.fspath(name))
                recorder.note_checkpoint(os.fspath(name))
            return result

        self._replace(owner, "from_pretrained", classmethod(from_pretrained))
        reader = owner.__dict__.get("_dict_from_json_file")
        if isinstance(reader, classmethod):
            read = reader.__func__

            @functools.wraps(read)
            def dict_from_json_file(cls: type, json_file: Any) -> Any:
                result = read(cls, json_file)
                # from_pretrained reads config.json too; its configs are known already, and
                # a hand-written config must not inherit a folder only because it is equal.
                if _active is recorder and not _suspend_depth and not recorder._config_loading and not recorder._loading:
                    recorder._config_file_read(os.fspath(json_file), result)
                return result

            self._replace(owner, "_dict_from_json_file", classmethod(dict_from_json_file))

    def _patch_tf_utils(self, module: types.ModuleType) -> None:
        base = getattr(module, "TFPreTrainedModel", None)
        descriptor = base.__dict__.get("from_pretrained") if base is not None else None
        if not isinstance(descriptor, classmethod):
            return
        function = descriptor.__func__
        recorder = self

        @functools.wraps(function)
        def from_pretrained(cls: type, *args: Any, **kwargs: Any) -> Any:
            name = args[0] if args else kwargs.get("pretrained_model_name_or_path")
            recorder._loading.append(os.fspath(name) if name is not None else "")
            try:
                return function(cls, *args, **kwargs)
            finally:
                recorder._loading.pop()
                if _active is recorder and name is not None and not _suspend_depth:
                    recorder.note_checkpoint(os.fspath(name))

        self._replace(base, "from_pretrained", classmethod(from_pretrained))

    # --- events -----------------------------------------------------------------------

    def _outermost(self, layer: Any) -> type | None:
        # A registry class derived from another runs both patched __init__s; the most
        # derived one records, once the whole construction is done.
        return next((c for c in type(layer).__mro__ if c in self._patched_classes), None)

    def _watching(self) -> bool:
        return (
            not _suspend_depth
            and not self._loading
            and any(r.used_at is None for r in self.records)
            and not _building_graph()
        )

    def _constructed(self, layer: Any, entry: registry.MainLayer, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        if id(layer) in self._recorded_ids:
            return  # a registry class derived from another: both __init__s ran
        self._recorded_ids.add(id(layer))
        extras = {k: v for k, v in kwargs.items() if k not in ("config", "name", "trainable")}
        positional = args[1:] if args and "config" not in kwargs else args
        for position, value in enumerate(positional, 1):
            extra = entry.extra_at(position)
            if extra is not None:
                extras[extra.name] = value
        config = getattr(layer, "config", None) or getattr(layer, "_config", None)
        loaded_from = next((n for n in reversed(self._loading) if n), None)
        record = Record(
            layer=layer,
            entry=entry,
            location=self.user_location(),
            config=config,
            loaded_from=loaded_from,
            extras=extras,
            model=self.owning_model(),
        )
        if loaded_from is not None:
            record.events.append(("load", f"from_pretrained({loaded_from})", record.location))
        self.records.append(record)
        self._say(f"{entry.name} constructed at {relative_location(record.location) or '?'}")

    def note_checkpoint(self, name: str) -> None:
        """Remember a checkpoint the script named: a candidate source of every layer."""
        if name and name not in self.checkpoints:
            self.checkpoints.append(name)

    def _config_file_read(self, path: str, content: Any) -> None:
        if os.path.basename(path) == _CONFIG_FILE and isinstance(content, dict):
            folder = os.path.dirname(path) or os.curdir
            self._config_files.append((folder, content))
            self.note_checkpoint(folder)

    def config_file_source(self, config: Any) -> str | None:
        """The folder of the last `config.json` read whose values `config` holds."""
        for folder, content in reversed(self._config_files):
            if _config_matches(config, content):
                return str(folder)
        return None

    def _owners_of(self, layer: Any) -> list[Record]:
        owners = []
        for record in self.records:
            if record.layer is layer:
                owners.append(record)
                continue
            flatten = getattr(record.layer, "_flatten_layers", None)
            if flatten is not None and any(sub is layer for sub in flatten(include_self=False)):
                owners.append(record)
        return owners

    def _assigned(self, record: Record, variable: Any) -> None:
        eager = self._executing_eagerly
        if eager is not None and not eager():
            return
        location = self.user_location()
        record.reassigned.setdefault(id(variable), location or "?")
        record.add_event("assign", "weights assigned", location)

    def config_source(self, config: Any) -> str | None:
        """The checkpoint `config` was loaded from with `from_pretrained`, if seen."""
        source = self._config_sources.get(id(config))
        return source[1] if source is not None and source[0] is config else None

    def _layer_used(self, layer: Any) -> None:
        records = [r for r in self.records if r.layer is layer and r.used_at is None]
        if records:
            self._use(records, "call")

    def _model_used(self, model: Any, kind: str) -> None:
        held = self._held_ids(model)
        records = [
            r
            for r in self.records
            if r.used_at is None and id(r.layer) in held and getattr(r.layer, "built", False)
        ]
        if records:
            self._use(records, kind)

    def _held_ids(self, model: Any) -> frozenset[int]:
        cached = self._held.get(id(model))
        if cached is not None and cached[0]() is model and cached[1] == len(self.records):
            return cached[2]
        flatten = getattr(model, "_flatten_layers", None)
        ids = frozenset(id(layer) for layer in flatten()) if flatten is not None else frozenset()
        try:
            ref: Any = weakref.ref(model)
        except TypeError:
            ref = functools.partial(_identity, model)  # models are weakref-able; a fallback
        self._held[id(model)] = (ref, len(self.records), ids)
        return ids

    def _use(self, records: list[Record], kind: str) -> None:
        where = f"{kind} at {relative_location(self.user_location()) or '?'}"
        for record in records:
            record.used_at = where
            record.events.append(("use", where, None))
            for variable in _layer_variables(record.layer):
                self._var_owner[id(variable)] = record
        if self.stop_at_first_use:
            self.stopped_at = where
            self._say(f"first use: {where}; stopping the script")
            raise StopScript(where)
        self._say(f"first use: {where}; comparing with the checkpoint")
        if self.judge is not None:
            with suspended():
                for record in records:
                    if getattr(record.layer, "built", False):
                        record.first_use = self.judge(record, where)

    def _say(self, message: str) -> None:
        if self.progress is not None:
            self.progress(message)

    def owning_model(self) -> str | None:
        """The class of the outermost transformers model (`TFPreTrainedModel`) whose
        `__init__` is running, up to the user's frame: the model a layer built now belongs to."""
        frame: types.FrameType | None = sys._getframe(1)
        found = None
        while frame is not None:
            if frame.f_code.co_name == "__init__":
                owner = frame.f_locals.get("self")
                if owner is not None and any(c.__name__ == "TFPreTrainedModel" for c in type(owner).__mro__):
                    found = type(owner).__name__
            if not _is_library(frame.f_code.co_filename, self._library_roots):
                break
            frame = frame.f_back
        return found

    def user_location(self) -> str | None:
        """`file:line` of the innermost frame outside the libraries (the user's call)."""
        frame: types.FrameType | None = sys._getframe(1)
        while frame is not None:
            filename = frame.f_code.co_filename
            if not _is_library(filename, self._library_roots):
                return f"{filename}:{frame.f_lineno}"
            frame = frame.f_back
        return None


def _model_wrapper(recorder: Recorder, original: Any, method: str) -> Any:
    kind = "call" if method == "__call__" else method

    @functools.wraps(original)
    def wrapper(model: Any, *args: Any, **kwargs: Any) -> Any:
        if (
            _active is recorder
            and recorder._watching()
            and not (method == "__call__" and _symbolic(args, kwargs))
        ):
            recorder._model_used(model, kind)
        return original(model, *args, **kwargs)

    return wrapper


class _PatchOnImport(importlib.abc.MetaPathFinder):
    """Runs a hook on a module right after it is first imported."""

    def __init__(self, hooks: dict[str, Callable[[types.ModuleType], None]], recorder: Recorder) -> None:
        self.hooks = hooks
        self.recorder = recorder

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        hook = self.hooks.get(fullname)
        if hook is None:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                break
        else:
            return None
        if spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        del self.hooks[fullname]
        spec.loader = _HookedLoader(spec.loader, hook, self.recorder)
        return spec


class _HookedLoader(importlib.abc.Loader):
    def __init__(self, loader: Any, hook: Callable[[types.ModuleType], None], recorder: Recorder) -> None:
        self._loader = loader
        self._hook = hook
        self._recorder = recorder

    def create_module(self, spec: Any) -> Any:
        return self._loader.create_module(spec)

    def exec_module(self, module: types.ModuleType) -> None:
        self._loader.exec_module(module)
        # The module keeps this loader: a later reload must not patch for a finished run.
        if _active is self._recorder:
            self._hook(module)

    def __getattr__(self, name: str) -> Any:
        # inspect and linecache ask the module's loader for its source.
        return getattr(self._loader, name)


def _identity(value: Any) -> Any:
    return value


def _layer_variables(layer: Any) -> list[Any]:
    from lint_mainlayer.runtime.weights import ordered_weights

    return ordered_weights(layer)


# Keys of a config.json that say nothing about the model's shape or that transformers
# rewrites when it loads.
_CONFIG_META = frozenset(
    {"architectures", "transformers_version", "_name_or_path", "torch_dtype", "model_type", "auto_map"}
)


def _config_matches(config: Any, content: dict[str, Any]) -> bool:
    import json

    compared = 0
    for key, value in content.items():
        if key in _CONFIG_META or not hasattr(config, key):
            continue
        try:
            # JSON normal form: tuples as lists, id2label's int keys as strings.
            same = json.dumps(getattr(config, key), sort_keys=True, default=str) == json.dumps(
                value, sort_keys=True, default=str
            )
        except (TypeError, ValueError):
            continue
        if not same:
            return False
        compared += 1
    return compared >= 3


def _library_roots() -> tuple[str, ...]:
    roots = []
    for package in _LIBRARY_PACKAGES:
        try:
            spec = importlib.util.find_spec(package)
        except (ImportError, ValueError):
            continue
        for location in (spec.submodule_search_locations or []) if spec else []:
            roots.append(os.path.realpath(location) + os.sep)
    for key in ("stdlib", "platstdlib"):
        with contextlib.suppress(KeyError):
            roots.append(os.path.realpath(sysconfig.get_paths()[key]) + os.sep)
    return tuple(dict.fromkeys(roots))


@functools.lru_cache(maxsize=4096)
def _is_library_path(filename: str, roots: tuple[str, ...]) -> bool:
    if filename.startswith("<") or "__autograph_generated_file" in filename:
        # Frozen importlib, and TF's transformed copies of the user's traced functions
        # (their callers further out are the user's real lines).
        return True
    real = os.path.realpath(filename)
    for root in roots:
        if real.startswith(root):
            # Some Pythons keep site-packages inside the stdlib folder: only the listed
            # packages count as libraries there.
            rest = real[len(root):]
            return not rest.startswith(("site-packages" + os.sep, "dist-packages" + os.sep))
    return False


def _is_library(filename: str, roots: tuple[str, ...]) -> bool:
    return _is_library_path(filename, roots)


def _symbolic(args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
    """True for calls on Keras functional-API placeholders (building a model, not using it)."""
    keras_tensor = _keras_tensor_class()
    if keras_tensor is None:
        return False
    stack: list[Any] = [*args, *kwargs.values()]
    while stack:
        item = stack.pop()
        if isinstance(item, keras_tensor):
            return True
        if isinstance(item, (list, tuple)):
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
    return False


def _keras_tensor_class() -> type | None:
    for name in ("tf_keras.src.engine.keras_tensor", "keras.src.engine.keras_tensor", "keras.engine.keras_tensor"):
        module = sys.modules.get(name)
        if module is not None and hasattr(module, "KerasTensor"):
            return module.KerasTensor  # type: ignore[no-any-return]
    return None


def _building_graph() -> bool:
    # Keras's `Model.build(input_shape)` calls the model on placeholders in a graph named
    # "build_graph": that only creates weights.
    tf = sys.modules.get("tensorflow")
    if tf is None:
        return False
    try:
        if tf.executing_eagerly():
            return False
        graph = tf.compat.v1.get_default_graph()
    except Exception:  # noqa: BLE001 - be conservative: treat as a use
        return False
    return getattr(graph, "name", "") == "build_graph"
