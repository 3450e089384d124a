"""`record`: `dataclasses.dataclass` for the shapes this package uses, at a fraction of the
cost of creating the class.

`@dataclass(frozen=True)` compiles six generated methods per class (`__init__`, `__repr__`,
`__eq__`, `__hash__`, `__setattr__`, `__delattr__`), ~0.5 ms a class: with the ~60 classes
a lint run imports, a quarter of a small file's whole run. `record` lets `dataclasses` do
the field processing (it compiles nothing with `init`, `repr` and `eq` off), compiles only
`__init__`, and gives the other methods as closures over one shared code object each, bound
to the class's fields. The class stays a real dataclass (`fields`, `replace`, `asdict`,
`is_dataclass`, `__match_args__`, pickling) with the methods `dataclass` would give it.
Whatever `record` does not handle the same way goes to `dataclasses.dataclass` unchanged.
"""

from __future__ import annotations

import abc
import dataclasses
import inspect
import operator
from _thread import get_ident
from collections.abc import Callable
from keyword import iskeyword
from typing import Any, Final, TypeVar, dataclass_transform, overload

_T = TypeVar("_T")

# Set on every class `record` made itself; the value is how many methods it compiled
# (1: `__init__`; 3 when a frozen record subclasses a frozen dataclass, whose `__setattr__`
# and `__delattr__` only `dataclasses` may add past its frozen-base check).
MARKER: Final = "__record_compiled__"

_PLACEHOLDER_DOC: Final = "record: set before dataclasses makes one from a signature"


class _HasDefaultFactory:
    # dataclasses' sentinel shows as `<factory>` in the signature; so does this one.
    def __repr__(self) -> str:
        return "<factory>"


_HAS_DEFAULT_FACTORY: Final = _HasDefaultFactory()


@overload
def record(cls: type[_T], /) -> type[_T]: ...


@overload
def record(
    cls: None = None,
    /,
    *,
    init: bool = True,
    repr: bool = True,
    eq: bool = True,
    order: bool = False,
    unsafe_hash: bool = False,
    frozen: bool = False,
    match_args: bool = True,
    kw_only: bool = False,
    slots: bool = False,
    weakref_slot: bool = False,
) -> Callable[[type[_T]], type[_T]]: ...


@dataclass_transform(field_specifiers=(dataclasses.field, dataclasses.Field))
def record(
    cls: type[_T] | None = None,
    /,
    *,
    init: bool = True,
    repr: bool = True,
    eq: bool = True,
    order: bool = False,
    unsafe_hash: bool = False,
    frozen: bool = False,
    match_args: bool = True,
    kw_only: bool = False,
    slots: bool = False,
    weakref_slot: bool = False,
) -> type[_T] | Callable[[type[_T]], type[_T]]:
    """`dataclasses.dataclass` with the same arguments and the same class, made cheaply."""
    options = {
        "init": init,
        "repr": repr,
        "eq": eq,
        "order": order,
        "unsafe_hash": unsafe_hash,
        "frozen": frozen,
        "match_args": match_args,
        "kw_only": kw_only,
        "slots": slots,
        "weakref_slot": weakref_slot,
    }

    def wrap(klass: type[_T]) -> type[_T]:
        return _make(klass, options)

    return wrap if cls is None else wrap(cls)


