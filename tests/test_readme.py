"""The README's settings and streams tables are generated from the code and kept current."""

from __future__ import annotations

import subprocess
import sys

from tests.taprun import ROOT


def test_readme_tables_match_the_code() -> None:
    result = subprocess.run(
        [sys.executable, "scripts/readme_tables.py", "--check"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_readme_quick_start_is_exactly_make_demo_and_make_test() -> None:
    readme = (ROOT / "README.md").read_text()
    quick_start = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = [line.split("#")[0].strip() for line in quick_start.splitlines()]
    assert [c for c in commands if c.startswith("make")] == ["make demo", "make test"]
