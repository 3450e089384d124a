"""Cheap stages before the rules: is there anything in this source they could flag?

Every rule reports on a *site*, a call whose callee resolves to a registry main layer
imported from transformers (`rules/facts.py`), or on a *model site*: a call whose callee
resolves to a registry model class or `TFAutoModel*` class (called, or its `from_config`/
`from_pretrained`), to a class of the module deriving from one, or `x.from_pretrained(...)`
where `x` holds such a model (`rules/models.py`). The stages below test necessary
conditions for one. A rule that flags anything else must extend them (its INVALID cases
are checked against them in `tests/test_prefilter.py`).

Each stage is much cheaper than the next and answers "skip" only when the rules cannot
flag the source; when in doubt it answers "analyse". The rules stay the only source of
findings and fixes: these stages may over-approximate, never under-approximate
(`tests/test_prefilter.py` checks that on the fixtures, on transformers' source and on
generated sources).

1. Text: the rules flag only calls whose callee resolves to a registry name (or, for a
   model site, whose class derives from one or whose instance was built by one: the
   source names it too), or copies (`clone_model`, `from_config`) of a value holding a
   main layer. Every main-layer name contains `MainLayer`, and every model and auto class
   name starts with `TF` and a capital (tests check), so a source with none of these is
   skipped. This stage imports nothing. (A bare `# lint-mainlayer: noqa` comment skips the
   file at stage 3, once `tokenize` has shown it is a comment.)
2. Imports: a callee resolves to a main layer only through an absolute import of
   `transformers` (`from transformers... import`, `import transformers...`). Each has the
   word `transformers` right after `from`, `import` or a comma; occurrences on a comment line
   or a doctest line (`# Copied from transformers...`, `>>> from transformers import ...`)
   do not count when nothing before them on that line could end a string or a statement.
3. Python's `ast`: the module refers to a main layer: a name imported from transformers as
   a `...MainLayer` class, an attribute `...MainLayer` of a name bound by a transformers
   import, a `...MainLayer` name or attribute in a module with a transformers star import,
   or `getattr(<transformers name>, "...MainLayer")` (or an f-string with that part).
   When some call's callee is a name, an item or a call, any reference counts, not only a
   callee: the rules follow a class through variables, containers and subclasses
   (`Enc = TFBertMainLayer`, `class Mine(TFBertMainLayer)`). A `clone_model`/`from_config`
   call counts in a module that imports transformers. For model sites, the same holds of
   a registry model or auto class name (`lookup_model`/`lookup_auto` know it), as the
   callee or the object of the call's method (`TFAutoModel.from_config`), or a class of
   the module with such a base (directly or through classes of the module); a model
   site's instance is built by one of these calls, so it needs no case of its own. Scopes
   and shadowing are ignored (the rules resolve those). Source that `ast` cannot parse
   goes to the engine, which reports why.
"""

from __future__ import annotations

import ast
import re
import threading
import warnings
from dataclasses import field
from functools import lru_cache

from lint_mainlayer.records import record

MARKER = "MainLayer"
# Every registry model class and `TFAutoModel*` class name starts so (a test checks).
MODEL_MARKER = re.compile(r"TF[A-Z]")
# Calls that copy a layer or model with fresh weights: a construction of the main layer the
# copied value holds, which may come from `from_pretrained` without the word `MainLayer`.
COPY_METHODS = ("clone_model", "from_config")
# The largest source the engine analyses: parsing and the rules took ~25 s and ~1 GB per MB
# of dense code, while one long line (a data literal) costs little.
MAX_LINES = 100_000
MAX_CHARS = 20_000_000


def too_large(source: str) -> str | None:
    """Why `source` is too large to analyse, or None."""
    if len(source) > MAX_CHARS:
        return f"too large to analyse ({len(source):,} characters; the limit is {MAX_CHARS:,})"
    lines = source.count("\n") + 1
    if lines > MAX_LINES:
        return f"too large to analyse ({lines:,} lines; the limit is {MAX_LINES:,})"
    return None
# The file-wide suppression, bare or with codes; the engine honours it through `file_noqa`.
FILE_NOQA = re.compile(
    r"#\s*lint-mainlayer:\s*noqa\b(?::\s*(?P<codes>[A-Z]+[0-9]+(?:[\s,]+[A-Z]+[0-9]+)*))?", re.IGNORECASE
)
#: What `file_noqa` gives for a bare `# lint-mainlayer: noqa`: every code.
ALL_CODES = frozenset({"ALL"})


def file_noqa(source: str) -> frozenset[str] | None:
    """The codes `# lint-mainlayer: noqa: MLL002, ...` comments exempt the whole file from
    (`ALL_CODES` for a bare one), or None. Only comments count, not the text in a string."""
    if FILE_NOQA.search(source) is None:
        return None
    import io
    import tokenize

    codes: set[str] = set()
    found = False
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type != tokenize.COMMENT:
                continue
            match = FILE_NOQA.search(token.string)
            if match is None:
                continue
            found = True
            if match.group("codes") is None:
                return ALL_CODES
            codes.update(re.split(r"[\s,]+", match.group("codes").upper()))
    except (tokenize.TokenError, SyntaxError):
        pass  # the comments before the error still count
    return frozenset(codes) if found else None

