"""Every published result file says where it came from, and every result file the docs cite exists."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RESULTS = sorted((ROOT / "bench/results").glob("*.json")) + sorted((ROOT / "bench/results").glob("*/results.json"))


@pytest.mark.parametrize("path", RESULTS, ids=lambda p: str(p.relative_to(ROOT / "bench/results")))
def test_result_file_records_command_commit_and_machine(path):
    made = json.loads(path.read_text()).get("provenance") or {}
    assert all(made.get(k) for k in ("command", "commit", "machine", "measured_at")), f"{path}: {made}"
    assert made["command"].startswith(("python -m bench.", "engram ", "python -m engram.cli ")), made["command"]


def test_every_cited_result_file_exists():
    cited = set()
    for doc in [ROOT / "README.md", *(ROOT / "docs").glob("*.md")]:
        cited |= set(re.findall(r"(?<![\w.])([a-z0-9-]+\.json)\b", doc.read_text()))
    known = {p.name for p in (ROOT / "bench/results").rglob("*.json")}
    ignored = {"results.json", "manifest.json", "consolidations.json", "locomo10.json", "api-keys.json",
               "package.json"}
    assert not (cited - known - ignored), sorted(cited - known - ignored)
