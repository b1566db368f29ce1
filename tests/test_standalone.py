"""The repository stands alone: nothing in it reads or cites files outside it.

A user clones this repository and nothing else, so every file the code, tests, scripts and
docs need is in it (BILL's published reference data is vendored in reference/bill-v3/, with
its source and date). A path to a sibling folder of notes works on one machine only and
breaks `make test` in a fresh clone.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
#: Written in pieces, so this file does not name what it forbids.
FORBIDDEN = (
    "../" + "shared",
    "/work/" + "shared",
    # Notes that lived in that folder: cite the public source they quote instead.
    "bill-api" + ".md",
    "sdk-notes" + ".md",
    "ecosystem-notes" + ".md",
    "peers" + ".md",
)


def tracked_files() -> list[Path]:
    listing = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPO_ROOT, capture_output=True, check=True
    ).stdout
    return [REPO_ROOT / name for name in listing.decode().split("\0") if name]


def mentions(paths: list[Path]) -> list[str]:
    """`file:line: word` for every forbidden word in the given files."""
    found = []
    for path in paths:
        if not path.is_file():  # deleted in the work tree, not yet committed
            continue
        text = path.read_bytes().decode("utf-8", "replace")
        for line_number, line in enumerate(text.splitlines(), start=1):
            found += [f"{_name(path)}:{line_number}: {word}" for word in FORBIDDEN if word in line]
    return found


def test_no_tracked_file_points_outside_the_repository() -> None:
    files = tracked_files()
    assert REPO_ROOT / "reference" / "bill-v3" / "README.md" in files  # the real listing
    offending = mentions(files)
    assert not offending, "\n".join(offending)


def test_the_scan_finds_each_forbidden_word(tmp_path: Path) -> None:
    sample = tmp_path / "notes.md"
    sample.write_text("".join(f"x\nsee {word} for this\n" for word in FORBIDDEN))
    assert mentions([sample]) == [
        f"notes.md:{2 * index + 2}: {word}" for index, word in enumerate(FORBIDDEN)
    ]


def _name(path: Path) -> str:
    return str(path.relative_to(REPO_ROOT)) if path.is_relative_to(REPO_ROOT) else path.name
