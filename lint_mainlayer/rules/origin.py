"""Where does the config handed to a construction come from?

`pretrained`: a checkpoint's config: `XConfig.from_pretrained(...)`/`AutoConfig.from_pretrained(...)`,
`model.config` of a `from_pretrained` model, or its `config.json` read by hand
(`XConfig(**json.load(open(<dir>/config.json)))`, `from_json_file`, `from_dict` of such a
dict). `scratch`: explicit hyperparameters (`BertConfig(...)`), or a pretrained config whose
architecture the code changes (`from_pretrained(ckpt, vocab_size=...)`, or
`config.num_hidden_layers = 2` between the config and the construction): training from
scratch. `unknown`: anything else (an attribute, a global, a conditional that mixes kinds).

Names are followed to their binding (earlier in the unit, or in an enclosing one), and a
parameter to the callers in the same module (a function called by name, a class through
its `__init__`, a method through `self.<name>(...)`): when every caller passes a scratch
config it is scratch, when one passes a pretrained config it is that one (`via_caller`),
otherwise the parameter's default decides, else unknown.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Literal

from lint_mainlayer.records import record
from lint_mainlayer.rules.calls import args_of, config_arg, string_value
from lint_mainlayer.rules.facts import Construction, ModuleFacts, Site
from lint_mainlayer.rules.scope import Unit, binding_at, dotted, param_default
from lint_mainlayer.rules.tree import call_args, children
from lint_mainlayer.types import Factory

_MAX_DEPTH = 8
# Config attributes that change the architecture: a checkpoint's weights no longer fit.
ARCHITECTURE = frozenset(
    {
        "vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size",
        "max_position_embeddings", "type_vocab_size", "embedding_size", "num_hidden_groups",
        "inner_group_num", "n_layer", "n_head", "n_embd", "n_positions", "n_ctx", "dim", "n_layers",
        "n_heads", "hidden_dim", "d_model", "d_ff", "d_kv", "num_layers", "num_heads",
        "encoder_layers", "decoder_layers", "encoder_attention_heads", "decoder_attention_heads",
        "encoder_ffn_dim", "decoder_ffn_dim", "ffn_dim",
    }
)


OriginKind = Literal["pretrained", "scratch", "unknown"]


@record(frozen=True)
class Origin:
    kind: OriginKind
    why: str
    # For "pretrained": the from_pretrained call, its checkpoint argument, and where it is.
    call: ast.Call | None = None
    checkpoint: ast.expr | None = None
    unit: Unit | None = None
    index: int = 0
    # The config is a parameter whose default is this pretrained config: callers may pass another.
    via_default: bool = False
    # The config is a parameter, and a caller in the module passes this pretrained config.
    via_caller: bool = False
    # PROJECT HOOK (issue 16): the caller in another module of the project that passes this
    # config (`path:line`), when the project analysis found it (`rules.project_callers`).
    caller: str | None = None
    # The checkpoint's code, when a caller in another module wrote it: `checkpoint` is then
    # its parse, whose positions are in that text, not in this module's source.
    checkpoint_text: str | None = None

    def checkpoint_code(self, code: Callable[[ast.AST], str]) -> str:
        """The checkpoint's code as written (`code`: this module's source for a node)."""
        if self.checkpoint_text is not None:
            return self.checkpoint_text
        assert self.checkpoint is not None
        return code(self.checkpoint)


# A parameter's origin from the project's other modules (`rules.project_callers`).
Outer = Callable[[Unit, str], "Origin | None"]


def config_origin(
    site: Construction,
    facts: ModuleFacts | None = None,
    factories: Mapping[str, Factory] | None = None,
    outer: Outer | None = None,
) -> Origin | None:
    """The origin of the site's config; None when the call passes no config at all.
    With `facts`, parameters are followed to the callers in the module; `factories` are the
    project's config factories the module imports (`ProjectView.factories`), and `outer`
    gives a parameter that no caller in the module passes its origin from the project."""
    classifier = _Classifier(facts, factories, outer)
    if isinstance(site, Site) and site.copy_of is not None:
        # A copy has the config of what it copies.
        original = site.copy_of
        if isinstance(original.func, ast.Attribute) and original.func.attr == "from_pretrained":
            origin = classifier.classify(original, site.unit, site.index, 0)
            return replace(origin, why="a copy of a pretrained model", via_caller=True)
        arg = config_arg(original)
        if arg is None:
            return None
        origin = classifier.classify(arg.value, site.unit, site.index, 0)
        return replace(origin, why=f"a copy of a layer built from {origin.why}", via_caller=True)
    arg = config_arg(site.call)
    if arg is None:
        return None
    index = site.index
    if site.statement is not None:
        # Python binds a statement's targets after evaluating its value, so the call sees
        # the bindings before its own statement (`model = TFBertModel(model.config)`).
        values = {id(s.value) for s in site.statement.body if isinstance(s, (ast.Assign, ast.AnnAssign, ast.AugAssign))}
        index = min([index, *(b.index for b in site.unit.binds if id(b.value) in values)])
    return classifier.classify(arg.value, site.unit, index, 0)


class _Classifier:
    def __init__(
        self, facts: ModuleFacts | None, factories: Mapping[str, Factory] | None = None, outer: Outer | None = None
    ) -> None:
        self.facts = facts
        # PROJECT HOOK (issue 16): functions of other modules that return a config, and the
        # origin of a parameter that only other modules pass.
        self.factories = factories or {}
        self.outer = outer

    def classify(self, expr: ast.expr, unit: Unit, index: int, depth: int) -> Origin:
        if depth > _MAX_DEPTH:
            return Origin("unknown", "a config passed through many names")
        if isinstance(expr, ast.Call):
            return self._call(expr, unit, index, depth)
        if isinstance(expr, ast.Subscript) and isinstance(expr.slice, ast.Constant) and expr.slice.value == 0:
            # `XConfig.from_pretrained(..., return_unused_kwargs=True)[0]`
            pair = _config_of_pair(expr.value)
            if pair is not None:
                return self._call(pair, unit, index, depth)
        if isinstance(expr, ast.IfExp):
            body = self.classify(expr.body, unit, index, depth + 1)
            orelse = self.classify(expr.orelse, unit, index, depth + 1)
            if body.kind == orelse.kind == "scratch":
                return body
            return Origin("unknown", "a conditional config")
        name = dotted(expr)
        if name is None:
            return Origin("unknown", "a computed config")
        found = binding_at(name, unit, index)
        if found is None and name.endswith(".config"):
            # `model.config` of a model loaded with `from_pretrained` is that checkpoint's config.
            holder = self.classify(_expression(name[: -len(".config")]), unit, index, depth + 1)
            if holder.kind == "pretrained":
                return replace(holder, why=f"`{name}`")
        if found is None:
            if "." not in name and name in unit.params:
                return self._parameter(name, unit, index, depth)
            what = "attribute" if "." in name else "name"
            return Origin("unknown", f"the {what} `{name}`")
        bind, bind_unit = found
        value = bind.value
        if bind.elements is not None and value is not None:
            # `config, unused = XConfig.from_pretrained(..., return_unused_kwargs=True)`
            value = _config_of_pair(value) if bind.elements[:1] == (name,) else None
        if not bind.direct or value is None:
            return Origin("unknown", f"`{name}`, bound indirectly")
        origin = self.classify(value, bind_unit, bind.index, depth + 1)
        if origin.kind == "pretrained" and "." not in name:
            end = index if bind_unit is unit else None
            changed = _architecture_change(name, bind_unit, bind.index, end)
            if changed is not None:
                return Origin("scratch", f"a pretrained config whose `{changed}` is changed")
        return origin

    def _parameter(self, name: str, unit: Unit, index: int, depth: int) -> Origin:
        default = param_default(unit, name)
        default_origin = self.classify(default, unit, index, depth + 1) if default is not None else None
        callers = self._callers(unit)
        if not callers and default_origin is None and self.outer is not None and depth > 0:
            # A config handed on inside the module from a parameter that only other modules
            # pass (the construction's own parameter is `project_callers.from_callers`'s).
            found = self.outer(unit, name)
            if found is not None:
                return found
        passed: list[Origin] = []
        for call, call_unit, call_index in callers:
            arg = _argument(call, unit, name)
            if arg is None:
                if default_origin is None:
                    return Origin("unknown", f"the parameter `{name}`")
                passed.append(default_origin)
            elif isinstance(arg, str):
                return Origin("unknown", f"the parameter `{name}` (passed through `{arg}`)")
            else:
                passed.append(self.classify(arg, call_unit, call_index, depth + 1))
        pretrained = [o for o in passed if o.kind == "pretrained"]
        if pretrained:
            return replace(pretrained[0], why=f"the parameter `{name}`, to which a caller passes {pretrained[0].why}", via_caller=True)
        if passed and all(o.kind == "scratch" for o in passed):
            return Origin("scratch", f"the parameter `{name}`: every caller passes a config built from hyperparameters")
        if default_origin is not None and default_origin.kind == "pretrained":
            return replace(default_origin, why=f"the parameter `{name}`", via_default=True)
        return Origin("unknown", f"the parameter `{name}`")

    def _callers(self, unit: Unit) -> list[tuple[ast.Call, Unit, int]]:
        """Calls in the module that run the function `unit`."""
        if self.facts is None or unit.kind != "function" or unit.name is None:
            return []
        owner = unit.owner
        if owner is None:
            names = {unit.name}
        elif unit.name == "__init__":
            names = self.facts.graph.subclasses_of(owner.name)
        else:
            names = {f"self.{unit.name}", f"{owner.name}.{unit.name}"}
        found = []
        for other in self.facts.units:
            for event in other.calls:
                if dotted(event.node.func) in names:
                    found.append((event.node, other, event.index))
        return found

    def _call(self, call: ast.Call, unit: Unit, index: int, depth: int) -> Origin:
        func = call.func
        callee = dotted(func) or ""
        last = callee.rpartition(".")[2]
        positional, keywords = args_of(call)
        if isinstance(func, ast.Attribute) and last == "from_pretrained":
            changed = sorted(k for k in keywords if k in ARCHITECTURE)
            if changed:
                return Origin("scratch", f"a pretrained config whose `{changed[0]}` is changed")
            checkpoint = positional[0].value if positional else None
            if "pretrained_model_name_or_path" in keywords:
                checkpoint = keywords["pretrained_model_name_or_path"].value
            if checkpoint is not None:
                # `from_pretrained(<dir>/config.json)` reads one file; the weights are in <dir>.
                checkpoint = _config_dir(checkpoint) or checkpoint
            return Origin("pretrained", "a pretrained config", call, checkpoint, unit, index)
        if isinstance(func, ast.Attribute) and last == "from_json_file" and positional:
            directory = _config_dir(positional[0].value)
            return Origin("pretrained", "a checkpoint's `config.json`", call, directory, unit, index)
        if isinstance(func, ast.Attribute) and last == "from_dict" and positional:
            read = self._json(positional[0].value, unit, index, depth)
            if read is not None:
                return Origin("pretrained", "a checkpoint's `config.json`", call, read.directory, unit, index)
            return Origin("unknown", f"`{callee}(...)`")
        factory = self.factories.get(callee)
        if factory is not None and self._returned(callee, unit, depth) is None:
            return _from_factory(callee, factory, call, unit, index)
        if last.startswith("from_"):
            return Origin("unknown", f"`{callee}(...)`")
        returned = self._returned(callee, unit, depth)
        if returned is not None:
            return returned
        if last.endswith("Config"):
            for arg in call_args(call):
                if arg.star == "**":
                    read = self._json(arg.value, unit, index, depth)
                    if read is not None:
                        return Origin("pretrained", "a checkpoint's `config.json`", call, read.directory, unit, index)
            return Origin("scratch", "a config built from hyperparameters")
        return Origin("unknown", f"`{callee or 'a call'}(...)`")

    def _returned(self, callee: str, unit: Unit, depth: int) -> Origin | None:
        """The origin of what a function or method of the module returns, when all its
        returns agree on a kind (a config factory); None when `callee` is not one."""
        if self.facts is None or not callee:
            return None
        head, _, name = callee.rpartition(".")
        functions = []
        for candidate in self.facts.units:
            if candidate.kind != "function" or candidate.name != name or not candidate.returns:
                continue
            owner = candidate.owner
            if (owner is None and not head) or (owner is not None and head in ("self", "cls", owner.name)):
                functions.append(candidate)
        if len(functions) != 1:
            return None
        function = functions[0]
        origins = [self.classify(value, function, 1 << 60, depth + 1) for value in function.returns]
        kinds = {o.kind for o in origins}
        if kinds == {"scratch"}:
            return Origin("scratch", f"a config that `{callee}()` builds from hyperparameters")
        pretrained = [o for o in origins if o.kind == "pretrained"]
        if pretrained:
            return replace(pretrained[0], why=f"a config that `{callee}()` loads", via_caller=True)
        return None

    def _json(self, expr: ast.expr, unit: Unit, index: int, depth: int) -> _Read | None:
        """For a dict read from a `config.json` (`json.load(open(...))`), the checkpoint
        directory when the path shows it (`<dir>/config.json`); None when it is no such read."""
        if depth > _MAX_DEPTH:
            return None
        if isinstance(expr, ast.Call) and (dotted(expr.func) or "") in ("json.load", "json.loads", "load", "loads"):
            return _Read(self._config_dir_in(expr, unit, index, depth))
        name = dotted(expr)
        if name is None:
            return None
        found = binding_at(name, unit, index)
        if found is None or found[0].value is None or not found[0].direct:
            return None
        return self._json(found[0].value, found[1], found[0].index, depth + 1)

    def _config_dir_in(self, node: ast.AST, unit: Unit, index: int, depth: int) -> ast.expr | None:
        """The `<dir>` of a `<dir>/config.json` path inside `node`, following names (`with
        open(path) as f: json.load(f)`)."""
        if depth > _MAX_DEPTH:
            return None
        for current in _walk(node):
            if isinstance(current, ast.expr):
                directory = _config_dir(current)
                if directory is not None:
                    return directory
            if isinstance(current, ast.Name):
                found = binding_at(current.id, unit, index)
                if found is not None and found[0].value is not None:
                    directory = self._config_dir_in(found[0].value, found[1], found[0].index, depth + 1)
                    if directory is not None:
                        return directory
        return None


def _from_factory(callee: str, factory: Factory, call: ast.Call, unit: Unit, index: int) -> Origin:
    """The origin of a call of a config factory of another module (`Factory`)."""
    origin = factory.origin
    if origin.kind == "scratch":
        return Origin("scratch", f"a config that `{callee}()` builds from hyperparameters")
    if origin.kind != "pretrained":
        return Origin("unknown", f"`{callee}(...)`")
    why = f"a config that `{callee}()` loads"
    if factory.param is not None:
        # The checkpoint is the caller's argument: an expression of this module.
        position, name = factory.param
        positional, keywords = args_of(call)
        arg = keywords.get(name) or (positional[position] if position < len(positional) else None)
        if arg is None:
            return Origin("unknown", f"`{callee}(...)`")
        return Origin("pretrained", why, call, arg.value, unit, index, via_caller=True)
    if origin.checkpoint is None:
        return Origin("pretrained", why, call, None, None, via_caller=True)
    try:
        parsed: ast.expr | None = ast.parse(f"({origin.checkpoint})", mode="eval").body
    except SyntaxError:
        parsed = None
    # The factory's own checkpoint, written in its module: never reusable here but as a literal.
    return Origin("pretrained", why, call, parsed, None, via_caller=True, checkpoint_text=origin.checkpoint)


@record(frozen=True)
class _Read:
    """A dict read from a checkpoint's `config.json`, and the checkpoint directory if known."""

    directory: ast.expr | None


