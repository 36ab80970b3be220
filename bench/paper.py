"""The paper's experiments (Back et al., "Understanding LoRA as Knowledge Memory") on engram's default model.

    python -m bench.paper capacity --ranks 2,4,8,16,32 --facts 8,16,32,64 --json
    python -m bench.paper capacity-asked --ranks 4,8,16 --facts 16,32,64,128 --json   # as asked, service recipe
    python -m bench.paper format --facts 40 --json      # QA synthetic data vs raw statements
    python -m bench.paper routing --topics 5 --facts 16 --json   # one adapter vs many routed, equal params
    python -m bench.paper merge --topics 5 --facts 16 --json     # linear / ties / ties_svd / dare_ties / cat, k = 1..5
    python -m bench.paper plot                                     # docs/img/*.png from bench/results/paper-*.json

Every fact is invented, so the base model knows none of them. Training uses engram's recipe
(`consolidation.train.Recipe`: LoRA in the top 4 layers, QA pairs with short answers, replay)
unless an experiment varies one of its parts. Results print as one JSON object; docs/results.md discusses them.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
import uuid
from datetime import datetime, timezone

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch  # noqa: E402

from bench import runner  # noqa: E402
from consolidation.model import generate  # noqa: E402
from consolidation.run import replay_examples  # noqa: E402
from consolidation.synth import QA, answer_ok, build_dataset  # noqa: E402
from consolidation.train import Recipe, Trainer  # noqa: E402
from evals.fictional import FictionalFact, fictional_facts, phonebook  # noqa: E402
from memory_service.schemas import Fact  # noqa: E402


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def as_facts(items: list[FictionalFact], topic: str = "t") -> list[Fact]:
    now = datetime.now(timezone.utc)
    return [Fact(id=str(uuid.uuid4()), namespace="paper", topic=topic, text=f.text, subject=f.subject,
                 relation=f.relation, object=f.object, created_at=now) for f in items]


def recall(model, tok, qas: list[QA]) -> float:
    answers = generate(model, tok, [q.question for q in qas], max_new_tokens=24)
    return sum(answer_ok(a, q.expected) for a, q in zip(answers, qas)) / max(1, len(qas))


def lora_params(pm) -> int:
    return sum(p.numel() for n, p in pm.named_parameters() if "lora_" in n)


def train(base, examples: list[QA], recipe: Recipe, goal: float = 1.0, name: str = "default") -> Trainer:
    t = Trainer(base, examples + replay_examples(base, recipe.replay), recipe, adapter_name=name)
    t.train_until(goal)
    return t


# (a) capacity --------------------------------------------------------------------------------------------------

def paper_recipe(**kw) -> Recipe:
    """The recipe the experiments in docs/results.md were measured with (batches of 8, lr 5e-3, softmax over
    the whole vocabulary); the consolidation default has moved on since (batches of 16, lr 7e-3, candidates)."""
    return Recipe(**{"lr": 5e-3, "batch_size": 8, "candidates": 0, **kw})

def capacity(base, ranks: list[int], sizes: list[int], seed: int) -> dict:
    """Recall of PhoneBook facts (name -> XXX-XXX-XXXX, exact digits) against the number of facts, per rank.
    Training runs to teacher-forced exactness or the epoch budget (steps scale with the data)."""
    tok = base.tokenizer
    bits_per_fact = math.log2(790 * 790 * 9000)  # the numbers' digit ranges (evals.fictional)
    runs, best, done = [], {r: 0 for r in ranks}, set()
    for n in sizes:  # ascending; a rank stops at the first size it no longer recalls at >= 95%
        facts = as_facts(phonebook(n, seed=seed))
        ds = build_dataset(facts, taught_forms=2, short=True)
        taught = ds.taught[::2]  # one question per fact, as trained
        for r in ranks:
            if r in done:
                continue
            t0 = time.perf_counter()
            tr = train(base, ds.train, paper_recipe(rank=r, alpha=2 * r, max_epochs=40))
            rec = recall(tr.pm, tok, taught)
            para = recall(tr.pm, tok, ds.validation)
            row = {"rank": r, "facts": n, "recall": round(rec, 4), "recall_validation": round(para, 4),
                   "facts_recalled": round(rec * n), "epochs": tr.epoch,
                   "seconds": round(time.perf_counter() - t0, 1), "params": lora_params(tr.pm)}
            tr.pm.unload()
            runs.append(row)
            log(json.dumps(row))
            if rec >= 0.95:
                best[r] = n
            else:
                done.add(r)
    summary = {}
    for r in ranks:
        params = next(x["params"] for x in runs if x["rank"] == r)
        summary[r] = {"facts_at_95": best[r], "params": params,
                      "bits_per_param": round(best[r] * bits_per_fact / params, 6),
                      "censored": r not in done}  # never failed: capacity is at least facts_at_95
    return {"experiment": "capacity", "bits_per_fact": round(bits_per_fact, 2), "runs": runs, "by_rank": summary}


def capacity_asked(base, ranks: list[int], sizes: list[int], seed: int, goal: float = 0.9) -> dict:
    """Facts per adapter at which recall *as asked* holds: PhoneBook facts trained with the service's recipe
    (`Recipe()`, rank changed, replay included), then asked the evaluation's two held-out wordings per fact
    (evals/questions.py: "How can I reach X by phone?", "What number should I dial to call X?"), as written,
    scored strictly. A rank stops at the first size under `goal`; the relay's shard size follows the result."""
    from evals.questions import about

    tok = base.tokenizer
    runs, best, done = [], {r: 0 for r in ranks}, set()
    for n in sizes:  # ascending
        facts = as_facts(phonebook(n, seed=seed))
        tests = [QA(f.id, q, f.object, f.object) for f in facts for q in about(f.relation, f.subject)]
        for r in ranks:
            if r in done:
                continue
            recipe = Recipe(rank=r)
            ds = build_dataset(facts, recipe.taught_forms, short=recipe.short_answers, augment=recipe.augment)
            t0 = time.perf_counter()
            t = Trainer(base, ds.train + replay_examples(base, recipe.replay, recipe.replay_reading), recipe)
            t.train_until(recipe.stop_at)
            row = {"rank": r, "facts": n, "recall_asked": round(recall(t.pm, tok, tests), 4),
                   "recall_validation": round(recall(t.pm, tok, ds.validation), 4), "taught_exact": t.exact,
                   "epochs": t.epoch, "seconds": round(time.perf_counter() - t0, 1), "params": lora_params(t.pm)}
            t.pm.unload()
            runs.append(row)
            log(json.dumps(row))
            if row["recall_asked"] >= goal:
                best[r] = n
            else:
                done.add(r)
    return {"experiment": "capacity-asked", "goal": goal, "recipe": Recipe().to_dict(), "runs": runs,
            "by_rank": {r: {"facts_at_goal": best[r], "censored": r not in done} for r in ranks}}


