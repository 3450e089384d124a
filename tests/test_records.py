"""`record` makes the class `dataclasses.dataclass` makes, compiling only `__init__`: each shape
is built by both and every behaviour the package relies on is compared."""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import pickle
import pkgutil
import re
import sys
from collections.abc import Callable
from dataclasses import KW_ONLY, FrozenInstanceError, InitVar, field
from typing import Any, ClassVar, Optional

import pytest

import lint_mainlayer
from lint_mainlayer.records import MARKER, record

Decorate = Callable[..., Any]


def _module_level(cls: type, name: str) -> type:
    # Pickle finds a class by module and qualified name.
    cls.__name__ = cls.__qualname__ = name
    cls.__module__ = __name__
    setattr(sys.modules[__name__], name, cls)
    return cls


def _frozen(d: Decorate, name: str) -> type:
    class C:
        """Doc."""

        a: int
        b: str = "x"
        c: tuple[int, ...] = field(default_factory=tuple)
        d: list[int] = field(default_factory=list, repr=False, compare=False)

    return d(frozen=True)(_module_level(C, name))


def _mutable(d: Decorate, name: str) -> type:
    class C:
        """Doc."""

        a: int
        b: str = "x"
        c: list[int] = field(default_factory=list, compare=False)

    return d(_module_level(C, name))


def _no_eq(d: Decorate, name: str) -> type:
    class C:
        """Doc."""

        a: int
        b: str = "x"

    return d(eq=False)(_module_level(C, name))


def _frozen_no_eq_no_repr(d: Decorate, name: str) -> type:
    class C:
        """Doc."""

        a: int
        b: str = "x"

    return d(frozen=True, eq=False, repr=False)(_module_level(C, name))


def _kw_only(d: Decorate, name: str) -> type:
    class C:
        """Doc."""

        a: int
        b: str = "x"
        c: int

    return d(kw_only=True, frozen=True)(_module_level(C, name))


def _kw_only_marker(d: Decorate, name: str) -> type:
    class C:
        """Doc."""

        a: int
        _: KW_ONLY
        b: str = "x"
        c: int

    return d(_module_level(C, name))


def _post_init(d: Decorate, name: str) -> type:
    class C:
        """Doc."""

        a: int
        b: int = 2
        total: int = field(init=False, default=0)
        seen: list[int] = field(init=False, default_factory=list, compare=False)
        late: int = field(init=False)
        kind: ClassVar[str] = "shape"

        def __post_init__(self) -> None:
            object.__setattr__(self, "total", self.a + self.b)
            object.__setattr__(self, "late", self.a * 10)

    return d(frozen=True)(_module_level(C, name))


def _mutable_post_init(d: Decorate, name: str) -> type:
    class C:
        """Doc."""

        a: int
        doubled: int = field(init=False)

        def __post_init__(self) -> None:
            self.doubled = 2 * self.a

    return d(_module_level(C, name))


def _frozen_subclass(d: Decorate, name: str) -> type:
    class Base:
        """Doc."""

        a: int
        b: str = "x"

    base = d(frozen=True)(_module_level(Base, name + "Base"))

    class C(base):  # type: ignore[valid-type,misc]
        """Doc."""

        c: tuple[int, ...] = ()
        b: str = "override"

    return d(frozen=True)(_module_level(C, name))


def _kw_only_subclass(d: Decorate, name: str) -> type:
    class Base:
        """Doc."""

        a: int
        b: int | None = None

    base = d(kw_only=True)(_module_level(Base, name + "Base"))

    class C(base):  # type: ignore[valid-type,misc]
        """Doc."""

        c: str
        d: bool = False

    return d(kw_only=True)(_module_level(C, name))


def _one_field(d: Decorate, name: str) -> type:
    class C:
        """Doc."""

        a: float

    return d(frozen=True)(_module_level(C, name))


def _zero_fields(d: Decorate, name: str) -> type:
    class C:
        """Doc."""

    return d(frozen=True)(_module_level(C, name))