def _walk(node: ast.AST) -> list[ast.AST]:
    out = []
    stack = [node]
    while stack:
        current = stack.pop()
        out.append(current)
        stack.extend(children(current))
    return out


def _expression(code: str) -> ast.expr:
    expression = ast.parse(code, mode="eval").body
    return expression


def _config_of_pair(value: ast.expr) -> ast.Call | None:
    """The `from_pretrained` call of `value` when it returns `(config, unused_kwargs)`."""
    if not (isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and value.func.attr == "from_pretrained"):
        return None
    _, keywords = args_of(value)
    flag = keywords.get("return_unused_kwargs")
    if flag is None or not (isinstance(flag.value, ast.Constant) and flag.value.value is True):
        return None
    return value


def _config_dir(expr: ast.expr) -> ast.expr | None:
    """`<dir>` of `os.path.join(<dir>, "config.json")` or `<dir> / "config.json"`."""
    if isinstance(expr, ast.Call) and (dotted(expr.func) or "").endswith("join") and len(call_args(expr)) == 2:
        args = call_args(expr)
        return args[0].value if string_value(args[1].value) == "config.json" else None
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Div):
        return expr.left if string_value(expr.right) == "config.json" else None
    return None


def _architecture_change(name: str, unit: Unit, start: int, end: int | None) -> str | None:
    """The architecture attribute of `name` that `unit` rebinds between the two indices."""
    for bind in unit.binds:
        if bind.index <= start or (end is not None and bind.index >= end):
            continue
        for target in bind.targets:
            head, _, attr = target.rpartition(".")
            if head == name and attr in ARCHITECTURE:
                return target
    return None


