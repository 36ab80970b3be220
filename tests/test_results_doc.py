"""Every result file README.md and docs/results.md name by its path is one a reader can open and trust: in
bench/results, or withdrawn on record (bench/results/WITHDRAWN.md) from a clean tree, so that `git show` reads it;
and no result file kept anywhere under bench/results was measured on a tree with uncommitted changes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench/results"
DOCS = [ROOT / "README.md", ROOT / "docs/results.md"]
PLACEHOLDERS = {"NAME"}  # `python -m evals.report OUT/results.json bench/results/NAME`


def withdrawn() -> dict[str, str]:
    """name -> the commit of the run, from WITHDRAWN.md's table."""
    rows = re.findall(r"^\| ([\w.-]+) \| [\d-]+ \| (\S+) \|$", (RESULTS / "WITHDRAWN.md").read_text(), re.MULTILINE)
    return dict(rows)


def cited() -> list[tuple[str, str]]:
    """(document, name) for every bench/results/<name> the documents write, <name> the file or folder."""
    out = []
    for doc in DOCS:
        for name in re.findall(r"bench/results/([A-Za-z0-9][\w.-]*)", doc.read_text()):
            name = name.rstrip(".")
            if name not in PLACEHOLDERS:
                out.append((doc.name, name))
    return sorted(set(out))


CITED = cited()


def test_the_paths_are_read():
    assert len(CITED) >= 30 and len(withdrawn()) >= 60
    assert all(commit.endswith("+dirty") or re.fullmatch(r"[0-9a-f]{7,40}", commit.split(" ")[0])
               for commit in withdrawn().values())


@pytest.mark.parametrize("doc, name", CITED, ids=[f"{d}:{n}" for d, n in CITED])
def test_a_cited_result_is_kept_or_withdrawn_from_a_clean_tree(doc, name):
    if (RESULTS / name).exists():
        return
    commit = withdrawn().get(name)
    assert commit is not None, f"{doc} cites bench/results/{name}: not in bench/results nor in WITHDRAWN.md"
    assert not commit.endswith("+dirty"), f"{doc} cites bench/results/{name}, measured at {commit}: not a clean tree"


def test_no_result_file_under_bench_results_is_from_a_dirty_tree():
    """tests/test_results_provenance.py checks bench/results/*.json and */results.json; this checks every other
    JSON file that records a provenance (LoCoMo's summary.json, gates.json, ...), at any depth."""
    checked = set(RESULTS.glob("*.json")) | set(RESULTS.glob("*/results.json"))
    dirty, seen = [], 0
    for path in sorted(set(RESULTS.rglob("*.json")) - checked):
        data = json.loads(path.read_text())
        made = data.get("provenance") if isinstance(data, dict) else None
        if isinstance(made, dict):
            seen += 1
            if str(made.get("commit", "")).endswith("+dirty"):
                dirty.append(str(path.relative_to(RESULTS)))
    assert seen, "no provenance found beyond the files test_results_provenance.py reads"
    assert not dirty, dirty
