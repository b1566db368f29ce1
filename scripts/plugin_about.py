"""`<plugin> --about`, the one source the README tables, the Hub definitions and their tests
read the plugins' settings from."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def about_text(module: str, fmt: str) -> str:
    """`python -m <module> --about --format=<fmt>`, run from the repository root."""
    return subprocess.run(
        [sys.executable, "-m", module, "--about", f"--format={fmt}"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    ).stdout


def about(module: str) -> dict[str, Any]:
    """The plugin's `--about --format=json` as a dict."""
    return dict(json.loads(about_text(module, "json")))