def _argument(call: ast.Call, unit: Unit, name: str) -> ast.expr | str | None:
    """What `call` passes for the parameter `name` of the function `unit`: an expression,
    None when it passes nothing, or the code of a `*`/`**` argument that may hold it."""
    params = unit.params[1:] if unit.owner is not None else unit.params
    positional, keywords = args_of(call)
    if name in keywords:
        return keywords[name].value
    position = params.index(name) if name in params else -1
    if 0 <= position < len(positional):
        return positional[position].value
    for arg in call_args(call):
        if arg.star:
            return unit.code(arg.value)
    return None


def reusable_at(origin: Origin, site: Construction) -> bool:
    """Whether the checkpoint expression means the same value at the site (a safe fix)."""
    expr = origin.checkpoint
    if isinstance(expr, ast.Constant) and isinstance(expr.value, (str, bytes)):
        return isinstance(expr.value, str)
    if not isinstance(expr, ast.Name) or origin.unit is None:
        return False
    name = expr.id
    home: Unit | None = origin.unit
    # A name free in the unit that read the checkpoint is the enclosing one's (a module
    # constant read in a caller or a config factory).
    while home is not None and home.parent is not None and (home.kind == "class" or not home.binds_name(name)):
        home = home.parent
    if home is not None and home is not origin.unit:
        origin = replace(origin, unit=home, index=1 << 60)
        if home.kind == "module" and sum(name in b.targets for b in home.binds) == 1:
            unit: Unit | None = site.unit
            while unit is not None and unit is not home:
                if unit.kind != "class" and unit.binds_name(name):
                    return False
                unit = unit.parent
            return unit is home
    if origin.unit is site.unit:
        return not any(
            name in b.targets and origin.index < b.index < site.index for b in site.unit.binds
        )
    # Built in an enclosing unit: the site must see that binding, unchanged.
    unit = site.unit
    while unit is not None and unit is not origin.unit:
        if unit.kind != "class" and name in unit.assigned_names():
            return False
        unit = unit.parent
    if unit is None:
        return False
    return sum(name in b.targets for b in unit.binds) <= 1


def is_pure(expr: ast.AST | None) -> bool:
    """A name or attribute chain: evaluating it twice gives the same object."""
    return expr is not None and dotted(expr) is not None
