"""Airbyte's words for what the tap already has: the connection spec (from the tap's settings),
the catalog (from the tap's Singer catalog), the configured catalog (back to a Singer catalog
with the same selection and replication method) and per-stream state (Singer bookmarks).

Pure functions on JSON values; no process is run here.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import msgspec

from source_billcom.messages import ENCODER

FULL_REFRESH = "full_refresh"
INCREMENTAL = "incremental"


class InputError(ValueError):
    """A catalog or state given to `read` that cannot be used; the text says what to fix."""


# -- spec -------------------------------------------------------------------------------------


def connection_specification(settings: Mapping[str, Any]) -> dict[str, Any]:
    """The tap's settings schema (what `tap-billcom --about` lists as its own settings) as an
    Airbyte connectionSpecification: secrets marked `airbyte_secret` (Airbyte masks them in
    its UI and logs), one type per setting, and the order of --about for Airbyte's form."""
    schema = copy.deepcopy(dict(settings))
    for order, prop in enumerate(schema.get("properties", {}).values()):
        if prop.get("secret"):
            prop["airbyte_secret"] = True
        types = prop.get("type")
        if isinstance(types, list) and len(types) == 1:
            prop["type"] = types[0]
        prop["order"] = order
    # Airbyte reads connection specifications as JSON Schema draft-07.
    schema["$schema"] = "http://json-schema.org/draft-07/schema#"
    return {"title": "BILL (Bill.com) Source Spec", **schema}


def secret_settings(settings: Mapping[str, Any]) -> list[str]:
    return [name for name, prop in settings.get("properties", {}).items() if prop.get("secret")]


# -- discover ---------------------------------------------------------------------------------


def replication_key(entry: Mapping[str, Any]) -> str | None:
    """The Singer catalog entry's replication key (None: the stream is read in full)."""
    if entry.get("replication_key"):
        return str(entry["replication_key"])
    for metadata in entry.get("metadata", []):
        if metadata.get("breadcrumb") == [] and metadata.get("metadata", {}).get("replication-key"):
            return str(metadata["metadata"]["replication-key"])
    return None


def airbyte_stream(entry: Mapping[str, Any], parent: Mapping[str, Any] | None) -> dict[str, Any]:
    """An AirbyteStream for one Singer catalog entry (`parent`: the entry of the stream whose
    records it is read for, if any). Every stream can be read in full. A stream with a
    replication key is incremental on that cursor, which the source defines (`updatedTime`).
    A child of an incremental parent is incremental the way the tap reads it: the children of
    the parent records read in this run, i.e. of those changed since the last run."""
    key = replication_key(entry)
    follows = parent is not None and replication_key(parent) is not None
    stream: dict[str, Any] = {
        "name": entry["tap_stream_id"],
        "json_schema": entry["schema"],
        "supported_sync_modes": [FULL_REFRESH, INCREMENTAL] if key or follows else [FULL_REFRESH],
        "source_defined_primary_key": [[k] for k in entry.get("key_properties") or []],
        "is_resumable": key is not None,
    }
    if key or follows:
        stream["source_defined_cursor"] = True
    if key:
        stream["default_cursor_field"] = [key]
    return stream


def airbyte_catalog(
    singer_catalog: Mapping[str, Any], parents: Mapping[str, str | None]
) -> dict[str, Any]:
    entries = {entry["tap_stream_id"]: entry for entry in singer_catalog["streams"]}
    return {
        "streams": [
            airbyte_stream(entry, entries.get(parents.get(name) or ""))
            for name, entry in entries.items()
        ]
    }


# -- read: configured catalog -> Singer catalog ---------------------------------------------------


@dataclass
class ReadPlan:
    """What one `read` asks of the tap."""

    singer_catalog: dict[str, Any]
    #: Configured streams, in the tap's order.
    streams: list[str] = field(default_factory=list)
    #: Streams read incrementally: their cursor's state is emitted.
    incremental: set[str] = field(default_factory=set)
    #: Incremental streams that do not resume from the state given to `read` in this run.
    fresh: set[str] = field(default_factory=set)
    #: What the adapter decided that the user may want to know (logged).
    notes: list[str] = field(default_factory=list)


def plan_read(
    singer_catalog: Mapping[str, Any],
    configured: Any,
    parents: Mapping[str, str | None],
) -> ReadPlan:
    """The tap's discovered catalog with the configured catalog's selection: configured
    streams selected (and only the configured fields where the catalog narrows the schema),
    `replication_method` INCREMENTAL where the sync mode is incremental and the stream has a
    cursor, FULL_TABLE otherwise.

    A stream without a cursor asked for incrementally is read in full (Airbyte's CDK does the
    same; PyAirbyte asks every stream for incremental). `parents` maps child streams to the
    stream whose records they are read for. An incremental child follows its parent's
    cursor. A full refresh of a child is complete only when its parent is read in full, so
    it makes an incremental parent ignore its state in this run (the parent's records are
    sent again, which Airbyte's incremental modes allow; its cursor still advances).
    """
    wanted = configured_streams(configured)
    catalog = copy.deepcopy(dict(singer_catalog))
    entries = {entry["tap_stream_id"]: entry for entry in catalog["streams"]}
    unknown = sorted(set(wanted) - set(entries))
    if unknown:
        msg = (
            f"The configured catalog names stream(s) {', '.join(unknown)} that tap-billcom does "
            "not have. What to do: run `discover` again and configure streams from its catalog."
        )
        raise InputError(msg)
    plan = ReadPlan(singer_catalog=catalog)
    for name, entry in entries.items():
        chosen = wanted.get(name)
        root = _root_metadata(entry)
        root["selected"] = chosen is not None
        if chosen is None:
            continue
        plan.streams.append(name)
        key = replication_key(entry)
        if chosen["sync_mode"] == INCREMENTAL and key is None and not parents.get(name):
            plan.notes.append(f"Stream {name} has no cursor: it is read in full.")
        if chosen["sync_mode"] == INCREMENTAL and key is not None:
            entry["replication_method"] = "INCREMENTAL"
            plan.incremental.add(name)
        else:
            entry["replication_method"] = "FULL_TABLE"
        _select_fields(entry, chosen.get("stream", {}).get("json_schema"))
    for name in plan.streams:
        parent = parents.get(name)
        full = wanted[name]["sync_mode"] == FULL_REFRESH
        if full and parent in plan.incremental and parent not in plan.fresh:
            plan.fresh.add(parent)
            plan.notes.append(
                f"A full refresh of {name} needs every {parent} record, so {parent} is read in "
                "full in this run (its records are sent again; its cursor still advances)."
            )
    return plan


