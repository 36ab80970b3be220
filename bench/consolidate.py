"""Consolidation benchmark: one topic of N invented facts -> a gated, published adapter.

    python -m bench.consolidate --facts 40 --baseline --json

Times the real run (`consolidation.run.consolidate`: synthesis, training, gate, publish) on the
packaged SmolLM2-135M, then measures recall by greedy generation: the taught questions, held-out paraphrases,
and the base model on the same questions. With --baseline it also times the naive loop in the same process
(chat template with its default system prompt, loss over every position, 12 epochs, batch 8, r=16, lr 2e-3,
all layers) and reports `speedup` = baseline seconds / ours.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
import uuid
from datetime import datetime, timezone

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch  # noqa: E402

from consolidation.model import generate  # noqa: E402
from consolidation.run import consolidate  # noqa: E402
from consolidation.synth import answer_ok, build_dataset  # noqa: E402
from consolidation.train import Recipe  # noqa: E402
from evals.fictional import fictional_facts  # noqa: E402
from consolidation.model import load_base  # noqa: E402
from memory_service.registry import Registry  # noqa: E402
from memory_service.schemas import Fact  # noqa: E402


def bench_facts(n: int, seed: int) -> list[Fact]:
    """One topic of `n` invented facts (the model cannot know them)."""
    now = datetime.now(timezone.utc)
    return [Fact(id=str(uuid.uuid4()), namespace="bench", topic="people", text=f.text, subject=f.subject,
                 relation=f.relation, object=f.object, created_at=now) for f in fictional_facts(n, seed=seed)]


def recall(model, tok, questions, expected) -> float:
    answers = generate(model, tok, questions, max_new_tokens=24)
    return sum(answer_ok(a, e) for a, e in zip(answers, expected)) / len(questions)


def naive_baseline(base, facts: list[Fact], log) -> tuple[float, object]:
    """The loop one writes first: default chat template (system prompt included), labels = inputs, fixed
    epochs, full model on every step."""
    from peft import LoraConfig, get_peft_model

    tok = base.tokenizer
    texts = [tok.apply_chat_template([{"role": "user", "content": qa.question},
                                      {"role": "assistant", "content": qa.answer}], tokenize=False)
             for qa in build_dataset(facts, taught_forms=1).train]
    pm = get_peft_model(base.model, LoraConfig(r=16, lora_alpha=32, target_modules="all-linear",
                                               lora_dropout=0.0, task_type="CAUSAL_LM"))
    pm.train()
    opt = torch.optim.AdamW([p for p in pm.parameters() if p.requires_grad], lr=2e-3)
    tok.padding_side = "right"
    t0 = time.perf_counter()
    for epoch in range(12):
        for i in range(0, len(texts), 8):
            enc = tok(texts[i:i + 8], return_tensors="pt", padding=True)
            labels = enc["input_ids"].masked_fill(enc["attention_mask"] == 0, -100)
            loss = pm(**enc, labels=labels).loss
            loss.backward()
            opt.step()
            opt.zero_grad()
        log(f"baseline epoch {epoch + 1}/12 loss {loss.item():.4f}")
    pm.eval()
    return time.perf_counter() - t0, pm


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--facts", type=int, default=40)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--baseline", action="store_true", help="also time the naive loop (takes minutes)")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--rank", type=int, default=16)
    ap.add_argument("--lr", type=float, default=7e-3)
    ap.add_argument("--top-layers", type=int, default=4, help="0 = all layers")
    ap.add_argument("--taught-forms", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--replay", type=int, default=6)
    ap.add_argument("--candidates", type=int, default=32, help="softmax over answer tokens + base top-N; 0 = full")
    ap.add_argument("--json", action="store_true", help="print only the JSON result")
    args = ap.parse_args()
    log = (lambda m: None) if args.json else (lambda m: print(m, flush=True))
    torch.set_num_threads(args.threads)
    base = load_base("packaged")
    tok = base.tokenizer
    facts = bench_facts(args.facts, args.seed)
    recipe = Recipe(rank=args.rank, alpha=2 * args.rank, lr=args.lr, top_layers=args.top_layers,
                    taught_forms=args.taught_forms, batch_size=args.batch_size, replay=args.replay,
                    candidates=args.candidates)
    reg = Registry(tempfile.mkdtemp(prefix="engram-bench-"))
    t0 = time.perf_counter()
    out = consolidate("bench", "people", facts, base=base, registry=reg, recipe=recipe,
                      progress=lambda p: log(json.dumps({k: (round(v, 4) if isinstance(v, float) else v)
                                                         for k, v in p.items()})))
    seconds = time.perf_counter() - t0
    log(f"{out.status}: {seconds:.1f} s {out.reasons}")
    ds = build_dataset(facts, taught_forms=args.taught_forms)
    taught_q = [qa for qa in ds.train if qa.kind == "taught"][:: args.taught_forms]
    result = {
        "facts": args.facts, "threads": args.threads, "status": out.status, "gate": out.gate,
        "seconds": round(seconds, 2), "s_per_fact": round(seconds / args.facts, 3),
        "training": {k: v for k, v in (out.training or {}).items() if k != "history"},
        "recipe": recipe.to_dict(),
    }
    from peft import PeftModel

    source = reg.current("bench", "people")
    if source is not None:
        result["adapter_mb"] = round((source.path / "adapter_model.safetensors").stat().st_size / 2**20, 2)
        pm = PeftModel.from_pretrained(base.model, str(source.path))
        result["recall_taught"] = recall(pm, tok, [q.question for q in taught_q], [q.expected for q in taught_q])
        result["recall_paraphrase"] = recall(pm, tok, [q.question for q in ds.paraphrase],
                                             [q.expected for q in ds.paraphrase])
        base.model = pm.unload()
    result["base_recall"] = recall(base.model, tok, [q.question for q in taught_q], [q.expected for q in taught_q])
    if args.baseline:
        torch.set_num_threads(torch.get_num_threads())  # the naive loop keeps torch's default
        b_seconds, pm = naive_baseline(base, facts, log)
        result["baseline_s_per_fact"] = round(b_seconds / args.facts, 3)
        result["baseline_seconds"] = round(b_seconds, 2)
        qs = [q.question for q in taught_q]
        answers = []
        tok.padding_side = "left"
        for i in range(0, len(qs), 32):  # the naive loop answers through the default template too
            enc = tok([tok.apply_chat_template([{"role": "user", "content": q}], tokenize=False,
                                               add_generation_prompt=True) for q in qs[i:i + 32]],
                      return_tensors="pt", padding=True, add_special_tokens=False)
            with torch.no_grad():
                ids = pm.generate(**enc, max_new_tokens=24, do_sample=False, pad_token_id=tok.pad_token_id)
            answers += tok.batch_decode(ids[:, enc["input_ids"].shape[1]:], skip_special_tokens=True)
        result["baseline_recall_taught"] = sum(answer_ok(a, q.expected) for a, q in zip(answers, taught_q)) / len(qs)
        result["speedup"] = round(b_seconds / seconds, 2)
        pm.unload()
    print(json.dumps(result, indent=None if args.json else 2))


if __name__ == "__main__":
    main()