# (b) QA vs raw ------------------------------------------------------------------------------------------------
def data_format(base, n: int, seed: int, epochs: int) -> dict:
    """Same facts, same budget: QA pairs (engram's synthesis) against the raw statements as plain text."""
    tok = base.tokenizer
    facts = as_facts(fictional_facts(n, seed=seed))
    ds = build_dataset(facts, taught_forms=2, short=True)
    taught = ds.taught[::2]
    out = {"experiment": "format", "facts": n, "epochs": epochs, "runs": []}
    raw = [QA(f.id, "", f.text.rstrip(".") + ".", f.object or "", "raw") for f in facts]
    for name, examples in (("qa", ds.train), ("raw", raw), ("qa+raw", ds.train + raw)):
        t0 = time.perf_counter()
        tr = train(base, examples, paper_recipe(max_epochs=epochs, min_epochs=epochs, min_steps=0), goal=2.0)
        row = {"data": name, "examples": len(examples), "recall_taught": round(recall(tr.pm, tok, taught), 4),
               "recall_validation": round(recall(tr.pm, tok, ds.validation), 4),
               "seconds": round(time.perf_counter() - t0, 1)}
        tr.pm.unload()
        out["runs"].append(row)
        log(json.dumps(row))
    return out


# (c) one adapter vs many routed; (d) merge methods ------------------------------------------------------------
def topic_facts(n_topics: int, per_topic: int, seed: int) -> dict[str, list[Fact]]:
    """One topic per relation, as the bundled large scenario: the router has meaning to go on."""
    rels = ["lives in", "works as", "pet", "favourite food", "instrument", "works at", "sport", "car"][:n_topics]
    return {rel.replace(" ", "-"): as_facts(fictional_facts(per_topic, seed=seed + i, relations=[rel]),
                                            rel.replace(" ", "-"))
            for i, rel in enumerate(rels)}


