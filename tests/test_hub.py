"""The Meltano Hub definitions in hub/ (and .env.example) are what scripts/hub_definitions.py
generates from the plugins' `--about --format=json`, and they are valid: every setting is
there as the plugin describes it, secrets are sensitive, the capabilities are the plugin's,
only keys Meltano Hub knows are used, and Meltano 4.4.1 adds them with `meltano add --from-ref`.
"""

from __future__ import annotations

import re
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pytest
import yaml

from bill_core import catalog
from scripts.plugin_about import about
from tests.meltanorun import environment_without, run_meltano

ROOT = Path(__file__).resolve().parents[1]
HUB = ROOT / "hub"

#: Plugin name -> (Hub folder, Python module).
PLUGINS = {
    "tap-billcom": ("extractors", "tap_billcom"),
    "target-billcom": ("loaders", "target_billcom"),
}
SENSITIVE = {"password", "dev_key", "mfa_remember_me_id"}
#: --about settings the definitions leave out: generic SDK target settings target-billcom
#: ignores (it matches records to BILL's and batches by BILL's bulk limits).
LEFT_OUT = {
    "tap-billcom": set(),
    "target-billcom": {"add_record_metadata", "load_method", "batch_size_rows"},
}

# What Meltano Hub's JSON Schemas allow (meltano/hub: schemas/plugin_definitions/
# {extractors,loaders,hub_metadata}.schema.json, schemas/common/*.schema.json).
HUB_KEYS = {
    "name", "namespace", "variant", "label", "description", "pip_url", "executable",
    "settings", "settings_group_validation", "capabilities", "docs", "repo", "logo_url",
    "hidden", "python", "commands", "requires", "maintenance_status", "quality", "domain_url",
    "keywords", "definition", "next_steps", "settings_preamble", "usage", "prereq",
    "supported_python_versions", "log_parser",
}  # fmt: skip
TYPE_KEYS = {
    "extractors": {"metadata", "schema", "select"},
    "loaders": {"dialect", "target_schema"},
}
SETTING_KEYS = {
    "name", "aliases", "label", "value", "placeholder", "kind", "description", "tooltip",
    "documentation", "env", "value_processor", "value_post_processor", "oauth", "options",
    "docs", "hidden", "sensitive",
}  # fmt: skip
#: Meltano 4's setting kinds less the deprecated `password` and `hidden`.
KINDS = {"oauth", "date_iso8601", "file", "email", "integer", "decimal", "options", "object"}
KINDS |= {"array", "boolean", "string"}
MAINTENANCE_STATUSES = {"active", "beta", "development", "inactive", "unknown"}
QUALITIES = {"gold", "silver", "bronze", "unknown"}
ENV_LINE = re.compile(r"^(# )?((?:TAP|TARGET)_BILLCOM_[A-Z_]+)=(.*)$")


@pytest.fixture(scope="module")
def abouts() -> dict[str, dict[str, Any]]:
    return {name: about(module) for name, (_, module) in PLUGINS.items()}


def hub_files() -> list[Path]:
    return sorted(HUB.glob("*/*/*.yml"))


def definition_of(name: str) -> tuple[Path, dict[str, Any]]:
    folder, _ = PLUGINS[name]
    (path,) = sorted((HUB / folder / name).glob("*.yml"))
    return path, yaml.safe_load(path.read_text())


def expected_kind(schema: dict[str, Any]) -> str:
    types = [t for t in schema.get("type", []) if t != "null"]
    if "enum" in schema:
        return "options"
    if schema.get("format") == "date-time":
        return "date_iso8601"
    kinds = {"string": "string", "integer": "integer", "boolean": "boolean", "number": "decimal"}
    return kinds.get(types[0], types[0]) if types else "object"