def _no_docstring(d: Decorate, name: str) -> type:
    class C:
        a: int
        b: tuple[int, ...] = field(default_factory=tuple)

    return d(frozen=True)(_module_level(C, name))


def _self_field(d: Decorate, name: str) -> type:
    class C:
        """Doc."""

        self: int
        other: int = 1

    return d(frozen=True)(_module_level(C, name))


def _own_methods(d: Decorate, name: str) -> type:
    class C:
        """Doc."""

        a: int

        def __repr__(self) -> str:
            return f"mine {self.a}"

        def __eq__(self, other: object) -> bool:
            return isinstance(other, C) and self.a % 2 == other.a % 2

        def __hash__(self) -> int:
            return self.a % 2

    return d(frozen=True)(_module_level(C, name))


# shape -> (equal arguments twice, different arguments, a replace() change).
ARGS = tuple[tuple[Any, ...], dict[str, Any]]
SHAPES: dict[str, tuple[Callable[[Decorate, str], type], ARGS, ARGS, ARGS, dict[str, Any]]] = {
    "frozen": (_frozen, ((1, "y", (1,)), {"d": [3]}), ((1, "y", (1,)), {"d": [4]}), ((2,), {}), {"b": "z"}),
    "mutable": (_mutable, ((1,), {"c": [1]}), ((1,), {"c": [2]}), ((1, "z"), {}), {"a": 5}),
    "no_eq": (_no_eq, ((1,), {}), ((1,), {}), ((2,), {}), {"b": "q"}),
    "frozen_no_eq_no_repr": (_frozen_no_eq_no_repr, ((1,), {}), ((1,), {}), ((2,), {}), {"a": 3}),
    "kw_only": (_kw_only, ((), {"a": 1, "c": 2}), ((), {"c": 2, "a": 1, "b": "x"}), ((), {"a": 1, "c": 3}), {"c": 9}),
    "kw_only_marker": (_kw_only_marker, ((1,), {"c": 2}), ((), {"a": 1, "c": 2}), ((1,), {"c": 3}), {"b": "w"}),
    "post_init": (_post_init, ((1,), {}), ((1, 2), {}), ((1, 3), {}), {"a": 7}),
    "mutable_post_init": (_mutable_post_init, ((1,), {}), ((1,), {}), ((2,), {}), {"a": 4}),
    "frozen_subclass": (_frozen_subclass, ((1,), {}), ((1, "override", ()), {}), ((1, "x"), {}), {"c": (1,)}),
    "kw_only_subclass": (
        _kw_only_subclass,
        ((), {"a": 1, "c": "s"}),
        ((), {"c": "s", "a": 1, "d": False}),
        ((), {"a": 1, "c": "t"}),
        {"b": 2},
    ),
    "one_field": (_one_field, ((1.5,), {}), ((1.5,), {}), ((2.5,), {}), {"a": 0.5}),
    "zero_fields": (_zero_fields, ((), {}), ((), {}), ((), {}), {}),
    "no_docstring": (_no_docstring, ((1,), {}), ((1, ()), {}), ((1, (2,)), {}), {"a": 3}),
    "self_field": (_self_field, ((1,), {}), ((), {"self": 1, "other": 1}), ((1, 2), {}), {"other": 5}),
    "own_methods": (_own_methods, ((1,), {}), ((3,), {}), ((2,), {}), {"a": 5}),
}


def _pair(shape: str) -> tuple[type, type]:
    make = SHAPES[shape][0]
    made = make(record, f"Record_{shape}"), make(dataclasses.dataclass, f"Dataclass_{shape}")
    return made


def _normal(text: str, cls: type) -> str:
    # The two classes differ only in name (and their bases' names).
    for klass in cls.__mro__:
        text = text.replace(klass.__qualname__, "C")
    return re.sub(r" at 0x[0-9a-f]+", " at 0x", text)


