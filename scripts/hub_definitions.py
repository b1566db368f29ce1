"""Generate the Meltano Hub definitions of tap-billcom and target-billcom, and .env.example,
from the plugins' own `--about --format=json`, so they cannot drift from the code.

    .venv/bin/python scripts/hub_definitions.py          # rewrite hub/ and .env.example
    .venv/bin/python scripts/hub_definitions.py --check  # exit 1 if any of them is stale

Writes, in Meltano Hub's layout (`_data/meltano/<type>/<name>/<variant>.yml` in meltano/hub):

    hub/extractors/tap-billcom/billcom-oss.yml
    hub/loaders/target-billcom/billcom-oss.yml
    .env.example                  every TAP_BILLCOM_* and TARGET_BILLCOM_* setting

What comes from `--about`: capabilities, every setting's name, label (its `title`),
description, kind, `sensitive` (its `secret`), default (`value`) and options (its `enum`),
and the required settings (`settings_group_validation`). The rest (label, description, links,
maintenance status, the Markdown notes) is written here. The files follow Hub's formatting:
keys and settings sorted by name, as meltano/hub-utils writes them.
"""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.plugin_about import about  # noqa: E402

HUB = ROOT / "hub"
ENV_EXAMPLE = ROOT / ".env.example"
SCRIPT = "scripts/hub_definitions.py"

# PLACEHOLDER: the code is not published yet. `repo` and `pip_url` name this future public
# repository; change these two lines (and regenerate) once it has its real home, or set
# PIP_URL to the PyPI package name (`tap-billcom`) once it is released there.
VARIANT = "billcom-oss"
REPOSITORY = "https://github.com/billcom-oss/tap-billcom"
PIP_URL = f"git+{REPOSITORY}.git"
DOMAIN_URL = "https://developer.bill.com/"

#: Meltano 4 deprecates `kind: password` in favour of `sensitive: true` (Meltano's own
#: meltano.schema.json), so a secret is `kind: string` plus `sensitive: true`.
KINDS = {"string": "string", "integer": "integer", "boolean": "boolean", "number": "decimal"}
KINDS |= {"object": "object", "array": "array"}

CONNECTION_PREAMBLE = """\
Where to find the values in BILL: the organization id (it starts with `008`) and the developer \
key are under **Settings > Sync & Integrations > Manage Developer Keys**. A developer key \
belongs to one environment: a sandbox key works only with `environment: sandbox` \
(gateway.stage.bill.com), a production key only with `environment: production`.

Sign-in modes: a BILL user (`username` = email, `password`); an AP/AR sync token \
(`username` = token name, `password` = token value, `sync_token: true`); or an MFA-trusted \
user session (add `mfa_remember_me_id` and `mfa_device`)."""


@dataclass(frozen=True)
class Plugin:
    """One plugin's Hub definition: what `--about` cannot say."""

    type: str  # Hub's folder: extractors or loaders
    name: str
    module: str  # `python -m <module> --about` and the Meltano namespace
    description: str  # Hub describes the data source or destination, not the connector
    settings_preamble: str
    usage: str
    next_steps: str
    #: --about settings left out of the definition, each with the reason.
    left_out: dict[str, str] = field(default_factory=dict)
    #: Extractors only: Meltano's default stream selection.
    select: list[str] | None = None

    @property
    def path(self) -> Path:
        return HUB / self.type / self.name / f"{VARIANT}.yml"

    @property
    def env_prefix(self) -> str:
        return self.name.upper().replace("-", "_") + "_"


def child_streams() -> list[str]:
    """Streams the tap leaves unselected (one request per parent record)."""
    sys.path.insert(0, str(ROOT))
    from bill_core.catalog import OBJECTS

    return [o.stream for o in OBJECTS if not o.selected_by_default]


