"""`source-billcom spec | check | discover | read`: Airbyte's source commands over tap-billcom.

Every command but `spec` runs the tap's own command as a child process (see tapprocess.py):

- `check --config C`    -> `tap-billcom --config C --test`  (CONNECTION_STATUS)
- `discover --config C` -> `tap-billcom --config C --discover` (CATALOG)
- `read --config C --catalog K [--state S]` -> `tap-billcom --config C --catalog K' --state S'`
  where K' and S' are K and S in Singer's words (translate.py), and the tap's messages are
  translated back (reading.py).

A failed command ends with a TRACE error carrying the tap's own text, typed from the tap's
exit status: 2 (a setting to fix) config_error, 3 (BILL's hourly request limit; state saved)
transient_error, 1 (a BILL error) system_error, or config_error when BILL refused the sign-in
or the session. `read` and `discover` then exit with the tap's status (128 + N after signal N).
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import signal
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bill_core import catalog as bill_catalog
from bill_core.errors import LOGIN_CODES, UNTRUSTED_SESSION
from source_billcom.messages import CONFIG_ERROR, SYSTEM_ERROR, TRANSIENT_ERROR, Output
from source_billcom.reading import Translator
from source_billcom.tapprocess import Forwarding, TapExit, forwarded_signals, run_tap
from source_billcom.translate import (
    InputError,
    airbyte_catalog,
    connection_specification,
    plan_read,
    read_state,
    secret_settings,
    singer_state,
)

#: The tap's exit statuses (tap_billcom.tap): a setting to fix, and BILL's hourly limit.
TAP_CONFIG_ERROR = 2
TAP_HOURLY_LIMIT = 3
#: BILL codes of a BILL error that a person has to fix in the settings (sign-in refused,
#: untrusted session): retrying would only lock the login (BDC_1110).
CONFIG_CODES = frozenset(LOGIN_CODES | {UNTRUSTED_SESSION})
_CODE = re.compile(r"\bBDC_\d+\b")
SYNC = "The sync"


def settings_schema() -> Mapping[str, Any]:
    """The tap's own settings: those of `--about` without the SDK's stream maps, flattening
    and batch settings (which the SDK adds to the tap's schema when a tap is made), as they
    would rename streams, reshape records or write BATCH messages behind the catalog's back."""
    from singer_sdk.helpers.capabilities import BATCH_CONFIG, FLATTENING_CONFIG, STREAM_MAPS_CONFIG

    from tap_billcom.tap import TapBillcom

    sdk = {
        name
        for settings in (STREAM_MAPS_CONFIG, FLATTENING_CONFIG, BATCH_CONFIG)
        for name in settings["properties"]
    }
    schema = copy.deepcopy(TapBillcom.config_jsonschema)
    schema["properties"] = {k: v for k, v in schema["properties"].items() if k not in sdk}
    schema["required"] = [k for k in schema.get("required", []) if k not in sdk]
    return schema


def parents() -> dict[str, str | None]:
    """Child stream -> the stream whose records it is read for (bill_core.catalog, where the
    tap's streams take theirs from; a Singer catalog does not say)."""
    return {o.stream: o.parent for o in bill_catalog.OBJECTS}


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="source-billcom",
        description="BILL (Bill.com) as an Airbyte source: tap-billcom behind Airbyte's protocol.",
    )
    commands = root.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("spec", help="the connection specification")
    for name, text in (("check", "sign in and read one page"), ("discover", "the catalog")):
        command = commands.add_parser(name, help=text)
        command.add_argument("--config", required=True, help="config JSON file")
    read = commands.add_parser("read", help="read the configured streams")
    read.add_argument("--config", required=True, help="config JSON file")
    read.add_argument("--catalog", required=True, help="ConfiguredAirbyteCatalog JSON file")
    read.add_argument("--state", help="state JSON file (what the last read emitted)")
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "spec":
        Output().message({"type": "SPEC", "spec": spec()})
        return 0
    output = Output()
    try:
        config = load_json(args.config, "config")
        if not isinstance(config, Mapping):
            raise InputError(f"The config file {args.config} is not a JSON object.")
    except InputError as error:
        if args.command == "check":
            output.connection_status(False, str(error))
            return 0
        output.error(str(error), CONFIG_ERROR)
        return TAP_CONFIG_ERROR
    output.secrets = tuple(
        str(config[n]) for n in secret_settings(settings_schema()) if config.get(n)
    )
    with (
        tempfile.TemporaryDirectory(prefix="source-billcom-") as folder,
        forwarded_signals() as signals,
    ):
        tap = TapCommand(Path(folder), output, signals)
        if args.command == "check":
            return check(args.config, tap)
        if args.command == "discover":
            return discover(args.config, tap)
        return read(args.config, args.catalog, args.state, tap)


@dataclass
class TapCommand:
    """What running the tap needs: a folder for its files, the output, the signal relay."""

    folder: Path
    output: Output
    signals: Forwarding

    def run(self, args: list[str], on_line: Callable[[bytes], None]) -> TapExit:
        return run_tap(args, self.output, self.folder, on_line, self.signals)


