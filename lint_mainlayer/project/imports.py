"""The imports of a module, with relative imports made absolute, and how a dotted callee
written in that module (`build_model`, `M.build_model`, `pkg.modeling.Classifier`) maps to
a project module and a name in it."""

from __future__ import annotations

import ast
from typing import Callable

from lint_mainlayer.records import record


@record(frozen=True)
class Import:
    """`local` is bound to `module` (`import pkg.mod as local`; `name` None) or to the
    attribute `name` of `module` (`from module import name as local`). For `import a.b`,
    `local` is `a` and `module` is `a`."""

    local: str
    module: str
    name: str | None = None


def _absolute(module: str | None, level: int, here: str, is_package: bool) -> str | None:
    if level == 0:
        return module
    parts = here.split(".") if here else []
    if not is_package:
        parts = parts[:-1]
    drop = level - 1
    if drop > len(parts):
        return None
    base = parts[: len(parts) - drop] if drop else parts
    if module:
        base = [*base, *module.split(".")]
    return ".".join(base) or None


def imports_of(tree: ast.Module, here: str, is_package: bool) -> tuple[Import, ...]:
    """Every import statement of the module (at any depth: a function's own imports bind
    names too, and the linter's scopes are not needed to read a call's target)."""
    found: list[Import] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    found.append(Import(alias.asname, alias.name))
                else:
                    top = alias.name.partition(".")[0]
                    found.append(Import(top, top))
                    if alias.name != top:
                        # Never a call's root name; read by `index` for `a.b.load(...)`.
                        found.append(Import(alias.name, alias.name))
        elif isinstance(node, ast.ImportFrom):
            module = _absolute(node.module, node.level, here, is_package)
            if module is None:
                continue
            for alias in node.names:
                if alias.name == "*":
                    continue
                found.append(Import(alias.asname or alias.name, module, alias.name))
    return tuple(found)


def parse_imports(text: str, here: str, is_package: bool) -> tuple[Import, ...] | None:
    """`imports_of` for source text; None when it does not parse."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    return imports_of(tree, here, is_package)


def resolve(
    callee: str, imports: tuple[Import, ...], is_module: Callable[[str], bool]
) -> tuple[str, str] | None:
    """The (module, name) that `callee`, as written in a module with these imports, calls;
    None when it is not reached through an import. `is_module` says which dotted names are
    modules of the project (so `from pkg import modeling` binds a module, not a name)."""
    if "()." in callee:
        # `Trainer().build`: the method `build` of what `Trainer` names, called on an instance.
        head, _, method = callee.partition("().")
        found = resolve(head, imports, is_module)
        return (found[0], f"{found[1]}.{method}") if found is not None else None
    parts = callee.split(".")
    for imp in reversed(imports):
        if imp.local != parts[0]:
            continue
        if imp.name is None:
            base = imp.module
        else:
            candidate = f"{imp.module}.{imp.name}"
            if not is_module(candidate):
                if len(parts) == 1:
                    return imp.module, imp.name
                # An attribute of a name (`Classifier.build`): not a module-level callable.
                return None
            base = candidate
        rest = parts[1:]
        # `pkg.modeling.build_model` after `import pkg.modeling`: the longest module prefix.
        while len(rest) > 1 and is_module(f"{base}.{rest[0]}"):
            base = f"{base}.{rest[0]}"
            rest = rest[1:]
        if len(rest) == 1:
            return base, rest[0]
        return None
    return None