def _field_specs(cls: type) -> list[tuple[Any, ...]]:
    return [
        (f.name, f.type, f.default, f.default_factory, f.init, f.repr, f.compare, f.hash, f.kw_only)
        for f in dataclasses.fields(cls)
    ]


@pytest.fixture(params=sorted(SHAPES))
def shape(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_the_class_is_the_dataclass(shape: str) -> None:
    rec, std = _pair(shape)
    assert rec.__dict__.get(MARKER) in (1, 3)
    assert dataclasses.is_dataclass(rec)
    assert _field_specs(rec) == _field_specs(std)
    assert repr(rec.__dataclass_params__) == repr(std.__dataclass_params__)
    assert getattr(rec, "__match_args__", None) == getattr(std, "__match_args__", None)
    assert _normal(str(inspect.signature(rec)), rec) == _normal(str(inspect.signature(std)), std)
    assert _normal(rec.__doc__ or "", rec) == _normal(std.__doc__ or "", std)
    assert (rec.__hash__ is None) == (std.__hash__ is None)
    assert (rec.__hash__ is object.__hash__) == (std.__hash__ is object.__hash__)
    assert ("__eq__" in rec.__dict__) == ("__eq__" in std.__dict__)
    assert ("__repr__" in rec.__dict__) == ("__repr__" in std.__dict__)
    assert ("__setattr__" in rec.__dict__) == ("__setattr__" in std.__dict__)
    for name in ("__init__", "__repr__", "__eq__", "__hash__", "__setattr__", "__delattr__"):
        method, std_method = rec.__dict__.get(name), std.__dict__.get(name)
        assert _normal(getattr(method, "__qualname__", ""), rec) == _normal(
            getattr(std_method, "__qualname__", ""), std
        )


def test_instances_behave_the_same(shape: str) -> None:
    rec, std = _pair(shape)
    _, (args, kwargs), (args2, kwargs2), (other_args, other_kwargs), change = SHAPES[shape]
    r1, r2, r3 = rec(*args, **kwargs), rec(*args2, **kwargs2), rec(*other_args, **other_kwargs)
    s1, s2, s3 = std(*args, **kwargs), std(*args2, **kwargs2), std(*other_args, **other_kwargs)
    assert dataclasses.asdict(r1) == dataclasses.asdict(s1)
    assert dataclasses.asdict(r3) == dataclasses.asdict(s3)
    assert vars(r1) == vars(s1)
    assert (r1 == r2, r1 == r3, r1 != r3) == (s1 == s2, s1 == s3, s1 != s3)
    assert r1.__eq__(r1) is std.__eq__(s1, s1)
    # Another class: NotImplemented, as dataclasses' `__eq__` gives, so == falls back to identity.
    assert (r1 == s1, s1 == r1) == (False, False)
    assert r1.__eq__(object()) is std.__eq__(s1, object())
    if std.__hash__ is not None:
        if std.__hash__ is object.__hash__:
            assert hash(r1) != hash(rec(*args, **kwargs)) or r1 is not r2
        else:
            assert (hash(r1), hash(r3)) == (hash(s1), hash(s3))
            assert hash(r1) == hash(r2)
    else:
        with pytest.raises(TypeError, match="unhashable"):
            hash(r1)
    assert _normal(repr(r1), rec) == _normal(repr(s1), std)
    assert _normal(repr(r3), rec) == _normal(repr(s3), std)
    replaced, std_replaced = dataclasses.replace(r1, **change), dataclasses.replace(s1, **change)
    assert dataclasses.asdict(replaced) == dataclasses.asdict(std_replaced)
    assert type(replaced) is rec
    for instance in (r1, r3):
        back = pickle.loads(pickle.dumps(instance))
        assert type(back) is rec and vars(back) == vars(instance)
        assert (back == instance) == (std.__eq__ is not object.__eq__ or back is instance)


FROZEN = ["frozen", "frozen_no_eq_no_repr", "kw_only", "post_init", "frozen_subclass", "one_field",
          "zero_fields", "no_docstring", "self_field", "own_methods"]


@pytest.mark.parametrize("shape", FROZEN)
def test_frozen_instances_refuse_assignment_and_deletion(shape: str) -> None:
    rec, std = _pair(shape)
    assert std.__dataclass_params__.frozen
    _, (args, kwargs), *_ = SHAPES[shape]
    errors = []
    for cls in (rec, std):
        instance = cls(*args, **kwargs)
        name = next(iter(vars(instance)), "anything")
        for act, act_args in ((setattr, (instance, name, 1)), (delattr, (instance, name))):
            with pytest.raises(FrozenInstanceError) as caught:
                act(*act_args)
            errors.append(str(caught.value))
        with pytest.raises(FrozenInstanceError, match="cannot assign to field 'new'"):
            instance.new = 1
    assert errors == [f"cannot assign to field {name!r}", f"cannot delete field {name!r}"] * 2


@pytest.mark.parametrize("shape", sorted(set(SHAPES) - set(FROZEN)))
def test_mutable_instances_take_assignment(shape: str) -> None:
    rec, std = _pair(shape)
    assert not std.__dataclass_params__.frozen
    _, (args, kwargs), *_ = SHAPES[shape]
    r, s = rec(*args, **kwargs), std(*args, **kwargs)
    name = dataclasses.fields(std)[0].name
    setattr(r, name, 42)
    setattr(s, name, 42)
    assert vars(r) == vars(s)
    delattr(r, name)
    assert name not in vars(r)


def test_wrong_arguments_raise_the_same_type_error(shape: str) -> None:
    rec, std = _pair(shape)
    _, (args, kwargs), *_ = SHAPES[shape]
    for call_args, call_kwargs in (((*args, 1, 2, 3, 4, 5), kwargs), ((*args,), {**kwargs, "nope": 1})):
        messages = []
        for cls in (rec, std):
            with pytest.raises(TypeError) as caught:
                cls(*call_args, **call_kwargs)
            messages.append(_normal(str(caught.value), cls))
        assert messages[0] == messages[1]
    required = [f.name for f in dataclasses.fields(std) if f.init and f.default is dataclasses.MISSING
                and f.default_factory is dataclasses.MISSING]
    if required:
        messages = []
        for cls in (rec, std):
            with pytest.raises(TypeError) as caught:
                cls()
            messages.append(_normal(str(caught.value), cls))
        assert messages[0] == messages[1]


def test_a_default_before_a_required_field_is_the_same_error() -> None:
    for decorate in (record, dataclasses.dataclass):
        with pytest.raises(TypeError, match="non-default argument 'b' follows default argument"):

            @decorate
            class Bad:
                """Doc."""

                a: int = 1
                b: int


@pytest.mark.parametrize("kw_only", [False, True])
def test_a_docstring_made_from_the_signature_is_the_same(kw_only: bool) -> None:
    # Evaluated annotations (no `from __future__ import annotations`) and every kind of default.
    body = {
        "__annotations__": {"a": int, "b": list[int], "c": Optional[str], "d": "Any", "e": dict[str, int]},  # noqa: UP045
        "b": field(default_factory=list),
        "c": None,
        "d": field(default="x -> None", repr=False),
        "e": field(init=False, default_factory=dict),
        "__module__": __name__,
    }
    rec = record(kw_only=kw_only)(type("C", (), dict(body)))
    std = dataclasses.dataclass(kw_only=kw_only)(type("C", (), dict(body)))
    assert rec.__doc__ == std.__doc__
    assert rec.__doc__ == (
        "C(a: int, b: list[int] = <factory>, c: Optional[str] = None, d: 'Any' = 'x')"
        if not kw_only
        else "C(*, a: int, b: list[int] = <factory>, c: Optional[str] = None, d: 'Any' = 'x')"
    )


def test_recursive_repr_shows_dots() -> None:
    @record
    class Node:
        """Doc."""

        children: list[Any]

    node = Node([])
    node.children.append(node)
    assert repr(node) == "test_recursive_repr_shows_dots.<locals>.Node(children=[...])"


@pytest.mark.parametrize(
    ("options", "body"),
    [
        pytest.param({"order": True}, {"a": int}, id="order"),
        pytest.param({"slots": True}, {"a": int}, id="slots"),
        pytest.param({"unsafe_hash": True}, {"a": int}, id="unsafe-hash"),
        pytest.param({"init": False}, {"a": int}, id="no-init"),
        pytest.param({}, {"a": int, "b": InitVar[int]}, id="initvar"),
        pytest.param({}, {"a": "int", "b": "InitVar[int]"}, id="initvar-string"),
    ],
)
def test_unsupported_shapes_are_made_by_dataclasses(options: dict[str, bool], body: dict[str, Any]) -> None:
    namespace: dict[str, Any] = {"__annotations__": body, "__doc__": "Doc.", "__module__": __name__}
    if "b" in body:
        namespace["__post_init__"] = lambda self, b: setattr(self, "seen", b)
    rec = record(**options)(type("C", (), dict(namespace)))
    std = dataclasses.dataclass(**options)(type("C", (), dict(namespace)))
    assert MARKER not in rec.__dict__
    assert _field_specs(rec) == _field_specs(std)
    args = (1, 2) if "b" in body else (1,)
    if options.get("init", True):
        assert repr(rec(*args)) == repr(std(*args))
        if "b" in body:
            assert rec(*args).seen == 2


def test_frozen_and_mutable_dataclasses_do_not_mix() -> None:
    @record(frozen=True)
    class Frozen:
        """Doc."""

        a: int

    with pytest.raises(TypeError, match="cannot inherit non-frozen dataclass from a frozen one"):

        @record
        class Thawed(Frozen):
            """Doc."""

    @record
    class Mutable:
        """Doc."""

        a: int

    with pytest.raises(TypeError, match="cannot inherit frozen dataclass from a non-frozen one"):

        @record(frozen=True)
        class Refrozen(Mutable):
            """Doc."""


def _package_modules() -> list[str]:
    names = [lint_mainlayer.__name__]
    for info in pkgutil.walk_packages(lint_mainlayer.__path__, lint_mainlayer.__name__ + "."):
        # runtime/ imports TensorFlow anyway; its classes cost nothing on the lint path.
        if not info.name.startswith("lint_mainlayer.runtime") and info.name != "lint_mainlayer.__main__":
            names.append(info.name)
    return names


def test_every_dataclass_off_runtime_is_a_record() -> None:
    # A `@dataclass` on the lint path would cost its start-up ~0.5 ms a class again.
    seen = []
    for name in _package_modules():
        module = importlib.import_module(name)
        for value in vars(module).values():
            if isinstance(value, type) and value.__module__ == name and dataclasses.is_dataclass(value):
                seen.append(value)
                assert value.__dict__.get(MARKER) in (1, 3), f"{name}.{value.__qualname__} is not a record"
                # Only __init__ was compiled for it (or dataclasses' frozen pair, see MARKER).
                compiled = [
                    attr
                    for attr in ("__init__", "__repr__", "__eq__", "__hash__", "__setattr__", "__delattr__")
                    if getattr(value.__dict__.get(attr), "__code__", None) is not None
                    and value.__dict__[attr].__code__.co_filename == "<string>"
                ]
                assert len(compiled) <= value.__dict__[MARKER]
    assert len(seen) >= 60


def test_a_field_name_that_is_no_identifier_never_reaches_the_generated_source() -> None:
    # Only dataclasses sees it (and fails as it fails): `record` compiles only identifiers.
    namespace = {"__annotations__": {"a=print('ran')": int}, "__doc__": "Doc.", "__module__": __name__}
    errors = []
    for decorate in (record, dataclasses.dataclass):
        with pytest.raises(SyntaxError) as caught:
            decorate(type("C", (), dict(namespace)))
        errors.append(type(caught.value))
    assert errors[0] is errors[1]
