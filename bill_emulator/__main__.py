"""`python -m bill_emulator` / `bill-emulator`: serve a seeded emulator until interrupted."""

from __future__ import annotations

import argparse
import gc
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from bill_emulator.demo import DEMO_CREDENTIALS
from bill_emulator.emulator import Emulator, EmulatorConfig


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    defaults = EmulatorConfig()
    parser = argparse.ArgumentParser(
        prog="bill-emulator",
        description="A local BILL v3 API with seeded data (no BILL account needed).",
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="interface to bind (default: %(default)s)"
    )
    parser.add_argument(
        "--port", type=int, default=8765, help="port (0: any free port; default: %(default)s)"
    )
    parser.add_argument(
        "--seed", type=int, default=defaults.seed, help="data seed (default: %(default)s)"
    )
    parser.add_argument(
        "--records",
        type=int,
        default=1000,
        help="transactional records to seed (default: %(default)s)",
    )
    parser.add_argument(
        "--latency-ms",
        type=float,
        default=0.0,
        help="time every API request takes, in ms (default: %(default)s)",
    )
    parser.add_argument(
        "--session-idle-seconds",
        type=float,
        default=defaults.session_idle_seconds,
        help="idle time after which a session ends (default: %(default)s)",
    )
    parser.add_argument(
        "--environment",
        choices=("sandbox", "production"),
        default=defaults.environment,
        help="BILL environment to play",
    )
    strict = parser.add_argument_group(
        "switches",
        "behaviour BILL's documentation does not settle: off by default (the plausible "
        "reading), on for the strict one; sources in bill_emulator/README.md",
    )
    strict.add_argument(
        "--refuse-duplicate-vendor-names",
        action="store_true",
        help="refuse a vendor named like an active vendor (400 BDC_1119)",
    )
    strict.add_argument(
        "--refuse-filters-with-page",
        action="store_true",
        help="refuse `filters` beside a `page` token (400 BDC_1129; tokens carry their filters)",
    )
    strict.add_argument(
        "--refuse-undocumented-updated-time-filter",
        action="store_true",
        help="refuse `updatedTime` filters except on vendors, customers, bills, invoices and "
        "bank accounts (400 BDC_1130)",
    )
    return parser.parse_args(argv)


def config_from(args: argparse.Namespace) -> EmulatorConfig:
    return EmulatorConfig(
        seed=args.seed,
        records=args.records,
        latency_seconds=args.latency_ms / 1000,
        session_idle_seconds=args.session_idle_seconds,
        environment=args.environment,
        refuse_duplicate_vendor_names=args.refuse_duplicate_vendor_names,
        refuse_filters_with_page=args.refuse_filters_with_page,
        refuse_undocumented_updated_time_filter=args.refuse_undocumented_updated_time_filter,
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    emulator = Emulator(config_from(args))
    # The seeded organization lives as long as the process: keep the cyclic garbage collector
    # from scanning it again and again (with 1,000,000 records each full pass took seconds).
    gc.freeze()
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    with emulator.serve(port=args.port, host=args.host) as base_url:
        # Never print the password or the devKey: they are in DEMO_CREDENTIALS / the README.
        print(
            f"BILL emulator at {base_url} (API under /v3): organization "
            f"{DEMO_CREDENTIALS['organization_id']}, username {DEMO_CREDENTIALS['username']}; "
            "password and devKey: bill_emulator.DEMO_CREDENTIALS",
            flush=True,
        )
        stop.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