def routing(base, embedder, n_topics: int, per_topic: int, rank: int, seed: int) -> dict:
    """n_topics adapters of rank r (each on its topic) against one adapter of rank n_topics * r on all facts:
    the same number of LoRA parameters. Routed with engram's centroid router, and with an oracle."""
    import numpy as np
    from peft import PeftModel  # noqa: F401  (peft's multi-adapter model comes from Trainer)

    tok = base.tokenizer
    topics = topic_facts(n_topics, per_topic, seed)
    every = [f for fs in topics.values() for f in fs]
    ds_all = build_dataset(every, taught_forms=2, short=True)
    out = {"experiment": "routing", "topics": n_topics, "facts": len(every), "rank_each": rank,
           "rank_single": rank * n_topics}
    t0 = time.perf_counter()
    single = train(base, ds_all.train, paper_recipe(rank=rank * n_topics, alpha=2 * rank * n_topics))
    out["single"] = {"params": lora_params(single.pm), "recall_taught": round(recall(single.pm, tok, ds_all.taught[::2]), 4),
                     "recall_validation": round(recall(single.pm, tok, ds_all.validation), 4),
                     "seconds": round(time.perf_counter() - t0, 1)}
    single.pm.unload()
    log(json.dumps(out["single"]))
    # the topic adapters, saved so the merge experiment can reuse them
    import tempfile

    folder = tempfile.mkdtemp(prefix="engram-paper-")
    t0 = time.perf_counter()
    params = 0
    for name, fs in topics.items():
        ds = build_dataset(fs, taught_forms=2, short=True)
        tr = train(base, ds.train, paper_recipe(rank=rank, alpha=2 * rank))
        params += lora_params(tr.pm)
        tr.pm.save_pretrained(f"{folder}/{name}")
        tr.pm.unload()
    # centroids as the agent's router builds them: facts plus their taught questions
    from agent.router import choose
    from consolidation.synth import questions_for

    cents = {}
    for name, fs in topics.items():
        texts = [f.text for f in fs] + [q for f in fs for q in questions_for(f)[:-1]]
        c = embedder.embed(texts).mean(0)
        cents[name] = c / np.linalg.norm(c)
    from peft import PeftModel as PM

    names = list(topics)
    pm = PM.from_pretrained(base.model, f"{folder}/{names[0]}", adapter_name=names[0])
    for name in names[1:]:
        pm.load_adapter(f"{folder}/{name}", adapter_name=name)
    res = {"oracle": {"taught": [], "validation": []}, "routed": {"taught": [], "validation": []}}
    hits = total = 0
    for name, fs in topics.items():
        ds = build_dataset(fs, taught_forms=2, short=True)
        for kind, qas in (("taught", ds.taught[::2]), ("validation", ds.validation)):
            pm.set_adapter(name)
            res["oracle"][kind].append(recall(pm, tok, qas) * len(qas))
            vecs = embedder.embed([q.question for q in qas])
            routed_ok = 0
            for qa, v in zip(qas, vecs):
                scores = [(n, float(np.dot(cents[n], v))) for n in names]
                top = choose(scores, min_score=-1, margin=0.0, max_k=1)[0]  # k=1: pure router accuracy
                hits += top.ref == name
                total += 1
                pm.set_adapter(top.ref)
                routed_ok += recall(pm, tok, [qa]) * 1
            res["routed"][kind].append(routed_ok)
    n_t = len(ds_all.taught[::2])
    n_p = len(ds_all.validation)
    out["many"] = {"params": params, "seconds": round(time.perf_counter() - t0, 1), "router_top1": round(hits / total, 4),
                   **{f"{w}_{k}": round(sum(res[w][k]) / (n_t if k == "taught" else n_p), 4)
                      for w in res for k in ("taught", "validation")}}
    log(json.dumps(out["many"]))
    pm.unload()
    out["adapters_dir"] = folder
    return out