def _make(cls: type[_T], options: dict[str, bool]) -> type[_T]:
    frozen = options["frozen"]
    if not _handled(cls, options):
        return dataclasses.dataclass(cls, **options)
    frozen_base = _frozen_dataclass_base(cls)
    # Whether the class spells its own hash, as dataclasses judges it (before any `__eq__`
    # is added; a class whose body defines `__eq__` alone has a `__hash__` of None).
    class_hash = cls.__dict__.get("__hash__", dataclasses.MISSING)
    explicit_hash = not (
        class_hash is dataclasses.MISSING or (class_hash is None and "__eq__" in cls.__dict__)
    )
    own_doc = cls.__dict__.get("__doc__")
    if not own_doc:
        # Without a docstring dataclasses builds one from `inspect.signature(cls)`, which
        # would see no `__init__` yet; it is built below, after `__init__`, as dataclasses does.
        cls.__doc__ = _PLACEHOLDER_DOC
    # The field processing only: with these flags dataclasses compiles nothing (but the
    # frozen methods when a frozen base makes it check the flag; see MARKER).
    dataclasses.dataclass(
        cls,
        init=False,
        repr=False,
        eq=False,
        frozen=frozen and frozen_base,
        match_args=options["match_args"],
        kw_only=options["kw_only"],
    )
    params = cls.__dict__["__dataclass_params__"]
    params.init = True
    params.repr = options["repr"]
    params.eq = options["eq"]
    params.frozen = frozen
    fields = dataclasses.fields(cls)  # type: ignore[arg-type]
    all_fields: dict[str, dataclasses.Field[Any]] = cls.__dict__["__dataclass_fields__"]
    init = _init_fn(cls, fields, frozen, "__dataclass_self__" if "self" in all_fields else "self")
    # What the class gets, in the order dataclasses adds it; a method the class body
    # defines is kept, as dataclasses keeps it.
    methods: dict[str, Any] = {}
    if init is not None:
        methods["__init__"] = init
    if options["repr"] and "__repr__" not in cls.__dict__:
        methods["__repr__"] = _repr_fn([f.name for f in fields if f.repr])
    if options["eq"] and "__eq__" not in cls.__dict__:
        methods["__eq__"] = _eq_fn(_tuple_getter([f.name for f in fields if f.compare]))
    if frozen and not frozen_base:
        names = frozenset(f.name for f in fields)
        methods["__setattr__"] = _setattr_fn(cls, names)
        methods["__delattr__"] = _delattr_fn(cls, names)
    if options["eq"] and not explicit_hash:
        if frozen:
            hashed = [f.name for f in fields if (f.compare if f.hash is None else f.hash)]
            methods["__hash__"] = _hash_fn(_tuple_getter(hashed))
        else:
            methods["__hash__"] = None
    methods[MARKER] = 3 if frozen and frozen_base else 1
    for name, value in methods.items():
        if callable(value):
            # Each is a function of its own, named as dataclasses names its methods.
            value.__qualname__ = f"{cls.__qualname__}.{name}"
        setattr(cls, name, value)
    if not own_doc:
        cls.__doc__ = cls.__name__ + _signature_text(cls, fields, init is not None)
    abc.update_abstractmethods(cls)
    return cls


def _handled(cls: type, options: dict[str, bool]) -> bool:
    """Whether `record` makes `cls` as `dataclass(**options)` would; otherwise dataclasses
    makes it (and raises what it raises)."""
    if not options["init"] or options["order"] or options["unsafe_hash"]:
        return False
    if options["slots"] or options["weakref_slot"]:
        return False
    if options["frozen"] and ("__setattr__" in cls.__dict__ or "__delattr__" in cls.__dict__):
        return False
    # A frozen dataclass may only subclass frozen ones and the reverse; dataclasses says so.
    bases = [b for b in cls.__mro__[1:] if "__dataclass_fields__" in b.__dict__]
    if bases and _frozen_dataclass_base(cls) != options["frozen"]:
        return False
    # The class's own annotations, read as dataclasses reads them.
    annotations: dict[Any, Any] = cls.__dict__.get("__annotations__", {})  # noqa: RUF063
    # The generated `__init__` is source made of field names: only identifiers go in it.
    if not all(isinstance(name, str) and name.isidentifier() and not iskeyword(name) for name in annotations):
        return False
    # InitVars reach `__post_init__`; a string annotation naming one falls back too (it may
    # be a false alarm, which only costs time).
    for annotation in annotations.values():
        if isinstance(annotation, str):
            if "InitVar" in annotation:
                return False
        elif annotation is dataclasses.InitVar or isinstance(annotation, dataclasses.InitVar):
            return False
    return True


def _frozen_dataclass_base(cls: type) -> bool:
    return any(
        getattr(b, "__dataclass_params__").frozen  # noqa: B009 (type has no such attribute)
        for b in cls.__mro__[1:]
        if "__dataclass_fields__" in b.__dict__
    )