_TRANSFORMERS = re.compile(r"transformers\b")
# Between `from`/`import`/`,` and the module name: blanks and backslash continuations
# (more than the tokenizer allows, which only makes the stage keep more files).
_BLANKS = frozenset(" \t\f\v\r\n\\")
# A physical line that starts as a comment or a doctest prompt. Without a quote or a
# semicolon before the match, nothing can end that comment or string before the match, and
# code cannot start with `>>>`, nor continue after `...` without `;`.
_COMMENT_OR_DOCTEST = re.compile(r"[ \t\f]*(?:#|>>>|\.\.\.)[^'\";\r\n]*")


def mentions_main_layer(source: str) -> bool:
    """Stage 1: whether `source` says `MainLayer`, names a TF model class (`TF` and a
    capital) or copies a model (`clone_model`, `from_config`). A file-wide
    `# lint-mainlayer: noqa` is for stage 3: only a comment counts, which text alone
    cannot tell."""
    return any(word in source for word in (MARKER, *COPY_METHODS)) or MODEL_MARKER.search(source) is not None


def imports_transformers(source: str) -> bool:
    """Stage 2: whether `source` may hold an absolute import of transformers (as code)."""
    for match in _TRANSFORMERS.finditer(source):
        start = _import_keyword_before(source, match.start())
        if start is None:
            continue
        line_start = max(source.rfind("\n", 0, start), source.rfind("\r", 0, start)) + 1
        if not _COMMENT_OR_DOCTEST.fullmatch(source, line_start, start):
            return True
    return False


def _import_keyword_before(source: str, end: int) -> int | None:
    """Where `from`, `import` or `,` ends right before `end`, blanks skipped; else None."""
    # A plain loop: a regex cannot look back over blanks of any length.
    while end > 0 and source[end - 1] in _BLANKS:
        end -= 1
    if source[end - 1 : end] == ",":
        return end - 1
    for keyword in ("from", "import"):
        start = end - len(keyword)
        if start >= 0 and source.startswith(keyword, start) and not _identifier_char(source, start - 1):
            return start
    return None


def _identifier_char(source: str, index: int) -> bool:
    # Only ASCII counts: treating any other character as a boundary keeps more files.
    if index < 0:
        return False
    char = source[index]
    return char.isascii() and (char.isalnum() or char == "_")


def calls_imported_main_layer(tree: ast.AST) -> bool:
    """Stage 3: whether `tree` refers to a main layer imported from transformers (a call
    may construct it through a name, a container or a subclass), or a call may build or
    load a model of a transformers class."""
    # Imported here: the text stages, which most files leave by, never need the registry.
    from lint_mainlayer.registry import is_transformers_module

    star = False
    # Names bound by a transformers import: modules, or anything taken from one.
    roots: set[str] = set()
    # Names bound to a `...MainLayer` object of a transformers module.
    layers: set[str] = set()
    # Names bound to a registry model or auto class, and classes of the module deriving from one.
    models: set[str] = set()
    callees: list[ast.expr] = []
    classes: list[ast.ClassDef] = []
    references: list[ast.expr] = []
    # Whether some call's callee may be a class held elsewhere (a name, an item, `getattr`).
    indirect = False
    copies = False
    for node in ast.walk(tree):
        if isinstance(node, (ast.Name, ast.Attribute)):
            references.append(node)
        elif isinstance(node, ast.Call):
            func = node.func
            # What the checks below would find, found now: a call of a main layer already
            # imported (the walk visits a module's top-level imports before any call nested
            # in a statement). A match stays one whatever the rest of the walk adds.
            if isinstance(func, ast.Name) and func.id in layers:
                return True
            if isinstance(func, ast.Attribute) and MARKER in func.attr and _from_transformers(func.value, star, roots):
                return True
            callees.append(func)
            if isinstance(node.func, ast.Attribute) and node.func.attr in COPY_METHODS:
                copies = True
            indirect = indirect or isinstance(node.func, (ast.Name, ast.Subscript, ast.Call))
            if isinstance(node.func, ast.Name) and node.func.id == "getattr" and len(node.args) >= 2:
                name = node.args[1].value if isinstance(node.args[1], ast.Constant) else None
                if isinstance(node.args[1], ast.JoinedStr):
                    # `f"TF{arch}MainLayer"`: its literal parts.
                    name = "".join(v.value for v in node.args[1].values if isinstance(v, ast.Constant) and isinstance(v.value, str))
                if isinstance(name, str) and MARKER in name:
                    references.append(ast.Attribute(value=node.args[0], attr=name))
        elif isinstance(node, ast.ClassDef):
            classes.append(node)
        elif isinstance(node, ast.ImportFrom):
            if node.level or not is_transformers_module(node.module):
                continue
            for alias in node.names:
                if alias.name == "*":
                    star = True
                    continue
                local = alias.asname or alias.name
                roots.add(local)
                if MARKER in alias.name:
                    layers.add(local)
                elif _is_model_name(alias.name):
                    models.add(local)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if not is_transformers_module(alias.name):
                    continue
                if alias.asname is None:
                    roots.add("transformers")
                    continue
                roots.add(alias.asname)
                # `import transformers.x.TFBertMainLayer as L` names a class, not a module.
                if MARKER in alias.name.rpartition(".")[2]:
                    layers.add(alias.asname)
                elif _is_model_name(alias.name.rpartition(".")[2]):
                    models.add(alias.asname)
    if not (star or roots):
        return False
    if copies:
        return True
    for func in references if indirect else callees:
        if isinstance(func, ast.Name):
            if func.id in layers or (star and MARKER in func.id):
                return True
        elif isinstance(func, ast.Attribute) and MARKER in func.attr:
            if _from_transformers(func.value, star, roots):
                return True
    def names_model(node: ast.expr) -> bool:
        if isinstance(node, ast.Name):
            return node.id in models or (star and _is_model_name(node.id))
        if isinstance(node, ast.Attribute):
            return _is_model_name(node.attr) and _from_transformers(node.value, star, roots)
        return False

    # Classes deriving from a model class, through other classes of the module too.
    changed = True
    while changed:
        changed = False
        for klass in classes:
            if klass.name not in models and any(names_model(base) for base in klass.bases):
                models.add(klass.name)
                changed = True
    for func in callees:
        if names_model(func) or (isinstance(func, ast.Attribute) and names_model(func.value)):
            return True
    return False


