"""The report: results.json round-trips, report.md shows the numbers and checks, the plots are real PNGs."""

from __future__ import annotations

import json

from evals.metrics import ProbeResult
from evals.report import load_results, main, write_report

PNG = b"\x89PNG\r\n\x1a\n"


def results() -> list[ProbeResult]:
    def r(scenario, mode, tag, correct, latency, facts, routed=()):
        leak = tag == "deleted"
        return ProbeResult(scenario, mode, 0, 1, tag, "Where does Marla live?", ["Quillmere"],
                           "Quillmere" if correct != leak else "I don't know", correct, correct != leak,
                           latency, 40, "home", list(routed), facts, scenario)

    out = []
    for scenario in ("basics", "long"):
        out += [r(scenario, "none", "taught", False, 80, 5), r(scenario, "none", "taught", False, 90, 30)]
        out += [r(scenario, "lora", "taught", c, 120, f, ["home"]) for c, f in [(True, 5), (True, 30), (False, 30)]]
        out += [r(scenario, "lora", "deleted", True, 110, 30, ["home"])]
        out += [r(scenario, "hybrid", "taught", True, 150, f, ["food"]) for f in (5, 30, 30)]
    return out


def test_write_report(tmp_path):
    rs = results()
    written = write_report(rs, tmp_path / "run", title="test run")
    names = {p.name for p in written.values()}
    assert names == {"results.json", "report.md", "accuracy-ALL.png", "accuracy-basics.png", "accuracy-long.png",
                     "length-ALL.png"}
    for name in names - {"results.json", "report.md"}:
        assert (tmp_path / "run" / name).read_bytes().startswith(PNG)

    saved = json.loads((tmp_path / "run" / "results.json").read_text())
    assert len(saved["probes"]) == len(rs) and saved["probes"][0]["expect"] == ["Quillmere"]
    assert load_results(tmp_path / "run" / "results.json") == rs
    lora_taught = [t for t in saved["summary"]["tags"]
                   if (t["scenario"], t["mode"], t["tag"]) == ("basics", "lora", "taught")]
    assert lora_taught[0]["value"] == 2 / 3

    md = (tmp_path / "run" / "report.md").read_text()
    assert md.startswith("# test run")
    assert "## All scenarios" in md and "## Scenario `basics`" in md and "## Scenario `long`" in md
    assert "| lora | 66.7% (3) | 0.0% (1) |" in md  # taught accuracy, deleted answered rate
    assert "| hybrid | 3 | 100.0% (3) | 150 | 150 | 40.0 | 0.0% (3) |" in md  # routed to food, not home
    assert "| lora | 4 | 66.7% (3) | 120 | 120 | 40.0 | 100.0% (4) |" in md
    assert "| basics | lora taught accuracy >= 90% | 66.7% | 90.0% | ✗ |" in md
    assert "| basics | lora deleted answered = 0% | 0.0% | 0.0% | ✓ |" in md
    assert "| basics | hybrid recall >= max(rag, lora) | 100.0% | 66.7% | ✓ |" in md
    assert "Target checks: 4 of 6 passed (0 more not informative" in md  # lora taught ✗, deleted ✓, hybrid ✓
    assert "![accuracy by mode and tag](accuracy-basics.png)" in md


def test_rerender_from_results_json(tmp_path, capsys):
    write_report(results(), tmp_path / "a", plots=False)
    main([str(tmp_path / "a" / "results.json"), str(tmp_path / "b")])
    assert (tmp_path / "b" / "report.md").read_text().startswith("# engram evaluation")
    assert "report.md" in capsys.readouterr().out


def test_consolidation_table_rounds_and_shows_rejections():
    from evals.runner import consolidation_table

    table = consolidation_table([
        {"namespace": "a", "topic": "pets", "facts": 12, "status": "published", "version": 2, "seconds": 21.254971,
         "gate": {"taught": 0.9868421, "validation": 1.0, "probe_adapter": 100, "probe_base": 103}},
        {"namespace": "a", "topic": "work", "facts": 4, "status": "rejected", "version": None, "seconds": 30.0,
         "gate": {"taught": 1.0, "validation": 0.6666667, "probe_adapter": 96, "probe_base": 103}},
    ])
    rows = table.splitlines()[4:]
    assert rows[0] == "| a | pets | 12 | published | 2 | 0.987 | 1.000 | 100/103 | 21.3 |"
    assert rows[1] == "| a | work | 4 | rejected |  | 1.000 | 0.667 | 96/103 | 30.0 |"


def test_locomo_categories_get_their_token_f1(tmp_path):
    from evals.metrics import ProbeResult

    rows = [ProbeResult("locomo-conv-30", "rag", 0, i, "taught", f"q{i}", [gold], answer, correct, True, 100.0, 20,
                        None, category=cat, f1=f1)
            for i, (gold, answer, correct, cat, f1) in enumerate([
                ("Paris", "Paris", True, 4, 1.0), ("7 May 2023", "May 2023", False, 2, 0.8),
                ("hiking, swimming", "hiking", False, 1, 0.5)])]
    md = (write_report(rows, tmp_path, plots=False)["report"]).read_text()
    assert "| rag | 4 single-hop | 1 | 1.000 | 100.0% |" in md
    assert "| rag | 1 multi-hop | 1 | 0.500 | 0.0% |" in md
    saved = json.loads((tmp_path / "results.json").read_text())
    assert {c["category"] for c in saved["summary"]["categories"]} == {1, 2, 4}
