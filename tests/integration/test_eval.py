"""`engram eval` end to end on the bundled smoke scenario: a real worker trains the topic, the agent answers in
four modes on the packaged SmolLM2, and the report says what happened."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import redis
from typer.testing import CliRunner

from engram.cli import app

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def test_smoke_scenario_end_to_end(tmp_path, redis_url, monkeypatch):
    monkeypatch.setenv("ENGRAM_REDIS__URL", redis_url)
    monkeypatch.setenv("ENGRAM_REDIS__EMBEDDED_FALLBACK", "false")
    monkeypatch.setenv("ENGRAM_TORCH_THREADS", "2")
    out = tmp_path / "report"
    # `engram status` of the deployment, asked while the evaluation trains, sees its worker and the running task
    from evals import runner
    from memory_service.settings import Settings
    from memory_service.status import collect

    seen, real = [], runner.Harness.wait_idle

    def watching(self, ns, timeout_s, on_wait=None):
        def look(states):
            if not seen and any(st.get("state") in ("STARTED", "PROGRESS") for st in states):
                seen.append(collect(Settings(), timeout=2.0))
            if on_wait:
                on_wait(states)
        return real(self, ns, timeout_s, look)

    monkeypatch.setattr(runner.Harness, "wait_idle", watching)
    # one probe more, worded as the adapter was taught in another order: the run names it an echo
    scenario = tmp_path / "smoke.yaml"
    scenario.write_text((ROOT / "evals/scenarios/smoke.yaml").read_text().replace(
        "  - probe:\n      question: Which town is Zandtil Tapour living in?",
        "  - probe:\n      question: Zandtil Tapour lives in which city?\n      expect:\n      - Saltmarsh\n"
        "      tag: taught\n      topic: homes\n  - probe:\n      question: Which town is Zandtil Tapour living in?", 1))
    res = CliRunner().invoke(app, ["eval", str(scenario), "--modes", "none,rag,lora,hybrid", "--out", str(out)])
    assert res.exit_code == 0, res.output
    (status,) = seen
    # other evaluations may run against the same Redis, and status lists them too: this one is found by its task
    worker = next((t["worker"] for t in status["active"] if t["namespace"] == "smoke.ana"), None)
    assert worker is not None, status["active"]
    queues = next(w["queues"] for w in status["workers"] if w["name"] == worker)
    assert queues and all(q.startswith("eval-") for q in queues), status["workers"]
    left = {q.decode() for q in redis.Redis.from_url(redis_url).hkeys("engram:evals")}
    assert not left & set(queues)  # its queue is unregistered when it ends
    data = json.loads((out / "results.json").read_text())
    probes = data["probes"]
    echoes = {p["question"]: p["echoes"] for p in probes if p["echoes"]}
    assert echoes == {"Zandtil Tapour lives in which city?": "In which city does Zandtil Tapour live?"}
    assert {p["mode"] for p in probes} == {"none", "rag", "lora", "hybrid"}
    by = {(p["mode"], p["tag"]): [] for p in probes}
    for p in probes:
        by[(p["mode"], p["tag"])].append(p)
    # the base model knows none of the invented facts; the adapter knows them without any fact in the prompt
    assert not any(p["correct"] for p in by[("none", "taught")])
    assert sum(p["correct"] for p in by[("lora", "taught")]) >= 2
    tokens = {(p["mode"], p["question"]): p["prompt_tokens"] for p in probes}
    for p in by[("lora", "taught")]:  # lora puts no facts in the prompt; rag does
        assert tokens[("lora", p["question"])] == tokens[("none", p["question"])] < tokens[("rag", p["question"])]
    # a deleted fact and another user's fact are never answered, in any mode
    assert not any(p["answered"] for p in probes if p["tag"] in ("deleted", "other-namespace"))
    consolidations = json.loads((out / "consolidations.json").read_text())
    assert [c["status"] for c in consolidations][:1] == ["published"]
    md = (out / "report.md").read_text()
    assert "## Probes that echo a taught question" in md
    assert "## Scenario `smoke`" in md and "| smoke.ana | homes | 6 | published |" in md
    assert (out / "accuracy-smoke.png").stat().st_size > 1000


def test_eval_rejects_a_malformed_scenario_before_loading_anything(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\ndescription: x\nsessions:\n  - turns:\n      - probe: {question: q, expect: [a], "
                   "tag: nope}\n")
    res = CliRunner().invoke(app, ["eval", str(bad), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2
    assert "bad.yaml:5" in res.output and "sessions[0].turns[0].probe.tag" in res.output
    assert not (tmp_path / "o").exists()
