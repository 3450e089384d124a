"""The rules, by code. Codes are stable: JSON output and `# noqa` use them."""

from __future__ import annotations

from lint_mainlayer.rules.base import Rule
from lint_mainlayer.rules.missing_build import MissingBuild
from lint_mainlayer.rules.model_weights import DiscardedFromPretrained, PretrainedConfigModelWithoutWeights
from lint_mainlayer.rules.name_mismatch import MainLayerNameMismatch
from lint_mainlayer.rules.random_weights import (
    PretrainedConfigWithoutWeights,
    UnknownConfigWithoutWeights,
)

ALL_RULES: tuple[type[Rule], ...] = (
    PretrainedConfigWithoutWeights,
    UnknownConfigWithoutWeights,
    MainLayerNameMismatch,
    MissingBuild,
    PretrainedConfigModelWithoutWeights,
    DiscardedFromPretrained,
)
