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
    typed = re.sub(r"^(?:ENGRAM_\w+=\S+ )*", "", made["command"])  # the settings the environment gave the run
    assert typed.startswith(("python -m bench.", "engram ", "python -m engram.cli ")), made["command"]


def test_every_cited_result_file_exists():
    cited = set()
    for doc in [ROOT / "README.md", *(ROOT / "docs").glob("*.md")]:
        cited |= set(re.findall(r"(?<![\w.])([a-z0-9-]+\.json)\b", doc.read_text()))
    known = {p.name for p in (ROOT / "bench/results").rglob("*.json")} | set(
        re.findall(r"^\| ([\w-]+\.json) \|", (ROOT / "bench/results/WITHDRAWN.md").read_text(), re.MULTILINE))
    ignored = {"results.json", "manifest.json", "consolidations.json", "locomo10.json", "api-keys.json",
               "package.json"}
    assert not (cited - known - ignored), sorted(cited - known - ignored)


def test_every_cited_evaluation_run_is_kept_or_withdrawn_on_record():
    """An evaluation's folder named in the docs is in bench/results, or listed in WITHDRAWN.md (read from git); and
    no result file kept was measured on a tree with uncommitted changes."""
    docs = "".join(d.read_text() for d in [ROOT / "README.md", *(ROOT / "docs").glob("*.md")])
    cited = set(re.findall(r"(?<![\w-])(eval-[a-z0-9]+(?:-[a-z0-9]+)*)(?![\w.-])", docs)) - {"eval-report"}  # a --out
    withdrawn = set(re.findall(r"^\| (eval-[\w-]+) \|", (ROOT / "bench/results/WITHDRAWN.md").read_text(),
                                 re.MULTILINE))
    kept = {p.name for p in (ROOT / "bench/results").iterdir() if p.is_dir()}
    assert withdrawn and not withdrawn & kept
    assert not cited - kept - withdrawn, sorted(cited - kept - withdrawn)
    dirty = [p.name for p in RESULTS if "+dirty" in ((json.loads(p.read_text()).get("provenance") or {})
                                                     .get("commit") or "")]
    assert not dirty, dirty


def test_a_bench_result_is_printed_and_written_with_its_provenance(tmp_path, monkeypatch, capsys):
    """bench.runner: --json prints one line, --out writes the file bench/results holds (indent 1, final newline),
    and both end with the provenance."""
    from bench import runner

    out = tmp_path / "r.json"
    monkeypatch.setattr("sys.argv", ["bench/x.py", "--n", "2", "--json", "--out", str(out)])
    ap = runner.parser("doc")
    ap.add_argument("--n", type=int)
    args = runner.parse(ap, out="bench/results/x.json")
    runner.report({"n": args.n}, args)
    printed = capsys.readouterr().out
    assert printed.count("\n") == 1 and list(json.loads(printed)) == ["n", "provenance"]
    assert out.read_text() == json.dumps(json.loads(printed), indent=1) + "\n"


def test_the_command_carries_the_settings_the_environment_gave_it(monkeypatch):
    from evals.provenance import command

    monkeypatch.setattr("sys.argv", [str(ROOT / "bench/routing.py"), "--json"])
    monkeypatch.setenv("ENGRAM_AGENT__QUESTION_MIN_SCORE", "0.45")
    monkeypatch.setenv("ENGRAM_REDIS__URL", "redis://:hunter2@db:6379/0")  # may hold a password: never recorded
    said = command()
    assert said.startswith("ENGRAM_AGENT__QUESTION_MIN_SCORE=0.45 ") and said.endswith(" python -m bench.routing --json")
    assert "hunter2" not in said