def plugins() -> list[Plugin]:
    return [
        Plugin(
            type="extractors",
            name="tap-billcom",
            module="tap_billcom",
            description="Accounts payable and receivable automation platform",
            settings_preamble=CONNECTION_PREAMBLE,
            usage=(
                "Incremental streams (vendors, customers, bills, invoices, payments, "
                "receivable payments, credit memos, vendor credits, users, bank accounts) "
                "read only records updated since the saved bookmark; the others are small "
                "and read in full. Archived records come with `archived: true`. The four "
                "per-parent child streams (one request per vendor, customer or bill) are "
                "not selected by default: remove their `!` line from `select` to sync them. "
                "Requests stay within BILL's limits (3 in flight per developer key and "
                "organization, 20,000 an hour); at the hourly limit the tap stops cleanly "
                "with exit code 3 and the next run resumes.\n\n"
                "No BILL account at hand? The package ships a local BILL v3 emulator: "
                "`bill-emulator --port 8765`, then `base_url: http://127.0.0.1:8765` with "
                "the demo credentials of `bill_emulator.DEMO_CREDENTIALS`."
            ),
            next_steps=(
                "Check the settings with `meltano config test tap-billcom`, then "
                "`meltano run tap-billcom <loader>`: the first run reads everything, later "
                "runs only what changed."
            ),
            select=["*.*", *(f"!{stream}.*" for stream in child_streams())],
        ),
        Plugin(
            type="loaders",
            name="target-billcom",
            module="target_billcom",
            description="Accounts payable and receivable automation platform",
            settings_preamble=(
                "The connection settings are the same as tap-billcom's.\n\n" + CONNECTION_PREAMBLE
            ),
            usage=(
                "Reverse ETL: the target creates or updates BILL vendors, customers, bills "
                "and invoices from streams of those names, with BILL v3 field names (as "
                "tap-billcom emits them). Map other stream names with `stream_aliases` and "
                "other column names with `stream_maps`. Records are matched to what BILL "
                "already has (`match_keys`), so a re-run writes nothing; bills and invoices "
                "may name their vendor or customer by name. Every record gets one line in "
                "`results_path` (created, updated, unchanged, archived, failed, not written). "
                "The run exits 1 when a record failed unless `allow_failures` is true; "
                "`dry_run: true` writes the plan without one write call."
            ),
            next_steps=(
                "Try it with `dry_run: true` first: `meltano run <extractor> target-billcom`, "
                "then read the results file."
            ),
            left_out={
                # Generic SDK target settings that do nothing here: records are matched to
                # BILL's and written by BILL's own batch limits, never appended in bulk.
                "add_record_metadata": "BILL objects have no place for _sdc_* columns",
                "load_method": "the target always matches and upserts",
                "batch_size_rows": "batches follow BILL's bulk limits: 20 vendors, 100 bills",
            },
        ),
    ]


def kind_of(schema: dict[str, Any]) -> str:
    if "enum" in schema:
        return "options"
    if schema.get("format") == "date-time":
        return "date_iso8601"
    types = schema.get("type", [])
    types = [t for t in ([types] if isinstance(types, str) else types) if t != "null"]
    return KINDS[types[0]] if types else "object"


def option_label(value: str) -> str:
    return value.replace("-", " ").replace("_", " ").capitalize()


def hub_setting(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    """One Hub setting from the setting's JSON Schema in --about.

    Object settings (stream_maps, batch_config, match_keys, ...) stay one setting each, as
    the repository's meltano.yml has them: Hub's tooling would split an object with
    `properties` into dotted children (batch_config.encoding.format), which for stream_maps
    would leave only `stream_maps.__else__` and hide the per-stream maps.
    """
    if not schema.get("title") or not schema.get("description"):
        msg = f"setting {name!r} has no title or no description in --about: add them"
        raise SystemExit(msg)
    setting: dict[str, Any] = {
        "name": name,
        "label": schema["title"],
        "description": schema["description"],
        "kind": kind_of(schema),
    }
    if schema.get("secret"):
        setting["sensitive"] = True
    if "enum" in schema:
        setting["options"] = [{"label": option_label(v), "value": v} for v in schema["enum"]]
    if schema.get("default") is not None:
        setting["value"] = schema["default"]
    return setting


def definition(plugin: Plugin, about_json: dict[str, Any], python_versions: Any) -> dict[str, Any]:
    """The plugin's Hub definition.

    Settings: every setting of --about, including the SDK's generic ones (stream maps,
    flattening, faker, batch) because the plugin honours them and Meltano users configure them
    like any other; only those the plugin ignores are left out (Plugin.left_out).
    """
    properties = about_json["settings"]["properties"]
    unknown = set(plugin.left_out) - set(properties)
    if unknown:
        msg = f"{plugin.name}: left_out names settings --about does not have: {sorted(unknown)}"
        raise SystemExit(msg)
    settings = [
        hub_setting(name, schema)
        for name, schema in properties.items()
        if name not in plugin.left_out
    ]
    hub: dict[str, Any] = {
        "name": plugin.name,
        "namespace": plugin.module,
        "variant": VARIANT,
        "label": "BILL (formerly Bill.com)",
        "description": plugin.description,
        "domain_url": DOMAIN_URL,
        "repo": REPOSITORY,
        "pip_url": PIP_URL,
        "executable": plugin.name,
        "capabilities": sorted(about_json["capabilities"]),
        "settings": sorted(settings, key=lambda s: s["name"]),
        "settings_group_validation": [list(about_json["settings"].get("required", []))],
        "keywords": ["api", "meltano_sdk"],
        "maintenance_status": "beta",
        # Hub's rating for an SDK-based community variant (meltano/hub-utils get_quality).
        "quality": "silver",
        "settings_preamble": Markdown(plugin.settings_preamble),
        "usage": Markdown(plugin.usage),
        "next_steps": Markdown(plugin.next_steps),
    }
    if python_versions:
        hub["supported_python_versions"] = list(python_versions)
    if plugin.select is not None:
        hub["select"] = plugin.select
    return hub


def render_definition(plugin: Plugin, hub: dict[str, Any]) -> str:
    header = (
        f"# Meltano Hub definition of {plugin.name}, generated by scripts/hub_definitions.py\n"
        f"# from `{plugin.name} --about --format=json`: change the plugin or the script, then\n"
        "# regenerate; do not edit by hand. PLACEHOLDER: `repo` and `pip_url` name the\n"
        "# repository this code is to be published at (see REPOSITORY in the script).\n"
    )
    for name, reason in plugin.left_out.items():
        header += f"# Left out of --about's settings: {name} ({reason}).\n"
    return header + yaml.dump(hub, Dumper=HubDumper, sort_keys=True, allow_unicode=True)


class Markdown(str):
    """A Hub Markdown field (settings_preamble, usage, next_steps): written as a literal block,
    each paragraph wrapped (in Markdown a single newline is a space)."""

    __slots__ = ()


class HubDumper(yaml.SafeDumper):
    """yaml.safe_dump as Hub's files are written, plus Markdown fields as literal blocks."""


def _represent_markdown(dumper: yaml.SafeDumper, value: Markdown) -> yaml.ScalarNode:
    text = "\n\n".join(
        textwrap.fill(paragraph, width=92, break_on_hyphens=False, break_long_words=False)
        for paragraph in value.split("\n\n")
    )
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style="|")


