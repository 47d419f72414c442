"""The layering of DESIGN section 1 is enforced by import-linter (.importlinter): this tree
keeps it, and an import from chat up to matchmaking or reports would break it."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]
PACKAGES = ["whimsy_project", "chat", "matchmaking", "moodrooms", "threads", "reports"]


def lint_imports(cwd: Path) -> subprocess.CompletedProcess:
    command = [str(Path(sys.executable).with_name("lint-imports")), "--no-cache", "--config", str(cwd / ".importlinter")]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=120)


def test_the_tree_keeps_the_layers():
    result = lint_imports(PROJECT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize("upper", ["matchmaking.services", "reports.selectors"])
def test_an_import_from_chat_to_an_app_above_it_breaks_the_contract(tmp_path, upper):
    for package in PACKAGES:
        if (PROJECT / package).is_dir():
            shutil.copytree(PROJECT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(PROJECT / ".importlinter", tmp_path / ".importlinter")
    (tmp_path / "chat" / "upward.py").write_text(f"import {upper}  # noqa: F401\n")

    result = lint_imports(tmp_path)

    assert result.returncode != 0
    assert "BROKEN" in result.stdout and f"chat.upward -> {upper}" in result.stdout, result.stdout