def test_generated_files_are_in_sync_with_about() -> None:
    result = subprocess.run(
        [sys.executable, "scripts/hub_definitions.py", "--check"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_definitions_are_laid_out_as_on_meltano_hub() -> None:
    """hub/<type>/<name>/<variant>.yml, as meltano/hub's _data/meltano/ is."""
    found = {(p.parent.parent.name, p.parent.name) for p in hub_files()}
    assert found == {(folder, name) for name, (folder, _) in PLUGINS.items()}
    for path in hub_files():
        hub = yaml.safe_load(path.read_text())
        assert hub["name"] == path.parent.name
        assert hub["variant"] == path.stem


@pytest.mark.parametrize("name", list(PLUGINS))
def test_every_setting_is_declared_as_the_plugin_describes_it(
    name: str, abouts: dict[str, dict[str, Any]]
) -> None:
    _, hub = definition_of(name)
    properties = abouts[name]["settings"]["properties"]
    declared = {s["name"]: s for s in hub["settings"]}
    assert len(declared) == len(hub["settings"]), "a setting is declared twice"
    assert LEFT_OUT[name] <= set(properties), "LEFT_OUT names a setting --about does not have"
    assert set(declared) == set(properties) - LEFT_OUT[name]
    for setting_name, setting in declared.items():
        schema = properties[setting_name]
        assert setting["label"], setting_name
        assert setting["label"] == schema["title"], setting_name
        assert setting["description"], setting_name
        assert setting["description"] == schema["description"], setting_name
        assert setting["kind"] == expected_kind(schema), setting_name
        assert setting.get("sensitive", False) is bool(schema.get("secret")), setting_name
        assert setting.get("value") == schema.get("default"), setting_name
        if "enum" in schema:
            assert [o["value"] for o in setting["options"]] == schema["enum"], setting_name
            assert all(o["label"] for o in setting["options"]), setting_name
    assert {n for n, s in declared.items() if s.get("sensitive")} == SENSITIVE
    assert hub["settings_group_validation"] == [abouts[name]["settings"]["required"]]


@pytest.mark.parametrize("name", list(PLUGINS))
def test_capabilities_are_the_plugins(name: str, abouts: dict[str, dict[str, Any]]) -> None:
    _, hub = definition_of(name)
    assert len(set(hub["capabilities"])) == len(hub["capabilities"])
    assert set(hub["capabilities"]) == set(abouts[name]["capabilities"])


@pytest.mark.parametrize("name", list(PLUGINS))
def test_definition_uses_only_what_meltano_hub_knows(name: str) -> None:
    folder, module = PLUGINS[name]
    _, hub = definition_of(name)
    assert set(hub) <= HUB_KEYS | TYPE_KEYS[folder], set(hub) - HUB_KEYS - TYPE_KEYS[folder]
    for key in ("label", "description", "repo", "pip_url", "domain_url"):
        assert isinstance(hub[key], str), key
        assert hub[key].strip(), key
    assert hub["namespace"] == module
    assert entry_points(group="console_scripts", name=hub["executable"]), hub["executable"]
    assert hub["executable"] == name
    assert hub["pip_url"] == f"git+{hub['repo']}.git"
    assert "meltano_sdk" in hub["keywords"]
    assert hub["maintenance_status"] in MAINTENANCE_STATUSES
    assert hub["quality"] in QUALITIES
    for setting in hub["settings"]:
        assert set(setting) <= SETTING_KEYS, setting["name"]
        assert setting["kind"] in KINDS, setting["name"]
    for versions in hub.get("supported_python_versions", []):
        assert re.fullmatch(r"3\.\d+", versions)


def test_extractor_selects_every_stream_but_the_per_parent_children() -> None:
    """Meltano selects `*.*` by default, which would select the child streams the tap leaves
    out (one request per vendor, customer or bill)."""
    _, hub = definition_of("tap-billcom")
    children = [o.stream for o in catalog.OBJECTS if not o.selected_by_default]
    assert children
    assert hub["select"] == ["*.*", *(f"!{stream}.*" for stream in children)]


def test_env_example_lists_every_setting_with_secrets_left_empty(
    abouts: dict[str, dict[str, Any]],
) -> None:
    lines = [ENV_LINE.match(line) for line in (ROOT / ".env.example").read_text().splitlines()]
    found = {m.group(2): (m.group(1) is None, m.group(3)) for m in lines if m}
    wanted: set[str] = set()
    for name in PLUGINS:
        _, hub = definition_of(name)
        prefix = name.upper().replace("-", "_") + "_"
        required = set(abouts[name]["settings"]["required"])
        for setting in hub["settings"]:
            variable = prefix + setting["name"].upper()
            wanted.add(variable)
            active, value = found[variable]
            assert active is (setting["name"] in required), variable
            if setting.get("sensitive"):
                assert value == "", f"{variable} must be left empty"
    assert set(found) == wanted


# -- Meltano reads them ------------------------------------------------------------------------


def meltano_output(exe: Path, project: Path, *args: str, **env: str) -> str:
    """Run Meltano in `project` without any plugin setting from this environment."""
    prefixes = ("MELTANO_", "TAP_BILLCOM_", "TARGET_BILLCOM_")
    environment = {**environment_without(prefixes), "NO_COLOR": "1", **env}
    result = run_meltano(exe, project, args, environment)
    return result.stdout + result.stderr


def test_meltano_adds_each_definition_from_ref_with_its_secrets_redacted(
    meltano_exe: Path, tmp_path: Path
) -> None:
    """What the README tells users to do: `meltano add --from-ref hub/.../<variant>.yml`."""
    (tmp_path / "meltano.yml").write_text(
        'requires_meltano: ">=4.0"\n'
        "project_id: 6f0c8c1e-3a55-4a43-9d0e-7f0a9c1b2d3e\n"
        "send_anonymous_usage_stats: false\n"
        "default_environment: dev\n"
        "environments:\n- name: dev\n"
    )
    for name, (folder, _) in PLUGINS.items():
        path, hub = definition_of(name)
        plugin_type = folder.removesuffix("s")
        add = ["add", "--no-install", "--plugin-type", plugin_type, "--from-ref", str(path), name]
        meltano_output(meltano_exe, tmp_path, *add)
        project = yaml.safe_load((tmp_path / "meltano.yml").read_text())
        (added,) = [p for p in project["plugins"][folder] if p["name"] == name]
        assert added["namespace"] == hub["namespace"]
        assert added["capabilities"] == hub["capabilities"]
        assert [s["name"] for s in added["settings"]] == [s["name"] for s in hub["settings"]]

        marker = "not-to-be-printed-4711"
        prefix = name.upper().replace("-", "_") + "_"
        env = {f"{prefix}{secret.upper()}": marker for secret in SENSITIVE}
        listed = meltano_output(meltano_exe, tmp_path, "config", "list", name, "--all", **env)
        assert marker not in listed
        for secret in SENSITIVE:
            assert re.search(rf"^{secret} .*\(redacted\)", listed, flags=re.MULTILINE), secret