HubDumper.add_representer(Markdown, _represent_markdown)


# -- .env.example ------------------------------------------------------------------------------

#: Placeholder values of the required settings that are not secrets.
PLACEHOLDERS = {"username": "you@example.com", "organization_id": "008XXXXXXXXXXXXXXXXX"}


def env_value(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


def env_block(plugin: Plugin, about_json: dict[str, Any], hub: dict[str, Any]) -> list[str]:
    """One commented line per setting of the Hub definition, in --about's order. Required
    settings are set (secrets left empty to fill in); optional ones are commented out with
    their default, so copying the file changes nothing until a line is uncommented."""
    required = set(about_json["settings"].get("required", []))
    declared = {s["name"]: s for s in hub["settings"]}
    lines = [f"# -- {plugin.name} " + "-" * (94 - len(plugin.name))]
    for name in about_json["settings"]["properties"]:
        if name not in declared:
            continue
        setting = declared[name]
        text = f"{setting['label']}: {setting['description']}"
        if setting["kind"] == "options":
            text += " One of: " + ", ".join(o["value"] for o in setting["options"]) + "."
        if setting["kind"] in {"object", "array"}:
            text += " (JSON)"
        lines += textwrap.wrap(
            text, width=98, initial_indent="# ", subsequent_indent="# ", break_on_hyphens=False
        )
        variable = plugin.env_prefix + name.upper()
        if setting.get("sensitive"):
            value = ""
        elif name in PLACEHOLDERS:
            value = PLACEHOLDERS[name]
        elif "value" in setting:
            value = env_value(setting["value"])
        else:
            value = "{}" if setting["kind"] == "object" else ""
        prefix = "" if name in required else "# "
        lines += [f"{prefix}{variable}={value}", ""]
    return lines


def render_env_example(blocks: list[list[str]]) -> str:
    intro = [
        "# Settings of tap-billcom and target-billcom as environment variables, generated by",
        "# scripts/hub_definitions.py from their --about: do not edit by hand.",
        "#",
        "# Copy to .env (git-ignored) and fill in the four sign-in settings; keep real values out",
        "# of version control. Meltano reads .env in its project root. Without Meltano, export",
        "# the file (`set -a; . ./.env; set +a`) and run `tap-billcom --config ENV`. Required",
        "# settings are set (secrets left empty); optional ones are commented out with their",
        "# default. Object settings take JSON, in single quotes.",
        "",
    ]
    lines = intro + [line for block in blocks for line in block]
    return "\n".join(lines).rstrip("\n") + "\n"


# -- main --------------------------------------------------------------------------------------


def render_all() -> dict[Path, str]:
    """Every generated file and its wanted content."""
    files: dict[Path, str] = {}
    env_blocks = []
    abouts = {p.name: about(p.module) for p in plugins()}
    # Both executables ship in the one distribution (tap-billcom), whose metadata the SDK finds
    # only under the tap's name: the target's --about reports no Python versions.
    python_versions = abouts["tap-billcom"].get("supported_python_versions")
    for plugin in plugins():
        about_json = abouts[plugin.name]
        versions = about_json.get("supported_python_versions") or python_versions
        hub = definition(plugin, about_json, versions)
        files[plugin.path] = render_definition(plugin, hub)
        env_blocks.append(env_block(plugin, about_json, hub))
    files[ENV_EXAMPLE] = render_env_example(env_blocks)
    return files


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if a generated file is stale")
    args = parser.parse_args()
    files = render_all()
    stale = [p for p, text in files.items() if not p.exists() or p.read_text() != text]
    if args.check:
        for path in stale:
            print(f"{path.relative_to(ROOT)} is stale: run .venv/bin/python {SCRIPT}")
        return 1 if stale else 0
    for path in stale:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(files[path])
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
