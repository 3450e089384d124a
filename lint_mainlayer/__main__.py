from __future__ import annotations

from lint_mainlayer.cli import main

raise SystemExit(main())
