"""Run every reliability scenario once against the emulator and print the README's table.

    .venv/bin/python scripts/reliability_report.py

The scenarios are the ones tests/test_reliability_tap.py and tests/test_reliability_target.py
assert (plus the single-fault tap runs of tests/test_tap_faults.py and the bad-input run of
tests/test_bad_input.py), run through the same helpers, so the table and the tests cannot
disagree. Every output they produce is scanned for secrets. Exits 1 if any scenario lost a
record, duplicated one, leaked a secret or missed an expectation.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bill_emulator import Emulator, EmulatorConfig  # noqa: E402
from tests.conftest import config_for  # noqa: E402
from tests.taprun import SCAN  # noqa: E402
from tests.targetrun import run_target  # noqa: E402
from tests.test_bad_input import BAD_RECORDS, GOOD, bad_input  # noqa: E402
from tests.test_reliability_tap import COVERED_ELSEWHERE, Scenario, Tally  # noqa: E402
from tests.test_reliability_tap import NEW_SCENARIOS as TAP_STOPS  # noqa: E402
from tests.test_reliability_tap import SCENARIOS as TAP_SCENARIOS  # noqa: E402
from tests.test_reliability_target import NEW_SCENARIOS as TARGET_ACCOUNTING  # noqa: E402
from tests.test_reliability_target import SCENARIOS as TARGET_SCENARIOS  # noqa: E402

HEADER = (
    "| Scenario | Faults injected | Faults survived | Records lost | Duplicates created "
    "| Secrets found |"
)


def bad_input_run(tally: Tally) -> None:
    """Every kind of bad input in one target run: each reported on its own line, the good
    records around them written."""
    emulator = Emulator(EmulatorConfig(records=50))
    text, expected_lines = bad_input()
    with emulator.serve() as base_url:
        config = config_for(base_url, stream_aliases={"erp_customers": "customers"})
        run = run_target(config, text, emulator=emulator)
    tally.runs = 1
    kinds = len(BAD_RECORDS) + len(expected_lines)
    tally.faults = kinds
    failed = run.failed()
    tally.expect(len(failed) == kinds, f"{len(failed)} failed lines for {kinds} bad inputs")
    organization = emulator.organization()
    held = Counter(v["name"] for v in organization.list("vendors"))
    held.update(c["name"] for c in organization.list("customers"))
    held.update(b["invoice"]["invoiceNumber"] for b in organization.list("bills"))
    held.update(i["invoiceNumber"] for i in organization.list("invoices"))
    good = [
        r.get("name") or r.get("invoiceNumber") or r["invoice"]["invoiceNumber"]
        for records in GOOD.values()
        for r in records
    ]
    tally.lost = sum(1 for key in good if held[key] == 0)
    tally.duplicates = sum(held[key] - 1 for key in good if held[key] > 1)
    tally.expect(tally.lost == 0, f"{tally.lost} good records did not land")


def main() -> int:
    scenarios = [
        *(("tap", s) for s in TAP_SCENARIOS),
        *(("tap", s) for s in COVERED_ELSEWHERE),
        *(("tap", s) for s in TAP_STOPS),
        *(("target", s) for s in TARGET_SCENARIOS),
        *(("target", s) for s in TARGET_ACCOUNTING),
        (
            "target",
            Scenario("bad input: every kind in one run, good records around them", bad_input_run),
        ),
    ]
    rows = [HEADER, "|:--|--:|--:|--:|--:|--:|"]
    totals = Counter[str]()
    failures = []
    started = time.monotonic()
    for plugin, scenario in scenarios:
        tally = scenario.run()
        print(f"  {plugin}: {scenario.name}: {tally.problems or 'ok'}", file=sys.stderr)
        if tally.problems or tally.faults == 0:
            failures.append(f"{plugin}: {scenario.name}: {tally.problems or 'no fault fired'}")
        figures = (tally.faults, tally.survived, tally.lost, tally.duplicates, tally.secrets)
        totals.update(dict(zip(("f", "s", "l", "d", "x"), figures, strict=True)))
        rows.append(f"| {plugin}: {scenario.name} | " + " | ".join(map(str, figures)) + " |")
    rows.append(
        f"| **all {len(scenarios)} scenarios** | **{totals['f']}** | **{totals['s']}** "
        f"| **{totals['l']}** | **{totals['d']}** | **{totals['x']}** |"
    )
    print("\n".join(rows))
    print()
    print(f"{SCAN.summary()}; {time.monotonic() - started:.0f} s.")
    for failure in failures:
        print(f"FAILED {failure}", file=sys.stderr)
    return 1 if failures or SCAN.hits else 0


if __name__ == "__main__":
    sys.exit(main())
