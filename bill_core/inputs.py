"""What a user hands the executables, checked before any request: config files, environment
variables, the state file, `start_date`. Each problem is one `InputError` naming the file or
setting and the fix, never a value (a setting may be a password), and ends the run with exit 2
(see bill_core/cli.py); singer-sdk would end it with a traceback.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from collections.abc import Iterator, Mapping
from typing import Any

from bill_core import catalog
from bill_core.catalog import UPDATED_TIME
from bill_core.errors import BillConfigError
from bill_core.paging import parse_time


class InputError(BillConfigError):
    """A config file, state file, environment variable or setting that cannot be used."""


# -- config files --------------------------------------------------------------------------


def read_config_file(path: str) -> dict[str, Any]:
    """One `--config` file as a dict, or an InputError saying what is wrong with it."""
    hint = "give the path of a JSON file holding one object of settings, or ENV"
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except FileNotFoundError:
        raise InputError(f"Config file {path!r} does not exist", hint=hint) from None
    except (OSError, UnicodeDecodeError) as error:
        msg = f"Config file {path!r} cannot be read ({type(error).__name__})"
        raise InputError(msg, hint=hint) from None
    value = _json(text, f"Config file {path!r}", hint)
    if not isinstance(value, dict):
        msg = f"Config file {path!r} holds a JSON {type(value).__name__}, not an object"
        raise InputError(msg, hint=hint)
    return value


def _json(text: str, what: str, hint: str) -> Any:
    if not text.strip():
        raise InputError(f"{what} is empty", hint=hint)
    try:
        return json.loads(text)
    except ValueError as error:
        line, column = getattr(error, "lineno", "?"), getattr(error, "colno", "?")
        msg = f"{what} is not valid JSON (line {line}, column {column})"
        raise InputError(msg, hint=hint) from None


# -- environment variables -----------------------------------------------------------------


def environment_problems(plugin: str, schema: Mapping[str, Any]) -> list[str]:
    """`<PLUGIN>_<SETTING>` variables singer-sdk cannot convert to their setting's type
    (it raises `invalid literal for int()` or a JSON error). Never shows a value."""
    prefix = plugin.upper().replace("-", "_") + "_"
    problems = []
    for name, definition in (schema.get("properties") or {}).items():
        variable = prefix + name.upper().replace("-", "_")
        value = os.environ.get(variable)
        if value is None:
            continue
        kinds = _types(definition)
        if "integer" in kinds and "string" not in kinds:
            if not re.fullmatch(r"\s*[-+]?\d+\s*", value):
                problems.append(f"{variable} must be a whole number, e.g. 3 (for `{name}`)")
        elif kinds & {"object", "array"} and "string" not in kinds:
            try:
                parsed = json.loads(value)
            except ValueError:
                parsed = None
            if not isinstance(parsed, dict | list):
                problems.append(f"{variable} must be JSON, e.g. {{}} or [] (for `{name}`)")
    return problems


def _types(definition: Mapping[str, Any]) -> set[str]:
    kinds = definition.get("type")
    found = {kinds} if isinstance(kinds, str) else set(kinds or ())
    for option in definition.get("anyOf") or definition.get("oneOf") or ():
        found |= _types(option)
    return found


# -- settings problems found by the SDK's JSON Schema check ----------------------------------

#: jsonschema puts the offending value first ("12345678 is not of type 'string'"); each of
#: these starts the part after it. The value is left out: a setting may be a secret.
_PREDICATES = (
    " is not of type ",
    " is not one of ",
    " is not valid under any of the given schemas",
    " is less than ",
    " is greater than ",
    " is too long",
    " is too short",
    " does not match ",
    " should be non-empty",
    " is not a ",
    " has non-unique elements",
    " is not allowed for ",
)
_IN_CONFIG = re.compile(r" in config\[(?P<path>.*)\]$")


def setting_problem(text: str) -> str:
    """A singer-sdk config validation message, naming the setting and never its value:
    "12345678 is not of type 'string' in config['password']" -> "`password` is not of type
    'string' (value not shown)"."""
    found = _IN_CONFIG.search(text)
    message = text[: found.start()] if found else text
    keys = re.findall(r"'((?:[^'\\]|\\.)*)'|(\d+)", found.group("path")) if found else []
    path = ".".join(name or number for name, number in keys)
    if message.endswith(" is a required property") or message.startswith("Additional properties"):
        return message  # names properties, holds no value
    cut = max((message.rfind(p), p) for p in _PREDICATES)
    setting = f"`{path}`" if path else "a setting"
    if cut[0] < 0:
        return f"{setting} has a value that is not allowed (value not shown)"
    return f"{setting}{message[cut[0] :]} (value not shown)"


