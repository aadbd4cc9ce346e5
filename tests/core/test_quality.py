"""Repository hygiene a newcomer relies on: lint, formatting, complete translations, layout."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
RUFF = Path(sys.executable).parent / "ruff"


def test_ruff_check_passes():
    result = subprocess.run([RUFF, "check", "."], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_is_clean():
    result = subprocess.run([RUFF, "format", "--check", "."], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_french_string_has_an_english_translation(tmp_path):
    pot = tmp_path / "messages.pot"
    command = [Path(sys.executable).parent / "pybabel", "extract", "-F", "portal/translations/babel.cfg"]
    command += ["-k", "_l", "-o", pot, "portal", "templates"]
    subprocess.run(command, cwd=ROOT, capture_output=True, check=True)
    wanted = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(pot.open("rb")) if m.id}
    assert len(wanted) > 100, "extraction found almost nothing: the check would prove nothing"
    catalogue = read_po((ROOT / "portal/translations/en/LC_MESSAGES/messages.po").open("rb"))
    translated = {
        (m.id if isinstance(m.id, str) else m.id[0])
        for m in catalogue
        if m.id and (m.string if isinstance(m.string, str) else all(m.string)) and "fuzzy" not in m.flags
    }
    assert wanted - translated == set(), "run `make extract-messages` and translate the new strings"


def test_top_level_holds_only_what_the_readme_describes():
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    top = {path.split("/")[0] for path in tracked}
    allowed = {
        "portal",
        "templates",
        "static",
        "migrations",
        "worker.py",
        "wsgi.py",
        "tests",
        "requirements.txt",
        "README.md",
        "Makefile",
        ".ci",
        "pyproject.toml",
        ".gitignore",
        "deploy",
    }
    assert top <= allowed, top - allowed


def test_requirements_are_pinned():
    lines = [line.strip() for line in (ROOT / "requirements.txt").read_text().splitlines()]
    loose = [line for line in lines if line and not line.startswith("#") and "==" not in line]
    assert loose == []
