"""The gate's regression probe, measured.

    python -m bench.probe select --json      # ask the base model every candidate; the right ones form the probe
    python -m bench.probe reject --json      # the publish rule's false-reject rate over real consolidations

`select` writes bench/results/probe-select.json (each candidate, the base model's answer, right or wrong);
consolidation/probe.py holds the questions it found right, minus the trainer's replay questions and the
evaluations' unrelated probes.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bench.provenance import provenance  # noqa: E402

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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", choices=["select"])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--out", type=Path, default=ROOT / "bench/results")
    args = ap.parse_args()
    result = {"bench": f"probe {args.what}", **select(args.threads)}
    result["provenance"] = provenance()
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"probe-{args.what}.json").write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k not in ("rows", "kept")}))


if __name__ == "__main__":
    main()
