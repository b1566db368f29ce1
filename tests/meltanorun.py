"""Meltano for the tests: the pinned executable and one command run with a time limit."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from tests.taprun import ROOT

MELTANO_VENV = ROOT / ".venv-meltano"
MELTANO_VERSION = "4.4.1"
#: One Meltano command; each end-to-end test takes about 12 s when warm.
TIMEOUT_SECONDS = 120


def meltano_executable() -> Path:
    """Meltano from .venv-meltano (`make meltano`), created here when it is missing."""
    exe = MELTANO_VENV / "bin" / "meltano"
    if not exe.exists():
        subprocess.run([sys.executable, "-m", "venv", str(MELTANO_VENV)], check=True)
        (MELTANO_VENV / ".gitignore").write_text("*\n")
        pip = [str(MELTANO_VENV / "bin" / "python"), "-m", "pip", "--disable-pip-version-check"]
        subprocess.run([*pip, "install", "--quiet", f"meltano=={MELTANO_VERSION}"], check=True)
    return exe


def environment_without(prefixes: tuple[str, ...]) -> dict[str, str]:
    """This process's environment minus plugin settings (`prefixes`) and this virtualenv."""
    return {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(prefixes) and key not in {"VIRTUAL_ENV", "PYTHONPATH"}
    }


def run_meltano(
    exe: Path, project: Path, args: Sequence[str], env: Mapping[str, str]
) -> subprocess.CompletedProcess[str]:
    """Run one Meltano command in `project`; fail the test if it exits non-zero, or if it
    hangs (then it is stopped with its tap and target: its own process group)."""
    command = [str(exe), *args]
    with subprocess.Popen(
        command,
        cwd=project,
        env=dict(env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    ) as process:
        try:
            stdout, stderr = process.communicate(timeout=TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            stdout, stderr = process.communicate()
            pytest.fail(f"meltano {' '.join(args)} hung:\n{stderr[-4000:]}")
    result = subprocess.CompletedProcess(command, process.returncode, stdout, stderr)
    assert result.returncode == 0, f"meltano {' '.join(args)}:\n{stderr[-4000:]}"
    return result
