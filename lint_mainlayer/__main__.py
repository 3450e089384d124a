from __future__ import annotations

import os
import sys

# `python -m lint_mainlayer` puts the current folder first on sys.path, and the folder being
# linted may hold a `pathspec.py` or `libcst/` that a lazy import would then run. The
# package and its dependencies are found without it (as Python 3.11's -P would do).
if not sys.flags.safe_path and sys.path and os.path.abspath(sys.path[0] or os.curdir) == os.getcwd():
    del sys.path[0]

from lint_mainlayer.entry import main

raise SystemExit(main())
