"""The gate's regression probe, measured.

    python -m bench.probe select --json      # ask the base model every candidate; the right ones form the probe
    python -m bench.probe reject --json      # the publish rule's false-reject rate over real consolidations

`select` writes bench/results/probe-select.json (each candidate, the base model's answer, right or wrong);
consolidation/probe.py holds the questions it found right, minus the trainer's replay questions and the
evaluations' unrelated probes.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bench import runner  # noqa: E402
from evals.provenance import provenance  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


# Right by the matcher but not by a reader (a lucky token, a wrong statement around the right word): left out.
LUCKY = {
    "How many legs does a spider have?",  # "typically four legs, but they can have up to eight"
    "How many continents are there?",  # "a total of 7,982,960"
    "Which month comes after January?",  # "January is the month after February"
    "What is the square root of 9?",  # "approximately 3.09"
    "What drink is made from coffee beans?",  # repeats the question
    "What gas do humans breathe in to live?",  # a list of gases
    "What is a baby dog called?",  # "smaller than a puppy"
}


def kept(rows: list[dict]) -> list[tuple[str, str]]:
    """The probe: questions the base model answers right, minus the lucky ones, the evaluations' and the
    trainer's replay questions."""
    from consolidation.gate import REPLAY
    from evals.make_scenarios import UNRELATED  # right too, but kept for the evaluations: the gate never sees them

    held = {q for q, _ in UNRELATED} | LUCKY | set(REPLAY)
    return [(r["question"], r["expected"]) for r in rows if r["right"] and r["question"] not in held]


def select(threads: int) -> dict:
    from bench.probe_candidates import CANDIDATES
    from consolidation.gate import probe_ok
    from consolidation.model import generate, load_base, set_threads
    from memory_service.settings import Settings

    set_threads(threads)
    base = load_base("packaged", cache_dir=Settings().model_cache_dir)
    t0 = time.perf_counter()
    answers = generate(base.model, base.tokenizer, [q for q, _ in CANDIDATES], max_new_tokens=16)
    rows = [{"question": q, "expected": e, "answer": a, "right": probe_ok(a, e)}
            for (q, e), a in zip(CANDIDATES, answers)]
    probe = kept(rows)
    return {"candidates": len(rows), "right": sum(r["right"] for r in rows), "probe": len(probe),
            "seconds": round(time.perf_counter() - t0, 1), "rows": rows, "kept": probe}


def reject(threads: int, runs: int, facts: int, replay: int | None = None) -> dict:
    """Train `runs` real adapters (invented facts, a new draw each), publish each whatever the probe says, and
    count what the publish rule would do with it: its probe losses against the allowance."""
    import tempfile

    from peft import PeftModel

    from bench.consolidate import bench_facts
    from consolidation.gate import PROBE, GateThresholds, probe_ok, regression_allowance
    from consolidation.model import generate, load_base, set_threads
    from consolidation.run import consolidate
    from memory_service.registry import Registry
    from memory_service.settings import Recipe, Settings

    set_threads(threads)
    base = load_base("packaged", cache_dir=Settings().model_cache_dir)
    questions = [q for q, _ in PROBE]
    base_ok = [probe_ok(a, e) for a, (_, e) in zip(generate(base.model, base.tokenizer, questions, 16), PROBE)]
    th = GateThresholds()
    allowed = regression_allowance(sum(base_ok), th.probe_tolerance, th.probe_confidence)
    rows = []
    for seed in range(runs):
        reg = Registry(tempfile.mkdtemp(prefix="engram-probe-"))
        t0 = time.perf_counter()
        out = consolidate("bench", "people", bench_facts(facts, 100 + seed), base=base, registry=reg,
                          recipe=Recipe(seed=seed, **({} if replay is None else {"replay": replay})),
                          thresholds=GateThresholds(probe_tolerance=1.0))
        row = {"seed": 100 + seed, "status": out.status, "seconds": round(time.perf_counter() - t0, 1),
               "taught": (out.gate or {}).get("taught"), "validation": (out.gate or {}).get("validation")}
        if out.status == "published":
            pm = PeftModel.from_pretrained(base.model, str(reg.current("bench", "people").path))
            answers = generate(pm, base.tokenizer, questions, 16)
            base.model = pm.unload()
            adapter_ok = [probe_ok(a, e) for a, (_, e) in zip(answers, PROBE)]
            row["losses"] = sum(b and not a for b, a in zip(base_ok, adapter_ok))
            row["gains"] = sum(a and not b for b, a in zip(base_ok, adapter_ok))
            row["lost_examples"] = [[q, ans] for q, ans, b, a in zip(questions, answers, base_ok, adapter_ok)
                                    if b and not a][:8]  # what the adapter says instead
            row["rejected_by_probe"] = row["losses"] > allowed
        rows.append(row)
    judged = [r for r in rows if "losses" in r]
    return {"facts": facts, "replay": Recipe().replay if replay is None else replay, "probe": len(PROBE),
            "base_right": sum(base_ok), "tolerance": th.probe_tolerance,
            "confidence": th.probe_confidence, "allowed_losses": allowed, "adapters": len(judged),
            "rejected": sum(r["rejected_by_probe"] for r in judged),
            "reject_rate": round(sum(r["rejected_by_probe"] for r in judged) / len(judged), 3) if judged else None,
            "mean_losses": round(sum(r["losses"] for r in judged) / len(judged), 2) if judged else None,
            "rows": rows}


def main() -> None:
    ap = runner.parser(__doc__)
    ap.add_argument("what", choices=["select", "reject"])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=6, help="reject: adapters to train")
    ap.add_argument("--facts", type=int, default=24, help="reject: facts per adapter")
    ap.add_argument("--replay", type=int, default=None, help="reject: rehearsal questions (default: the recipe's)")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--out", type=Path, default=ROOT / "bench/results")
    args = ap.parse_args()
    measured = select(args.threads) if args.what == "select" else reject(args.threads, args.runs, args.facts,
                                                                          args.replay)
    result = {"bench": f"probe {args.what}", **measured}
    result["provenance"] = provenance()
    args.out.mkdir(parents=True, exist_ok=True)
    name = f"probe-{args.what}" + (f"-replay{args.replay}" if args.replay is not None else "")
    runner.write(args.out / f"{name}.json", result)
    print(json.dumps({k: v for k, v in result.items() if k not in ("rows", "kept")}))


if __name__ == "__main__":
    main()