def merge(base, n_topics: int, per_topic: int, rank: int, seed: int, folder: str | None) -> dict:
    """For each topic's questions, merge its own adapter with k-1 others (k = 1..n) by each combination type;
    recall says how much the right adapter's knowledge survives the merge."""
    from peft import PeftModel

    tok = base.tokenizer
    topics = topic_facts(n_topics, per_topic, seed)
    names = list(topics)
    if folder is None:
        import tempfile

        folder = tempfile.mkdtemp(prefix="engram-paper-")
        for name, fs in topics.items():
            tr = train(base, build_dataset(fs, taught_forms=2, short=True).train, paper_recipe(rank=rank, alpha=2 * rank))
            tr.pm.save_pretrained(f"{folder}/{name}")
            tr.pm.unload()
    pm = PeftModel.from_pretrained(base.model, f"{folder}/{names[0]}", adapter_name=names[0])
    for name in names[1:]:
        pm.load_adapter(f"{folder}/{name}", adapter_name=name)
    out = {"experiment": "merge", "topics": n_topics, "facts_per_topic": per_topic, "rank": rank, "runs": []}
    for method in ("linear", "ties", "ties_svd", "dare_ties", "cat"):
        for k in range(1, n_topics + 1):
            right = total = 0
            t0 = time.perf_counter()
            for i, name in enumerate(names):
                others = [names[(i + j) % len(names)] for j in range(1, k)]  # the next k-1 topics
                members = [name, *others]
                if k == 1:
                    pm.set_adapter(name)
                else:
                    kw = {"density": 0.5} if "ties" in method else {}
                    merged = f"m-{method}-{k}-{i}"
                    # TIES/DARE trim each task vector; equal weights 1.0 keep each adapter's own scale
                    pm.add_weighted_adapter(members, [1.0] * k, merged, combination_type=method, **kw)
                    pm.set_adapter(merged)
                qas = build_dataset(topics[name], taught_forms=2, short=True).taught[::2]
                right += recall(pm, tok, qas) * len(qas)
                total += len(qas)
                if k > 1:
                    pm.delete_adapter(merged)
            row = {"method": method, "k": k, "recall": round(right / total, 4),
                   "seconds": round(time.perf_counter() - t0, 1)}
            out["runs"].append(row)
            log(json.dumps(row))
    pm.unload()
    return out


