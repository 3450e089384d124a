"""lint-mainlayer: find transformers TF main layers that silently run with random weights."""

from __future__ import annotations

__version__ = "0.1.0"