def _init_fn(
    cls: type, fields: tuple[dataclasses.Field[Any], ...], frozen: bool, self_name: str
) -> Callable[..., None] | None:
    """`__init__` as dataclasses writes it, compiled once; None when the class has its own
    (dataclasses still checks the order of defaults then)."""
    params: list[str] = []
    kw_params: list[str] = []
    body: list[str] = []
    namespace: dict[str, Any] = {
        "__record_setattr__": object.__setattr__,
        "__record_has_factory__": _HAS_DEFAULT_FACTORY,
    }
    annotations: dict[str, Any] = {}
    seen_default = False
    for f in fields:
        has_default = not (
            f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        )
        if f.init and not f.kw_only:
            if has_default:
                seen_default = True
            elif seen_default:
                raise TypeError(f"non-default argument {f.name!r} follows default argument")
    if "__init__" in cls.__dict__:
        return None
    for f in fields:
        default_name = f"__record_dflt_{f.name}__"
        if f.default_factory is not dataclasses.MISSING:
            namespace[default_name] = f.default_factory
            if f.init:
                value = f"{default_name}() if {f.name} is __record_has_factory__ else {f.name}"
            else:
                value = f"{default_name}()"
        elif f.init:
            value = f.name
        else:
            # Reading it finds the class attribute that holds the default (or nothing).
            value = ""
        if f.init:
            annotations[f.name] = f.type
            if f.default_factory is not dataclasses.MISSING:
                default = "=__record_has_factory__"
            elif f.default is not dataclasses.MISSING:
                namespace[default_name] = f.default
                default = f"={default_name}"
            else:
                default = ""
            (kw_params if f.kw_only else params).append(f"{f.name}{default}")
        if value:
            if frozen:
                body.append(f"__record_setattr__({self_name}, {f.name!r}, {value})")
            else:
                body.append(f"{self_name}.{f.name} = {value}")
    if hasattr(cls, "__post_init__"):
        body.append(f"{self_name}.__post_init__()")
    if kw_params:
        params += ["*", *kw_params]
    annotations["return"] = None
    source = (
        f"def __init__({', '.join([self_name, *params])}):\n"
        + "".join(f"    {line}\n" for line in body or ["pass"])
    )
    exec(source, namespace)  # noqa: S102 (the source is built from field names above)
    fn: Callable[..., None] = namespace["__init__"]
    fn.__annotations__ = annotations
    return fn


def _signature_text(cls: type, fields: tuple[dataclasses.Field[Any], ...], ours: bool) -> str:
    """What dataclasses puts after the name in a docstring it makes: `str(inspect.signature(cls))`
    without ` -> None`. Written from the fields when the `__init__` is ours: `inspect.signature`
    costs ~25 us a class, a tenth of the rest."""
    if not ours:
        try:
            return str(inspect.signature(cls)).replace(" -> None", "")
        except (TypeError, ValueError):
            return ""
    # inspect.Parameter's and inspect.Signature's formatting, for annotated parameters.
    params: list[str] = []
    kw_params: list[str] = []
    for f in fields:
        if not f.init:
            continue
        text = f"{f.name}: {inspect.formatannotation(f.type)}"
        if f.default_factory is not dataclasses.MISSING:
            text += f" = {_HAS_DEFAULT_FACTORY!r}"
        elif f.default is not dataclasses.MISSING:
            text += f" = {f.default!r}"
        (kw_params if f.kw_only else params).append(text)
    if kw_params:
        params += ["*", *kw_params]
    return f"({', '.join(params)}) -> None".replace(" -> None", "")


def _tuple_getter(names: list[str]) -> Callable[[Any], tuple[Any, ...]]:
    # A tuple always, as dataclasses compares and hashes `(self.a,)`: an attrgetter of one
    # name gives the bare value.
    if len(names) >= 2:
        return operator.attrgetter(*names)
    if names:
        get = operator.attrgetter(names[0])
        return lambda obj: (get(obj),)
    return lambda obj: ()


def _repr_fn(names: list[str]) -> Callable[[Any], str]:
    running: set[tuple[int, int]] = set()

    def __repr__(self: Any) -> str:
        # "..." for an instance that reaches itself, as dataclasses' repr does.
        key = id(self), get_ident()
        if key in running:
            return "..."
        running.add(key)
        try:
            inner = ", ".join(f"{name}={getattr(self, name)!r}" for name in names)
        finally:
            running.discard(key)
        return f"{self.__class__.__qualname__}({inner})"

    return __repr__


def _eq_fn(values: Callable[[Any], tuple[Any, ...]]) -> Callable[[Any, Any], Any]:
    def __eq__(self: Any, other: Any) -> Any:
        if other.__class__ is self.__class__:
            return values(self) == values(other)
        return NotImplemented

    return __eq__


def _hash_fn(values: Callable[[Any], tuple[Any, ...]]) -> Callable[[Any], int]:
    def __hash__(self: Any) -> int:
        return hash(values(self))

    return __hash__


def _setattr_fn(cls: type[Any], names: frozenset[str]) -> Callable[[Any, str, Any], None]:
    def __setattr__(self: Any, name: str, value: Any) -> None:
        if type(self) is cls or name in names:
            raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")
        super(cls, self).__setattr__(name, value)

    return __setattr__


def _delattr_fn(cls: type[Any], names: frozenset[str]) -> Callable[[Any, str], None]:
    def __delattr__(self: Any, name: str) -> None:
        if type(self) is cls or name in names:
            raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")
        super(cls, self).__delattr__(name)

    return __delattr__

