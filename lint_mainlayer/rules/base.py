"""What every rule is: a code, a name, its documentation (the docstring), inline cases."""

from __future__ import annotations

import ast
from dataclasses import field
from typing import ClassVar, Iterator, Literal

from lint_mainlayer.records import record
from lint_mainlayer.rules.facts import Construction, ModuleFacts
from lint_mainlayer.rules.fixes import FixPlan
from lint_mainlayer.rules.intent import Intent, Intents
from lint_mainlayer.rules.models import ModelSite, model_sites
from lint_mainlayer.rules.origin import Origin, config_origin
from lint_mainlayer.rules.provenance import Provenance
from lint_mainlayer.rules import project_callers
from lint_mainlayer.types import ProjectView, Settings

Fixable = Literal["always", "sometimes", "never"]


@record
class Finding:
    code: str
    message: str
    node: ast.AST
    plan: FixPlan | None = None
    # The module-level statement holding `node` and the plan's nodes.
    top: ast.AST | None = None


@record
class Context:
    """One module's facts, shared by the rules, with analyses computed once on demand."""

    facts: ModuleFacts
    settings: Settings
    # PROJECT HOOK (issue 16): the rest of the project, as `project.index` saw it; None when
    # the file belongs to no project or the project analysis is off.
    project: ProjectView | None = None
    _provenance: Provenance | None = None
    _origins: dict[int, Origin | None] = field(default_factory=dict)
    _intents: Intents | None = None
    _models: list[ModelSite] | None = None

    @property
    def models(self) -> list[ModelSite]:
        """The module's calls that build or load a whole model (`rules/models.py`)."""
        if self._models is None:
            self._models = model_sites(self.facts)
        return self._models

    @property
    def provenance(self) -> Provenance:
        """Where the module's layers get their weights (`provenance`), made once."""
        if self._provenance is None:
            self._provenance = Provenance(self.facts, self.project.loaders if self.project is not None else None)
        return self._provenance

    def reached(self, site: Construction) -> bool:
        """Whether a load of pretrained weights reaches what `site` built (`provenance`)."""
        if self.provenance.reached(site):
            return True
        # PROJECT HOOK (issue 16): every caller in other modules loads what the site's
        # function or class builds.
        return self.project is not None and project_callers.loaded_by_callers(site, self.facts, self.project, self.provenance)

    def origin(self, site: Construction) -> Origin | None:
        key = id(site.call)
        if key not in self._origins:
            project = self.project
            if project is None:
                origin = config_origin(site, self.facts)
            else:
                # PROJECT HOOK (issue 16): config factories of other modules, and parameters
                # that only other modules pass.
                origin = config_origin(
                    site, self.facts, project.factories, lambda unit, name: project_callers.parameter_origin(unit, name, self.facts, project)
                )
            if self.project is not None:
                # PROJECT HOOK (issue 16): a parameter no caller in the module passes takes
                # its origin from the callers in the project's other modules.
                origin = project_callers.from_callers(site, self.facts, self.project, origin, self.provenance)
            self._origins[key] = origin
        return self._origins[key]

    def intent(self, site: Construction) -> Intent | None:
        """What the branch around `site` says about pretraining (`intent`): `deliberate`
        when the code marks it as the no-pretraining path; None when nothing says."""
        if self._intents is None:
            self._intents = Intents(self.facts.source)
        return self._intents.intent(site)

    def in_pretrained_subclass(self, site: Construction) -> bool:
        """Whether the site is in the body of a class deriving from a transformers TF model."""
        return self._in_classes(site, self.facts.graph.pretrained_model_classes)

    def loaded_by_pretrained_model(self, site: Construction) -> bool:
        """Whether a transformers model's `from_pretrained` loads the site's layer: it is in
        a model subclass, or in a class such a model constructs."""
        return self._in_classes(site, self.facts.graph.loaded_by_pretrained_models)

    @staticmethod
    def _in_classes(site: Construction, names: frozenset[str]) -> bool:
        klass = site.klass
        while klass is not None:
            if klass.name in names:
                return True
            klass = klass.outer
        return False


@record(frozen=True)
class Valid:
    """An inline case the rule must leave clean; `name` is its test id."""

    name: str
    code: str


@record(frozen=True)
class Invalid:
    """An inline case the rule must flag. `expected_fix` is what `--fix --unsafe-fixes`
    makes of `code` with only this rule selected; None when the finding has no fix."""

    name: str
    code: str
    expected_fix: str | None = None


# The legitimate library pattern, clean under every rule: a VALID case several rules share.
LIBRARY_PATTERN = Valid(
    "library-pattern",
    "import tensorflow as tf\n"
    "from transformers import TFBertMainLayer, TFBertPreTrainedModel\n"
    "class Enc(TFBertPreTrainedModel):\n"
    "    def __init__(self, config, *inputs, **kwargs):\n"
    "        super().__init__(config, *inputs, **kwargs)\n"
    '        self.bert = TFBertMainLayer(config, name="bert")\n'
    "    def build(self, input_shape=None):\n"
    "        if self.built:\n"
    "            return\n"
    "        self.built = True\n"
    "        with tf.name_scope(self.bert.name):\n"
    "            self.bert.build(None)\n",
)


class Rule:
    """Base class; a rule's docstring is its user documentation (ruff's headings)."""

    code: ClassVar[str]
    name: ClassVar[str]
    summary: ClassVar[str]
    fixable: ClassVar[Fixable]
    # Inline cases: VALID must lint clean, INVALID must give this rule's code (and fix).
    VALID: ClassVar[tuple[Valid, ...]] = ()
    INVALID: ClassVar[tuple[Invalid, ...]] = ()

    def check(self, ctx: Context) -> Iterator[Finding]:
        raise NotImplementedError
