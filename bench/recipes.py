"""Compare training recipes on one topic of invented facts, in one process (the base model loads once).

    python -m bench.recipes '{}' '{"top_layers": 2}' '{"candidates": 0}' --facts 40 --seed 7
    python -m bench.recipes '{"candidates": 0}' '{}' --epoch-seconds     # time one training epoch only

Each argument is a JSON object of `Recipe` fields overriding the defaults. For each, one JSON line: the real
consolidation run (`consolidate`: synthesis, training, gate, publish) with its seconds, epochs and gate, then
recall by greedy generation on the taught questions and the validation questions. The first run in a process
also pays for the base model's replay and probe answers (about 3 s), later runs reuse them.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch  # noqa: E402

from bench.consolidate import bench_facts, recall  # noqa: E402
from consolidation.run import consolidate  # noqa: E402
from consolidation.synth import build_dataset  # noqa: E402
from consolidation.run import replay_examples  # noqa: E402
from consolidation.train import Recipe, Trainer  # noqa: E402
from consolidation.model import load_base  # noqa: E402
from memory_service.registry import Registry  # noqa: E402


def epoch_seconds(base, facts, recipe: Recipe, repeats: int = 3) -> dict:
    """Seconds of one training epoch (the fastest of `repeats`) on the consolidation's training data."""
    ds = build_dataset(facts, recipe.taught_forms, short=recipe.short_answers)
    trainer = Trainer(base, ds.train + replay_examples(base, recipe.replay), recipe)
    try:
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            trainer._epoch()
            times.append(time.perf_counter() - t0)
        batches = trainer.batches
        return {"epoch_s": round(min(times), 3), "batches": len(batches),
                "tokens": sum(b.ids.numel() for b in batches),
                "answer_positions": sum(int(b.answer_mask.sum()) for b in batches),
                "candidates": len(trainer.candidates.tokens) if trainer.candidates else None}
    finally:
        trainer.pm.unload()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("recipes", nargs="+", help="JSON objects of Recipe fields, e.g. '{\"batch_size\": 8}'")
    ap.add_argument("--facts", type=int, default=40)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--epoch-seconds", action="store_true",
                    help="only time training epochs (the fastest of 3 per recipe), no consolidation run")
    args = ap.parse_args()
    try:
        overrides = [json.loads(r) for r in args.recipes]
        recipes = [Recipe(**o) for o in overrides]
    except (json.JSONDecodeError, TypeError) as e:
        ap.error(f"recipe: {e}")
    torch.set_num_threads(args.threads)
    base = load_base("packaged")
    tok = base.tokenizer
    facts = bench_facts(args.facts, args.seed)
    for override, recipe in zip(overrides, recipes):
        if args.epoch_seconds:
            print(json.dumps({"recipe": override, "facts": args.facts, **epoch_seconds(base, facts, recipe)}),
                  flush=True)
            continue
        reg = Registry(tempfile.mkdtemp(prefix="engram-recipes-"))
        t0 = time.perf_counter()
        out = consolidate("bench", "people", facts, base=base, registry=reg, recipe=recipe)
        training = out.training or {}
        res = {"recipe": override, "facts": args.facts, "seed": args.seed, "status": out.status,
               "seconds": round(time.perf_counter() - t0, 1), "epochs": training.get("epochs"),
               "steps": training.get("steps"),
               "gate": {k: (out.gate or {}).get(k) for k in ("taught", "validation", "probe_adapter", "probe_base")},
               "reasons": out.reasons}
        source = reg.current("bench", "people")
        if source is not None:
            from peft import PeftModel

            ds = build_dataset(facts, taught_forms=recipe.taught_forms, short=recipe.short_answers)
            taught = [qa for qa in ds.train if qa.kind == "taught"][:: recipe.taught_forms]
            pm = PeftModel.from_pretrained(base.model, str(source.path))
            res["recall_taught"] = recall(pm, tok, [q.question for q in taught], [q.expected for q in taught])
            res["recall_validation"] = recall(pm, tok, [q.question for q in ds.validation],
                                              [q.expected for q in ds.validation])
            base.model = pm.unload()
        print(json.dumps(res), flush=True)


if __name__ == "__main__":
    main()