def spec() -> dict[str, Any]:
    return {
        "connectionSpecification": connection_specification(settings_schema()),
        "supportsIncremental": True,
    }


def check(config: str, tap: TapCommand) -> int:
    output = tap.output
    result = tap.run(["--config", config, "--test"], lambda line: None)
    if result.returncode == 0 and not result.signals:
        output.connection_status(True, result.infos[-1] if result.infos else "Connection OK.")
        return 0
    output.connection_status(False, failure_text(result, "The connection check"))
    return exit_status(result) if result.signals else 0


def singer_catalog(config: str, tap: TapCommand) -> tuple[Any, TapExit]:
    lines: list[bytes] = []
    result = tap.run(["--config", config, "--discover"], lines.append)
    if result.returncode != 0:
        return None, result
    try:
        return json.loads(b"".join(lines)), result
    except ValueError as error:
        result.errors.append(f"tap-billcom --discover wrote no JSON catalog ({error}).")
        result.returncode = 1
        return None, result


def discover(config: str, tap: TapCommand) -> int:
    output = tap.output
    found, result = singer_catalog(config, tap)
    if found is None or result.signals:
        return fail(result, output, "Discovery")
    output.message({"type": "CATALOG", "catalog": airbyte_catalog(found, parents())})
    return 0


def read(config: str, catalog: str, state: str | None, tap: TapCommand) -> int:
    output, folder = tap.output, tap.folder
    try:
        configured = load_json(catalog, "catalog")
        states = read_state(load_bytes(state, "state")) if state else {}
    except InputError as error:
        output.error(str(error), CONFIG_ERROR)
        return TAP_CONFIG_ERROR
    found, result = singer_catalog(config, tap)
    if found is None or result.signals:
        return fail(result, output, SYNC)
    try:
        plan = plan_read(found, configured, parents())
    except InputError as error:
        output.error(str(error), CONFIG_ERROR)
        return TAP_CONFIG_ERROR
    for note in plan.notes:
        output.log("INFO", note)
    (folder / "catalog.json").write_text(json.dumps(plan.singer_catalog))
    (folder / "state.json").write_bytes(singer_state(states, plan))
    translator = Translator(plan, states, output)
    args = ["--config", config, "--catalog", str(folder / "catalog.json")]
    result = tap.run([*args, "--state", str(folder / "state.json")], translator)
    # The SDK answers SIGTERM with exit status 0 (singer_sdk.plugin_base._handle_termination):
    # a sync a signal reached is incomplete, whatever the tap's status.
    complete = result.returncode == 0 and not result.signals
    translator.finish(complete=complete)
    total = sum(translator.records.values()) + sum(translator.pending.values())
    output.log("INFO", f"source-billcom sent {total} records of {len(plan.streams)} streams.")
    if translator.unreadable:
        output.log("WARN", f"{translator.unreadable} line(s) of the tap's output were cut short.")
    return 0 if complete else fail(result, output, SYNC)


def fail(result: TapExit, output: Output, what: str) -> int:
    """A TRACE error for a tap that ended badly; the exit status for this process."""
    internal = f"tap-billcom exited with status {result.returncode}"
    output.error(
        failure_text(result, what),
        failure_type(result),
        internal=internal,
        stack_trace="\n".join(result.traces) or None,
    )
    return exit_status(result)


def failure_text(result: TapExit, what: str) -> str:
    if result.signals:
        name = signal.Signals(result.signals[0]).name
        text = f"{what} was stopped by {name} before it finished."
        if what == SYNC:
            text += " Everything before the last STATE message is saved; the next run resumes."
        return text
    if result.errors:
        return "\n".join(result.errors)
    said = f": {result.traces[-1]}" if result.traces else ""
    return f"{what} failed: tap-billcom exited with status {result.returncode}{said}"


def failure_type(result: TapExit) -> str:
    if result.signals or result.returncode == TAP_HOURLY_LIMIT:
        return TRANSIENT_ERROR
    if result.returncode == TAP_CONFIG_ERROR:
        return CONFIG_ERROR
    codes = {code for text in result.errors for code in _CODE.findall(text)}
    return CONFIG_ERROR if codes & CONFIG_CODES else SYSTEM_ERROR


def exit_status(result: TapExit) -> int:
    """The tap's status; 128 + N after signal N (as a shell reports it)."""
    if result.signals:
        return 128 + result.signals[0]
    if result.returncode < 0:
        return 128 - result.returncode
    return result.returncode or 1


def load_bytes(path: str, what: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as error:
        msg = f"The {what} file {path} cannot be read ({error.strerror}). What to do: check it."
        raise InputError(msg) from None


def load_json(path: str, what: str) -> Any:
    try:
        return json.loads(load_bytes(path, what))
    except ValueError as error:
        msg = f"The {what} file {path} is not JSON ({error}). What to do: check the file."
        raise InputError(msg) from None
