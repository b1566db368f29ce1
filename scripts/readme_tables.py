"""Generate the README's settings and streams tables from the code, so they cannot drift.

    python scripts/readme_tables.py          # rewrite the tables in README.md
    python scripts/readme_tables.py --check  # exit 1 if README.md is out of date

The settings table is the Settings section of `tap-billcom --about --format=markdown`; the
streams table comes from bill_core.catalog.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
sys.path.insert(0, str(ROOT))

from scripts.plugin_about import about_text  # noqa: E402


def settings_table(package: str = "tap_billcom", *, only_own: bool = False) -> str:
    section = about_text(package, "markdown").split("## Settings", 1)[1]
    lines = [line for line in section.strip().splitlines() if line.startswith("|")]
    if only_own:
        # The connection settings are the tap's (shown once); the SDK's built-ins are generic.
        lines = lines[:2] + [line for line in lines[2:] if line.split("|")[1].strip() in OWN]
    return "\n".join(lines)


OWN = ("dry_run", "allow_failures", "results_path", "match_keys", "stream_aliases")


def streams_table() -> str:
    from bill_core.catalog import OBJECTS

    rows = [
        "| Stream | BILL path | Primary key | Replication | Selected by default |",
        "|:--|:--|:--|:--|:--:|",
    ]
    for entry in OBJECTS:
        if entry.incremental:
            replication = "incremental (`updatedTime`)"
        elif entry.parent:
            replication = f"full table, per {entry.parent[:-1]}"
        else:
            replication = "full table"
        rows.append(
            f"| `{entry.stream}` | `GET {entry.path}` | `{', '.join(entry.key_properties)}` | "
            f"{replication} | {'yes' if entry.selected_by_default else 'no'} |"
        )
    return "\n".join(rows)


def render(readme: str) -> str:
    tables = (
        ("tap-settings", settings_table()),
        ("target-settings", settings_table("target_billcom", only_own=True)),
        ("streams", streams_table()),
    )
    for name, table in tables:
        pattern = re.compile(
            rf"(<!-- {name}:start -->\n)(?:.*?\n)?(<!-- {name}:end -->)", flags=re.DOTALL
        )
        if not pattern.search(readme):
            msg = f"README.md has no <!-- {name}:start/end --> markers"
            raise SystemExit(msg)
        readme = pattern.sub(lambda m, t=table: m.group(1) + t + "\n" + m.group(2), readme)
    return readme


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if README.md is stale")
    args = parser.parse_args()
    current = README.read_text()
    wanted = render(current)
    if args.check:
        if wanted != current:
            print("README.md tables are stale: run python scripts/readme_tables.py")
            return 1
        return 0
    README.write_text(wanted)
    return 0


if __name__ == "__main__":
    sys.exit(main())