def configured_streams(configured: Any) -> dict[str, Mapping[str, Any]]:
    """Configured streams by name, checked for what `read` needs."""
    streams = configured.get("streams") if isinstance(configured, Mapping) else None
    if not isinstance(streams, list):
        msg = (
            "The configured catalog has no `streams` list. What to do: pass a "
            "ConfiguredAirbyteCatalog."
        )
        raise InputError(msg)
    wanted: dict[str, Mapping[str, Any]] = {}
    for position, item in enumerate(streams):
        name = item.get("stream", {}).get("name") if isinstance(item, Mapping) else None
        mode = item.get("sync_mode") if isinstance(item, Mapping) else None
        if not isinstance(name, str) or mode not in (FULL_REFRESH, INCREMENTAL):
            msg = (
                f"Configured stream #{position + 1} needs `stream.name` and a `sync_mode` of "
                f"{FULL_REFRESH} or {INCREMENTAL}."
            )
            raise InputError(msg)
        if name in wanted:
            msg = f"The configured catalog names stream {name} twice."
            raise InputError(msg)
        wanted[name] = item
    return wanted


def _root_metadata(entry: dict[str, Any]) -> dict[str, Any]:
    for metadata in entry.setdefault("metadata", []):
        if metadata.get("breadcrumb") == []:
            inner: dict[str, Any] = metadata.setdefault("metadata", {})
            return inner
    root: dict[str, Any] = {}
    entry["metadata"].append({"breadcrumb": [], "metadata": root})
    return root


def _select_fields(entry: dict[str, Any], json_schema: Any) -> None:
    """Deselect the fields a configured stream's schema leaves out (Airbyte's column
    selection); the tap's key and cursor fields stay (`inclusion: automatic`)."""
    properties = json_schema.get("properties") if isinstance(json_schema, Mapping) else None
    if not isinstance(properties, Mapping):
        return
    kept = set(properties)
    for metadata in entry.get("metadata", []):
        breadcrumb = metadata.get("breadcrumb") or []
        inner = metadata.get("metadata", {})
        if (
            len(breadcrumb) == 2
            and breadcrumb[0] == "properties"
            and inner.get("inclusion") != "automatic"
        ):
            inner["selected"] = breadcrumb[1] in kept


# -- state -------------------------------------------------------------------------------------


class _Descriptor(msgspec.Struct):
    name: str
    namespace: str | None = None


#: msgspec takes no Raw in a union (`Raw | None`): an absent field is an empty Raw.
NONE = msgspec.Raw()


class _StreamState(msgspec.Struct):
    stream_descriptor: _Descriptor
    stream_state: msgspec.Raw = NONE


class _GlobalState(msgspec.Struct):
    stream_states: list[_StreamState] = []


class _StateMessage(msgspec.Struct, rename={"global_": "global"}):
    type: str | None = None
    stream: _StreamState | None = None
    global_: _GlobalState | None = None
    data: msgspec.Raw = NONE


class _SingerState(msgspec.Struct):
    bookmarks: dict[str, msgspec.Raw] = {}


def read_state(text: bytes) -> dict[str, msgspec.Raw]:
    """Each stream's state from the `--state` file, as its JSON text: a list of per-stream
    (or global) AirbyteStateMessages, one such message, or a legacy state object (which, for
    this source, is Singer state: `{"bookmarks": {...}}`)."""
    try:
        shape = msgspec.json.decode(text)
        if isinstance(shape, dict) and "type" in shape:
            text, shape = b"[" + text + b"]", [shape]
        if not shape:
            return {}
        if isinstance(shape, dict):
            return dict(msgspec.json.decode(text, type=_SingerState).bookmarks)
        states: dict[str, msgspec.Raw] = {}
        for message in msgspec.json.decode(text, type=list[_StateMessage]):
            if message.data and bytes(message.data) != b"null":
                states.update(msgspec.json.decode(message.data, type=_SingerState).bookmarks)
            streams = [message.stream] if message.stream else []
            streams += message.global_.stream_states if message.global_ else []
            for stream in streams:
                if stream.stream_state and bytes(stream.stream_state) != b"null":
                    states[stream.stream_descriptor.name] = stream.stream_state
    except (msgspec.DecodeError, msgspec.ValidationError) as error:
        msg = (
            f"The state file is not Airbyte state ({error}). What to do: pass the state the "
            "last `read` emitted (a list of per-stream AirbyteStateMessages), or none to read "
            "everything."
        )
        raise InputError(msg) from None
    return states


def singer_state(states: Mapping[str, msgspec.Raw], plan: ReadPlan) -> bytes:
    """The Singer state the tap resumes from: the bookmarks of the streams read
    incrementally, except those read in full in this run."""
    resumed = plan.incremental - plan.fresh
    bookmarks = {name: raw for name, raw in states.items() if name in resumed}
    return ENCODER.encode({"bookmarks": bookmarks})
