"""How far apart the evaluation's questions are from what consolidation trains, by meaning, not by string.

    python -m bench.disjoint --json [--above 0.95]

For each bundled scenario (evals/scenarios) and for bench.consolidate's question sets (40 facts, seed 7): every
probe's nearest synthesized question (trained or validated, augmentation's forms included) by cosine of the
packaged embedder, and whether the two say the same content words in another order ("Every winter we go
skiing where?" and "Where do we go skiing every winter?"). Reports, per set, how many probes share their content
words with a synthesized question and how many are at least --above near, with the nearest pairs.
"""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

from bench import runner  # noqa: E402
from bench.consolidate import bench_facts, question_sets  # noqa: E402
from consolidation.synth import build_dataset, questions_for  # noqa: E402
from evals.scenario import load_scenarios  # noqa: E402
from evals.written import scenario_facts  # noqa: E402
from evals.disjoint import NEAR, clashes  # noqa: E402
from memory_service.embed import Embedder  # noqa: E402
from memory_service.settings import Recipe  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def synthesized_for(facts) -> list[str]:
    """Every question consolidation may train or validate on for `facts`: the default number of taught forms,
    augmentation's forms and every template of questions_for (more than one recipe trains, so the check is wider)."""
    ds = build_dataset(facts, taught_forms=Recipe().taught_forms, augment=True)
    return sorted({qa.question for qa in ds.train + ds.validation}
                  | {q for f in facts if f.subject and f.relation for q in questions_for(f)})


def compare(name: str, probes: list[str], synthesized: list[str], emb: Embedder, above: float) -> dict:
    found = clashes(probes, synthesized, emb.embed, above)
    sims = emb.embed(probes) @ emb.embed(synthesized).T
    nearest = sorted(((float(sims[i].max()), p, synthesized[int(sims[i].argmax())]) for i, p in enumerate(probes)),
                     reverse=True)
    return {"set": name, "probes": len(probes), "same_content_words": sum(c.same_words for c in found),
            "at_least_above": sum(1 for s, _, _ in nearest if s >= above), "clashes": len(found),
            "nearest": [{"cosine": round(s, 3), "probe": p, "synthesized": q} for s, p, q in nearest[:5]],
            "clash_pairs": [{"probe": c.probe, "synthesized": c.synthesized, "cosine": c.cosine,
                             "same_words": c.same_words} for c in found]}


def main() -> None:
    ap = runner.parser(__doc__)
    ap.add_argument("--above", type=float, default=NEAR, help="cosine at or above which a pair is counted")
    args = runner.parse(ap, out="bench/results/disjoint.json")
    emb = Embedder()
    sets = []
    for sc in load_scenarios([ROOT / "evals/scenarios"]):
        synthesized = synthesized_for(scenario_facts(sc))
        sets.append(compare(sc.name, [p.action.question for p in sc.probes()], synthesized, emb, args.above))
    facts = bench_facts(40, 7)
    qs, ds = question_sets(facts, taught_forms=4), build_dataset(facts, taught_forms=4)
    trained = sorted({qa.question for qa in ds.train + ds.validation})
    for name in ("test", "test_paraphrase"):
        sets.append(compare(f"bench.consolidate {name}", [q for q, _, _ in qs[name]], trained, emb, args.above))
    runner.report({"above": args.above, "sets": sets}, args)


if __name__ == "__main__":
    main()
