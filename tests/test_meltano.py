"""The connectors under Meltano: meltano.yml matches tap-billcom and target-billcom,
`meltano run tap-billcom target-jsonl` is incremental, and `meltano run tap-singer-jsonl
target-billcom` lands the ERP sample in BILL once.

The end-to-end tests run Meltano 4.4.1 from .venv-meltano (`make meltano` creates it; the
fixture below creates it too when it is missing) in a temporary copy of the repository's
meltano.yml, so the repository's own .meltano/ and output/ are never touched. The copy's
`pip_url: -e .` lines are rewritten to the repository's absolute path, and the ERP sample is
copied to the same place under it (meltano.yml reads ${MELTANO_PROJECT_ROOT}/examples/erp).
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml

from bill_core import catalog
from bill_emulator import DEMO_CREDENTIALS, Emulator
from scripts import plugin_about
from target_billcom.target import TargetBillcom
from tests.meltanorun import environment_without, run_meltano
from tests.taprun import assert_no_secret
from tests.targetrun import SAMPLE, write_calls

ROOT = Path(__file__).resolve().parents[1]
STATE_ID = "dev:tap-billcom-to-target-jsonl"
INCREMENTAL = {o.stream for o in catalog.OBJECTS if o.incremental and o.parent is None}
CHILDREN = {o.stream for o in catalog.OBJECTS if o.parent}
SENSITIVE = {"password", "dev_key", "mfa_remember_me_id"}
#: Generic SDK settings of target-billcom's --about that meltano.yml leaves out: the target
#: matches records to BILL's and batches by BILL's own limits, so they do nothing useful there.
TARGET_LEFT_OUT = ["add_record_metadata", "load_method", "batch_size_rows"]
#: target-billcom's own settings and the connection settings (bill_core.settings).
TARGET_OWN = list(TargetBillcom.config_jsonschema["properties"])
#: Where meltano.yml's target-billcom writes its results file, under the project root.
RESULTS_FILE = Path("output", "billcom-results.jsonl")
STARTED = re.compile(r"Starting incremental sync of '(\w+)' with bookmark value: (\S+)")


def project_plugin(kind: str, name: str) -> dict[str, Any]:
    project = yaml.safe_load((ROOT / "meltano.yml").read_text())
    plugins = project["plugins"][kind]
    return next(p for p in plugins if p["name"] == name)


# -- meltano.yml against the tap (no Meltano needed) -------------------------------------------


def expected_kind(schema: dict[str, Any]) -> str:
    types = [t for t in schema.get("type", []) if t != "null"]
    if "enum" in schema:
        return "options"
    if schema.get("format") == "date-time":
        return "date_iso8601"
    kinds = {"string": "string", "integer": "integer", "boolean": "boolean", "number": "decimal"}
    return kinds.get(types[0], "object") if types else "object"


@pytest.fixture(scope="module")
def about() -> dict[str, Any]:
    return plugin_about.about("tap_billcom")


@pytest.fixture(scope="module")
def target_about() -> dict[str, Any]:
    return plugin_about.about("target_billcom")


def assert_settings_as_described(
    plugin: dict[str, Any], about: dict[str, Any], names: list[str]
) -> None:
    """The plugin declares exactly `names`, in order, each as --about describes it."""
    declared = {s["name"]: s for s in plugin["settings"]}
    properties = about["settings"]["properties"]
    assert list(declared) == names
    for name in names:
        schema, setting = properties[name], declared[name]
        assert setting["label"] == schema["title"], name
        assert setting["description"] == schema["description"], name
        assert setting["kind"] == expected_kind(schema), name
        assert setting.get("sensitive", False) == bool(schema.get("secret")), name
        if "enum" in schema:
            assert [o["value"] for o in setting["options"]] == schema["enum"], name
    assert {s for s in declared if declared[s].get("sensitive")} == SENSITIVE
    required = about["settings"]["required"]
    assert plugin["settings_group_validation"][0] == required
    assert all(set(required) <= set(group) for group in plugin["settings_group_validation"])


def test_meltano_yml_declares_every_tap_setting_as_the_tap_describes_it(
    about: dict[str, Any],
) -> None:
    tap = project_plugin("extractors", "tap-billcom")
    assert_settings_as_described(tap, about, list(about["settings"]["properties"]))


def test_meltano_yml_declares_the_target_settings_as_the_target_describes_them(
    target_about: dict[str, Any],
) -> None:
    target = project_plugin("loaders", "target-billcom")
    properties = list(target_about["settings"]["properties"])
    # Every own and connection setting is declared; only the listed SDK built-ins are not.
    assert set(TARGET_OWN) <= set(properties)
    assert not set(TARGET_LEFT_OUT) & set(TARGET_OWN)
    assert set(TARGET_LEFT_OUT) <= set(properties)
    assert_settings_as_described(
        target, target_about, [n for n in properties if n not in TARGET_LEFT_OUT]
    )


def test_meltano_yml_capabilities_are_the_taps(about: dict[str, Any]) -> None:
    tap = project_plugin("extractors", "tap-billcom")
    assert set(tap["capabilities"]) <= set(about["capabilities"])
    assert {"state", "catalog", "discover"} <= set(tap["capabilities"])  # state and selection


def test_meltano_yml_capabilities_are_the_targets(target_about: dict[str, Any]) -> None:
    target = project_plugin("loaders", "target-billcom")
    assert target["capabilities"] == target_about["capabilities"]
    assert target["executable"] == "target-billcom"


def test_meltano_yml_needs_no_meltano_hub() -> None:
    project = yaml.safe_load((ROOT / "meltano.yml").read_text())
    assert project["default_environment"] in {e["name"] for e in project["environments"]}
    for plugins in project["plugins"].values():
        for plugin in plugins:
            assert plugin.get("namespace"), f"{plugin['name']} would be looked up on Meltano Hub"
            assert plugin.get("pip_url"), plugin["name"]
    duckdb = project_plugin("loaders", "target-duckdb")
    assert "duckdb==1.2.2" in duckdb["pip_url"].split()  # newer duckdb drops rows silently


# -- meltano run, end to end -------------------------------------------------------------------


@pytest.fixture(scope="module")
def meltano_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A throw-away Meltano project: the repository's meltano.yml, tap installed from ROOT."""
    project = tmp_path_factory.mktemp("meltano-project")
    text = (ROOT / "meltano.yml").read_text()
    assert text.count("pip_url: -e .\n") == 2  # tap-billcom and target-billcom
    text = text.replace("pip_url: -e .\n", f"pip_url: -e {shlex.quote(str(ROOT))}\n")
    (project / "meltano.yml").write_text(text)
    sample = project / SAMPLE.relative_to(ROOT)
    sample.parent.mkdir(parents=True)
    sample.write_bytes(SAMPLE.read_bytes())
    return project


