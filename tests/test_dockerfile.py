"""The Dockerfile agrees with pyproject.toml. This is all that is checked of it: no Docker
engine is available here, so the image has never been built or run (the README says so)."""

from __future__ import annotations

import json
import re

import pytest

from tests.taprun import ROOT

tomllib = pytest.importorskip("tomllib", reason="tomllib is in the standard library from 3.11")


def dockerfile() -> str:
    return (ROOT / "Dockerfile").read_text()


def project() -> dict[str, object]:
    return dict(tomllib.loads((ROOT / "pyproject.toml").read_text()))


def test_the_entrypoint_is_the_source_console_script() -> None:
    text = dockerfile()
    [entrypoint] = re.findall(r"^ENTRYPOINT (.+)$", text, flags=re.MULTILINE)
    assert json.loads(entrypoint) == ["source-billcom"]
    assert 'ENV AIRBYTE_ENTRYPOINT="source-billcom"' in text
    scripts = project()["project"]["scripts"]
    assert scripts["source-billcom"] == "source_billcom.cli:main"


def test_the_labels_name_the_packages_version() -> None:
    text = dockerfile()
    version = project()["project"]["version"]
    assert f"LABEL io.airbyte.version={version}\n" in text
    assert "LABEL io.airbyte.name=airbyte/source-billcom\n" in text


def test_every_package_of_the_wheel_is_copied_and_let_through() -> None:
    packages = project()["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]
    copied = re.findall(r"^COPY (\w+) \./\1$", dockerfile(), flags=re.MULTILINE)
    assert sorted(copied) == sorted(packages)
    allowed = {
        line[1:].rstrip("/")
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.startswith("!")
    }
    assert allowed == {*packages, "pyproject.toml", "README.md"}


def test_the_base_image_python_is_one_the_package_supports() -> None:
    [major, minor] = re.findall(r"^FROM python:(\d+)\.(\d+)-slim$", dockerfile(), re.MULTILINE)[0]
    required = project()["project"]["requires-python"]
    assert required == ">=3.10"
    assert (int(major), int(minor)) >= (3, 10)
