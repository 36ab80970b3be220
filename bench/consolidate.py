"""Consolidation benchmark: one topic of N invented facts -> a gated, published adapter.

    python -m bench.consolidate --facts 40 --baseline --json

Times the real run (`consolidation.run.consolidate`: synthesis, training, gate, publish) on the packaged
SmolLM2-135M, then measures recall by greedy generation, scored strictly (language.matching: an answer that
also names another fact's value is wrong):

- `recall.trained`: the first training question of each fact (a training-set figure);
- `recall.validation`: the gate's validation questions (held out of training, but the trainer stops on them);
- `recall.test` / `recall.test_paraphrase`: evaluation questions written apart from both (evals/questions.py),
  asked directly and in other words: the figures that say what the adapter remembers.

With --baseline the same run is timed with the recipe's speed choices off (LoRA in every layer, a softmax over
the whole vocabulary, batches of 8, lr 2e-3): the same examples, the same stopping rule and the same gate, so
`speedup` = baseline seconds / ours is time to the same target. The result goes to
bench/results/consolidate-<N>.json with its command, commit and machine.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
import uuid
from datetime import datetime, timezone

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch  # noqa: E402

from bench import runner  # noqa: E402
from consolidation.model import generate, load_base  # noqa: E402
from consolidation.run import consolidate  # noqa: E402
from consolidation.synth import answer_ok, build_dataset, rivals  # noqa: E402
from consolidation.train import Recipe  # noqa: E402
from evals.fictional import fictional_facts  # noqa: E402
from evals.questions import about  # noqa: E402
from memory_service.registry import Registry  # noqa: E402
from memory_service.schemas import Fact  # noqa: E402
from memory_service.settings import Settings  # noqa: E402

NAIVE = dict(top_layers=0, candidates=0, batch_size=8, lr=2e-3, max_epochs=60)


def bench_facts(n: int, seed: int) -> list[Fact]:
    """One topic of `n` invented facts (the model cannot know them)."""
    now = datetime.now(timezone.utc)
    return [Fact(id=str(uuid.uuid4()), namespace="bench", topic="people", text=f.text, subject=f.subject,
                 relation=f.relation, object=f.object, created_at=now) for f in fictional_facts(n, seed=seed)]


def question_sets(facts: list[Fact], taught_forms: int) -> dict[str, list[tuple[str, str, tuple]]]:
    """name -> [(question, expected, other candidates)]: trained, validation, test, test paraphrase."""
    ds = build_dataset(facts, taught_forms=taught_forms)
    others = rivals(facts)
    tests = {f.id: about(f.relation, f.subject) for f in facts}
    return {
        "trained": [(q.question, q.expected, q.others) for q in ds.taught[::taught_forms]],
        "validation": [(q.question, q.expected, q.others) for q in ds.validation],
        "test": [(tests[f.id][0], f.object, others[f.id]) for f in facts],
        "test_paraphrase": [(tests[f.id][1], f.object, others[f.id]) for f in facts],
    }


def recall(model, tok, questions: list[tuple[str, str, tuple]]) -> float:
    answers = generate(model, tok, [q for q, _, _ in questions], max_new_tokens=24)
    return round(sum(answer_ok(a, e, o) for a, (_, e, o) in zip(answers, questions)) / len(questions), 4)


def run(base, facts: list[Fact], recipe: Recipe, sets: dict, log) -> dict:
    """One consolidation, timed, and recall of what it published on every question set."""
    from peft import PeftModel

    reg = Registry(tempfile.mkdtemp(prefix="engram-bench-"))
    t0 = time.perf_counter()
    out = consolidate("bench", "people", facts, base=base, registry=reg, recipe=recipe,
                      progress=lambda p: log(json.dumps({k: (round(v, 4) if isinstance(v, float) else v)
                                                         for k, v in p.items()})))
    seconds = time.perf_counter() - t0
    log(f"{out.status}: {seconds:.1f} s {out.reasons}")
    res = {"status": out.status, "seconds": round(seconds, 2), "s_per_fact": round(seconds / len(facts), 3),
           "gate": out.gate, "training": {k: v for k, v in (out.training or {}).items() if k != "history"},
           "recipe": recipe.to_dict()}
    source = reg.current("bench", "people")
    if source is not None:
        res["adapter_mb"] = round((source.path / "adapter_model.safetensors").stat().st_size / 2**20, 2)
        pm = PeftModel.from_pretrained(base.model, str(source.path))
        res["recall"] = {name: recall(pm, base.tokenizer, qs) for name, qs in sets.items()}
        base.model = pm.unload()
    return res


def main() -> None:
    ap = runner.parser(__doc__)
    ap.add_argument("--facts", type=int, default=40)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--baseline", action="store_true", help="also time the naive loop (takes minutes)")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    # the recipe is the default one (memory_service.settings.Recipe) unless a flag says otherwise
    ap.add_argument("--rank", type=int)
    ap.add_argument("--lr", type=float)
    ap.add_argument("--top-layers", type=int, help="0 = all layers")
    ap.add_argument("--taught-forms", type=int)
    ap.add_argument("--batch-size", type=int)
    ap.add_argument("--replay", type=int)
    ap.add_argument("--candidates", type=int, help="softmax over answer tokens + base top-N; 0 = full")
    args = runner.parse(ap, out="bench/results/consolidate-40.json")
    log = runner.logger(args)
    torch.set_num_threads(args.threads)
    base = load_base("packaged", cache_dir=Settings().model_cache_dir)
    facts = bench_facts(args.facts, args.seed)
    given = {k: getattr(args, k) for k in ("rank", "lr", "top_layers", "taught_forms", "batch_size", "replay",
                                           "candidates") if getattr(args, k) is not None}
    recipe = Recipe(**given)
    sets = question_sets(facts, recipe.taught_forms)
    result = {"bench": "consolidate", "facts": args.facts, "seed": args.seed, "threads": args.threads,
              **run(base, facts, recipe, sets, log)}
    result["base_recall"] = {name: recall(base.model, base.tokenizer, qs) for name, qs in sets.items()}
    if args.baseline:
        naive = run(base, facts, recipe.model_copy(update=NAIVE), sets, log)
        result["baseline"] = naive
        if naive["status"] == "published" and result["status"] == "published":
            result["speedup"] = round(naive["seconds"] / result["seconds"], 2)
    runner.report(result, args)


if __name__ == "__main__":
    main()