# -- start_date ----------------------------------------------------------------------------


def start_date(config: Mapping[str, Any]) -> dt.datetime | None:
    """`start_date` as an aware datetime, or an InputError naming the accepted forms."""
    value = config.get("start_date")
    if value in (None, ""):
        return None
    hint = "use an ISO 8601 date or date-time, e.g. 2026-01-31 or 2026-01-31T00:00:00Z"
    if not isinstance(value, str):
        raise InputError("`start_date` is not text", hint=hint)
    try:
        return parse_time(value)
    except ValueError:
        raise InputError(f"`start_date` {value!r} is not a date", hint=hint) from None


def future_warning(what: str, moment: dt.datetime, now: dt.datetime | None = None) -> str | None:
    """A warning when a start point lies ahead of now: nothing would be read."""
    now = now or dt.datetime.now(dt.timezone.utc)
    if moment <= now:
        return None
    return (
        f"{what} ({moment.isoformat()}) is in the future: records are read only once they are "
        "updated after it, so this run emits none for it. If that is not meant, check the "
        "clock, the setting or the state"
    )


# -- the state file ------------------------------------------------------------------------

#: Wrappers a state is found in: a STATE message's value (also without its type), and
#: Meltano's `meltano state get` output.
_WRAPPERS = ("value", "singer_state")


def read_state(text: str, name: str) -> tuple[dict[str, Any], list[str]]:
    """A `--state` file's state and the notes worth logging; an InputError when it cannot
    be used: not JSON, not an object, bookmarks of the wrong shape, a bookmark of an
    incremental stream without `replication_key` or whose value is not a date-time."""
    hint = (
        'give the last STATE message\'s value ({"bookmarks": {...}}) or {} for none, or '
        "leave out --state to read everything from start_date"
    )
    what = f"State file {name!r}"
    value = _json(text, what, hint)
    notes = []
    while isinstance(value, dict) and "bookmarks" not in value:
        wrapper = next((k for k in _WRAPPERS if isinstance(value.get(k), dict)), None)
        if wrapper is None:
            break
        notes.append(f"{what}: the state was read from its {wrapper!r} wrapper")
        value = value[wrapper]
    if not isinstance(value, dict):
        raise InputError(f"{what} holds a JSON {type(value).__name__}, not an object", hint=hint)
    bookmarks = value.get("bookmarks", {})
    if not isinstance(bookmarks, dict):
        raise InputError(f"{what}: `bookmarks` is not an object", hint=hint)
    for stream, bookmark in bookmarks.items():
        if not isinstance(bookmark, dict):
            raise InputError(f"{what}: the bookmark of {stream!r} is not an object", hint=hint)
        for where, entry in _replication_entries(bookmark):
            problem = _entry_problem(stream, entry)
            if problem:
                raise InputError(f"{what}: the bookmark of {stream!r}{where} {problem}", hint=hint)
            moment = parse_time(entry["replication_key_value"])
            warning = future_warning(f"the bookmark of {stream!r}", moment)
            if warning:
                notes.append(f"{what}: {warning}")
    return value, notes


def _replication_entries(bookmark: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    if "replication_key_value" in bookmark or "replication_key" in bookmark:
        yield "", bookmark
    for number, partition in enumerate(bookmark.get("partitions") or []):
        if isinstance(partition, dict) and "replication_key_value" in partition:
            yield f" (partition {number})", partition


def _entry_problem(stream: str, entry: dict[str, Any]) -> str | None:
    known = {o.stream: o for o in catalog.OBJECTS}.get(stream)
    key, value = entry.get("replication_key"), entry.get("replication_key_value")
    if "replication_key_value" not in entry:
        return "has a replication_key but no replication_key_value"
    if key is None:
        return "has a replication_key_value but no replication_key (updatedTime)"
    if known is not None and known.incremental and key != UPDATED_TIME:
        return f"has replication_key {str(key)[:40]!r}, not {UPDATED_TIME!r}"
    if not isinstance(value, str):
        return f"has a replication_key_value that is a JSON {type(value).__name__}, not a date-time"
    try:
        parse_time(value)
    except ValueError:
        return "has a replication_key_value that is not a date-time"
    return None