def plot(results_dir: str, out_dir: str) -> dict:
    """Figures for docs/results.md from the saved JSON results (no model needed)."""
    from pathlib import Path

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    res, out = Path(results_dir), Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    if (res / "paper-merge.json").exists():
        runs = json.loads((res / "paper-merge.json").read_text())["runs"]
        fig, ax = plt.subplots(figsize=(6, 3.6))
        for method in dict.fromkeys(r["method"] for r in runs):
            pts = [(r["k"], r["recall"]) for r in runs if r["method"] == method]
            ax.plot(*zip(*pts), marker="o", label=method)
        ax.set(xlabel="adapters merged (k), the right one included", ylabel="recall of the right topic",
               title="Merging adapters (rank 4, 16 facts each)", ylim=(-0.02, 1.02))
        ax.legend()
        fig.tight_layout()
        fig.savefig(out / "merge.png", dpi=100)
        written.append(str(out / "merge.png"))
    if (res / "paper-capacity.json").exists():
        runs = json.loads((res / "paper-capacity.json").read_text())["runs"]
        fig, axes = plt.subplots(1, 2, figsize=(9, 3.6))
        for r in sorted({x["rank"] for x in runs}):
            pts = sorted((x["facts"], x["recall"], x.get("recall_validation", x.get("recall_paraphrase")), x["epochs"])
                         for x in runs if x["rank"] == r)  # files written before the rename say "paraphrase"
            axes[0].plot([p[0] for p in pts], [p[2] for p in pts], marker="o", label=f"r={r}")
            axes[1].plot([p[0] for p in pts], [p[3] for p in pts], marker="o", label=f"r={r}")
        axes[0].set(xlabel="facts in one adapter", ylabel="validation recall", ylim=(0, 1.02),
                    title="PhoneBook: held-out phrasing")
        axes[1].set(xlabel="facts in one adapter", ylabel="epochs to exact recall",
                    title="PhoneBook: training needed")
        sizes = sorted({x["facts"] for x in runs})
        for ax in axes:
            ax.set_xscale("log", base=2)
            ax.set_xticks(sizes, [str(n) for n in sizes])
            ax.minorticks_off()
        axes[0].legend(fontsize="small")
        fig.tight_layout()
        fig.savefig(out / "capacity.png", dpi=100)
        written.append(str(out / "capacity.png"))
    return {"experiment": "plot", "written": written}


def main() -> None:
    ap = runner.parser(__doc__)
    ap.add_argument("experiment", choices=["capacity", "capacity-asked", "format", "routing", "merge", "plot"])
    ap.add_argument("--ranks", default="2,4,8,16,32")
    ap.add_argument("--facts", default=None, help="capacity: sizes, e.g. 8,16,32,64; others: facts (per topic)")
    ap.add_argument("--topics", type=int, default=5)
    ap.add_argument("--rank", type=int, default=4, help="routing/merge: rank of each topic adapter")
    ap.add_argument("--epochs", type=int, default=12, help="format: fixed epochs for every data format")
    ap.add_argument("--adapters", default=None, help="merge: reuse the topic adapters a routing run saved")
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    args = runner.parse(ap, out="bench/results/paper-capacity-asked.json",
                        json_help="print the result as one line of JSON")
    if args.experiment == "plot":  # figures from bench/results/paper-*.json into docs/img
        print(json.dumps(plot("bench/results", "docs/img")))
        return
    torch.set_num_threads(args.threads)
    from consolidation.model import load_base

    base = load_base("packaged")
    t0 = time.perf_counter()
    if args.experiment == "capacity":
        out = capacity(base, [int(x) for x in args.ranks.split(",")],
                       [int(x) for x in (args.facts or "8,16,32,64").split(",")], args.seed)
    elif args.experiment == "capacity-asked":
        out = capacity_asked(base, [int(x) for x in args.ranks.split(",")],
                             [int(x) for x in (args.facts or "16,32,64,128").split(",")], args.seed)
    elif args.experiment == "format":
        out = data_format(base, int(args.facts or 40), args.seed, args.epochs)
    elif args.experiment == "routing":
        from memory_service.embed import Embedder

        out = routing(base, Embedder("packaged", threads=args.threads), args.topics, int(args.facts or 16),
                      args.rank, args.seed)
    else:
        out = merge(base, args.topics, int(args.facts or 16), args.rank, args.seed, args.adapters)
    out["seconds"] = round(time.perf_counter() - t0, 1)
    out["threads"] = args.threads
    runner.report(out, args)


if __name__ == "__main__":
    main()
