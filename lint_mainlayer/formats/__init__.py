"""Output formats: pure functions from results to text."""

from __future__ import annotations

from typing import Callable, Sequence

from lint_mainlayer.types import FileResult

Renderer = Callable[[Sequence[FileResult]], str]