#: Environment variables of the project's plugins (and Meltano's own), never inherited.
PLUGIN_ENV_PREFIXES = (
    "TAP_BILLCOM_",
    "TAP_SINGER_JSONL_",
    "TARGET_BILLCOM_",
    "TARGET_JSONL_",
    "TARGET_DUCKDB_",
    "MELTANO_",
)


class Meltano:
    def __init__(self, exe: Path, project: Path, base_url: str) -> None:
        self.exe = exe
        self.project = project
        self.env = environment_without(PLUGIN_ENV_PREFIXES)
        self.env.update(
            MELTANO_PROJECT_ROOT=str(project),
            NO_COLOR="1",
            TAP_BILLCOM_USERNAME=DEMO_CREDENTIALS["username"],
            TAP_BILLCOM_PASSWORD=DEMO_CREDENTIALS["password"],
            TAP_BILLCOM_ORGANIZATION_ID=DEMO_CREDENTIALS["organization_id"],
            TAP_BILLCOM_DEV_KEY=DEMO_CREDENTIALS["dev_key"],
            TAP_BILLCOM_BASE_URL=base_url,
            TARGET_JSONL_DO_TIMESTAMP_FILE="false",
        )

    def __call__(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        """Run Meltano; on a hang, stop it with its tap and target (its own process group)."""
        return run_meltano(self.exe, self.project, args, {**self.env, **env})


@pytest.fixture
def meltano(meltano_exe: Path, meltano_project: Path, emulator: Emulator) -> Meltano:
    assert emulator.base_url, "the emulator fixture serves"
    return Meltano(meltano_exe, meltano_project, emulator.base_url)


def read_jsonl(folder: Path) -> dict[str, list[dict[str, Any]]]:
    return {
        path.stem: [json.loads(line) for line in path.read_text().splitlines()]
        for path in sorted(folder.glob("*.jsonl"))
    }


def instant(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def saved_bookmarks(meltano: Meltano) -> dict[str, str]:
    state = json.loads(meltano("state", "get", STATE_ID).stdout)
    return {
        stream: value["replication_key_value"]
        for stream, value in state["singer_state"]["bookmarks"].items()
        if "replication_key_value" in value
    }


def test_meltano_run_to_jsonl_then_incremental_rerun(
    meltano: Meltano, emulator: Emulator, tmp_path: Path
) -> None:
    first_dir, second_dir = tmp_path / "run-1", tmp_path / "run-2"
    project_file = meltano.project / "meltano.yml"
    as_written = project_file.read_bytes()
    # `meltano run` installs the plugins first (auto_install), from PyPI and the repository.
    run = meltano(
        "run", "tap-billcom", "target-jsonl", TARGET_JSONL_DESTINATION_PATH=str(first_dir)
    )
    assert set(STARTED.findall(run.stderr)) == {(s, "None") for s in INCREMENTAL}
    first = read_jsonl(first_dir)
    assert len(first) >= 10, sorted(first)
    assert set(first) >= INCREMENTAL
    assert not CHILDREN & set(first), "meltano.yml's select should leave child streams out"
    secrets = [DEMO_CREDENTIALS["password"], DEMO_CREDENTIALS["dev_key"]]
    assert not [s for s in secrets if s in run.stderr + run.stdout]

    bookmarks = saved_bookmarks(meltano)
    assert set(bookmarks) == INCREMENTAL
    for stream, value in bookmarks.items():
        assert value == max((r["updatedTime"] for r in first[stream]), key=instant), stream

    # One change in BILL between the runs: the second run must pick it up.
    changed = emulator.organization().update("bills", first["bills"][0]["id"], {"description": "x"})

    run = meltano(
        "run", "tap-billcom", "target-jsonl", TARGET_JSONL_DESTINATION_PATH=str(second_dir)
    )
    assert dict(STARTED.findall(run.stderr)) == bookmarks
    second = read_jsonl(second_dir)
    first_total = sum(len(first[s]) for s in INCREMENTAL)
    second_total = sum(len(second.get(s, [])) for s in INCREMENTAL)
    assert second_total <= max(len(INCREMENTAL) * 2, first_total // 20), (first_total, second)
    for stream in INCREMENTAL:
        for record in second.get(stream, []):
            assert instant(record["updatedTime"]) >= instant(bookmarks[stream]), stream
    assert changed["id"] in {r["id"] for r in second["bills"]}
    # Full-table streams have no bookmark: they come again in full.
    for stream in set(first) - INCREMENTAL:
        assert len(second.get(stream, [])) == len(first[stream]), stream

    # Meltano rewrites meltano.yml (reordered, comments moved) if it lacks a project_id.
    assert project_file.read_bytes() == as_written

    # The tap ends every stream with a STATE (tap_billcom/client.py): without it, target-jsonl
    # 0.1.4 forgets the state seen before the last stream's RECORDs and Meltano saves nothing.
    after = saved_bookmarks(meltano)
    assert after == {**bookmarks, "bills": changed["updatedTime"]}


# -- meltano run tap-singer-jsonl target-billcom: the ERP sample into BILL ---------------------


def sample_records() -> dict[str, list[dict[str, Any]]]:
    records: dict[str, list[dict[str, Any]]] = {}
    for line in SAMPLE.read_text().splitlines():
        message = json.loads(line)
        if message["type"] == "RECORD":
            records.setdefault(message["stream"], []).append(message["record"])
    return records


def only(records: list[dict[str, Any]], what: str) -> dict[str, Any]:
    assert len(records) == 1, f"{len(records)} BILL records for {what}"
    return records[0]


def read_results(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_meltano_run_erp_sample_into_billcom_then_rerun_writes_nothing(
    meltano: Meltano, emulator: Emulator
) -> None:
    sample = sample_records()
    assert set(sample) == {"vendors", "customers", "bills", "invoices"}
    total = sum(len(records) for records in sample.values())
    credentials = {
        f"TARGET_BILLCOM_{name.upper()}": DEMO_CREDENTIALS[name]
        for name in ("username", "password", "organization_id", "dev_key")
    }
    env = {**credentials, "TARGET_BILLCOM_BASE_URL": emulator.base_url}
    results_file = meltano.project / RESULTS_FILE
    secrets = [DEMO_CREDENTIALS["password"], DEMO_CREDENTIALS["dev_key"]]
    secrets += emulator.secret_values()

    results_file.unlink(missing_ok=True)
    run = meltano("run", "tap-singer-jsonl", "target-billcom", **env)
    assert_no_secret(run.stdout + run.stderr + results_file.read_text(), secrets)
    results = read_results(results_file)
    assert len(results) == total
    assert {r["action"] for r in results} == {"created"}
    assert len(write_calls(emulator)) > 0

    organization = emulator.organization()
    bill_objects = {s: organization.list(s) for s in sample}
    ids: dict[tuple[str, str], str] = {}  # (stream, match key) -> BILL id
    for stream, key, field in [
        ("vendors", "name", "name"),
        ("customers", "name", "name"),
        ("invoices", "invoiceNumber", "invoiceNumber"),
    ]:
        for source in sample[stream]:
            found = [o for o in bill_objects[stream] if o.get(field) == source[key]]
            ids[stream, source[key]] = only(found, f"{stream} {source[key]}")["id"]
    for source in sample["bills"]:
        number = source["invoice"]["invoiceNumber"]
        found = [
            b
            for b in bill_objects["bills"]
            if (b.get("invoice") or {}).get("invoiceNumber") == number
        ]
        bill = only(found, f"bill {number}")
        assert bill["vendorId"] == ids["vendors", source["vendorName"]], number
        ids["bills", number] = bill["id"]
    for source in sample["invoices"]:
        invoice = organization.get("invoices", ids["invoices", source["invoiceNumber"]])
        assert invoice["customerId"] == ids["customers", source["customerName"]]
    # One results line per sample record, naming the BILL object it landed as.
    assert sorted(ids.values()) == sorted(r["id"] for r in results)
    assert {s: sum(r["stream"] == s for r in results) for s in sample} == {
        s: len(records) for s, records in sample.items()
    }

    emulator.clear_requests()
    results_file.unlink()
    run = meltano("run", "tap-singer-jsonl", "target-billcom", **env)
    assert_no_secret(run.stdout + run.stderr + results_file.read_text(), secrets)
    assert write_calls(emulator) == []
    results = read_results(results_file)
    assert len(results) == total
    assert {r["action"] for r in results} == {"unchanged"}
    assert sorted(ids.values()) == sorted(r["id"] for r in results)