def _from_transformers(node: ast.expr, star: bool, roots: set[str]) -> bool:
    """Whether a Name/Attribute chain starts at a name a transformers import binds."""
    while isinstance(node, ast.Attribute):
        node = node.value
    return isinstance(node, ast.Name) and (star or node.id in roots)


def _is_model_name(name: str) -> bool:
    """Whether `name` is a registry TF model class or `TFAutoModel*` class."""
    from lint_mainlayer import registry

    return (
        MODEL_MARKER.match(name) is not None
        and (registry.lookup_model(f"transformers.{name}") or registry.lookup_auto(f"transformers.{name}")) is not None
    )


# `catch_warnings` swaps process-wide state: two threads (the language server lints in
# several) must not interleave it, or the "ignore" filter could outlive the parse.
_WARNINGS_LOCK = threading.Lock()
# What CPython refuses for its own parser's sake is what can overflow libcst's.
_TOO_NESTED = ("too many nested parentheses", "too complex", "too many statically nested blocks")


@record(frozen=True)
class PythonFacts:
    """What one parse with Python's own parser says of a source, and the tree itself: the
    rules analyse it (`engine.parse`), so a source is parsed once."""

    # Stage 3's answer (False when Python cannot parse the source).
    calls_main_layer: bool = False
    # The first line of each module-level statement line, as libcst splits them
    # (statements joined by `;` share one), decorators included; None when unparsable.
    statement_lines: tuple[int, ...] | None = None
    # "syntax error at L:C: message", Python's wording, which reads better than libcst's.
    syntax_error: str | None = None
    # Nesting that Python refuses would overflow libcst's parser too.
    too_nested: bool = False
    # The parse, when Python could parse the source.
    tree: ast.Module | None = field(default=None, compare=False, repr=False)
    # Why Python refused it, when not a syntax error (a null byte).
    parse_error: str | None = None


@lru_cache(maxsize=4)
def python_facts(source: str) -> PythonFacts:
    """Parse `source` once with Python's `ast` and keep what the stages and the engine need."""
    try:
        with _WARNINGS_LOCK, warnings.catch_warnings():
            # Invalid escapes and the like warn at parse time; the rules report nothing of that.
            warnings.simplefilter("ignore")
            tree = ast.parse(source)
    except SyntaxError as exc:
        if exc.msg in _TOO_NESTED:
            return PythonFacts(too_nested=True)
        return PythonFacts(syntax_error=f"syntax error at {exc.lineno}:{exc.offset}: {exc.msg}")
    except (RecursionError, MemoryError):
        return PythonFacts(too_nested=True)
    except ValueError as exc:
        return PythonFacts(parse_error=str(exc))
    lines: list[int] = []
    for statement in tree.body:
        decorators = getattr(statement, "decorator_list", [])
        first = min([statement.lineno, *(d.lineno for d in decorators)])
        if not lines or first != lines[-1]:
            lines.append(first)
    return PythonFacts(calls_imported_main_layer(tree), tuple(lines), tree=tree)


def needs_rules(source: str) -> bool:
    """Whether the rules could flag anything in `source` (False only when they cannot)."""
    if not mentions_main_layer(source) or not imports_transformers(source):
        return False
    if file_noqa(source) == ALL_CODES:
        return False
    if too_large(source):
        # Python's ast needs ~250 bytes of memory per byte of source: the engine refuses
        # such a file with a clear error instead.
        return True
    facts = python_facts(source)
    # Source that Python's ast rejects goes to the engine, which says why it cannot analyse it.
    return facts.statement_lines is None or facts.calls_main_layer
