"""Agent benchmark: adapter runtime operations and answer latency per mode at N facts.

    python -m bench.agent --json

Adapters are rank 8 on the production layout (top 4 layers, all linear modules) with small random weights, so
the timings are those of real peft operations without minutes of training first. Answer latency is the whole
graph turn (recall with heat, routing, generation) on the packaged SmolLM2 with N facts in the store; every
answer is --answer-tokens long (untrained adapters do not stop early the way trained ones do), so the modes
differ only in what they put in front of the answer: facts in the prompt, routing, adapters.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
import uuid

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch  # noqa: E402
from langgraph.checkpoint.memory import MemorySaver  # noqa: E402

from agent.graph import compile_graph, make_context  # noqa: E402
from consolidation.train import Recipe, lora_config  # noqa: E402
from evals.fictional import fictional_facts  # noqa: E402
from consolidation.model import load_base  # noqa: E402
from memory_service.schemas import FactIn  # noqa: E402
from memory_service.service import MemoryService  # noqa: E402
from memory_service.registry import Registry  # noqa: E402
from memory_service.settings import MODES, Settings  # noqa: E402
from memory_service.store import FactFilter  # noqa: E402
from evals.provenance import provenance  # noqa: E402


def publish(base, registry, ns, topic, facts, seed):
    from peft import get_peft_model

    torch.manual_seed(seed)
    pm = get_peft_model(base.model, lora_config(base, Recipe(rank=8, alpha=16, top_layers=4)))
    with torch.no_grad():
        for n, p in pm.named_parameters():
            if "lora_B" in n:
                p.normal_(0, 0.002)
    manifest = {"recipe": {"rank": 8}, "facts": [{"id": str(uuid.uuid4()), "text": f.text, "subject": f.subject,
                                                  "relation": f.relation, "object": f.object} for f in facts]}
    ref = registry.publish(ns, topic, lambda d: pm.save_pretrained(str(d)), manifest)
    base.model = pm.unload()
    return ref


def ms(fn) -> float:
    t = time.perf_counter()
    fn()
    return round((time.perf_counter() - t) * 1000, 1)


def main() -> None:
    provenance()  # the commit and time the run starts from (cached; recorded with the result)
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--facts", type=int, default=300)
    ap.add_argument("--topics", type=int, default=6)
    ap.add_argument("--questions", type=int, default=8, help="questions timed per mode")
    ap.add_argument("--answer-tokens", type=int, default=16,
                    help="every answer is exactly this long, so modes differ only in what they put in front")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--redis-url", default=os.environ.get("ENGRAM_REDIS__URL", "redis://127.0.0.1:6379/0"))
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    log = (lambda m: None) if args.json else (lambda m: print(m, flush=True))
    torch.set_num_threads(args.threads)
    settings = Settings(data_dir=tempfile.mkdtemp(prefix="engram-bench-agent-"), torch_threads=args.threads,
                        redis={"url": args.redis_url, "key_prefix": f"engram-bench-{uuid.uuid4().hex[:8]}"})
    svc = MemoryService(settings)
    facts = fictional_facts(args.facts, seed=3)
    per = -(-len(facts) // args.topics)
    groups = [facts[i:i + per] for i in range(0, len(facts), per)]
    for i, g in enumerate(groups):
        svc.write("bench", [FactIn(text=f.text, subject=f.subject, relation=f.relation, object=f.object,
                                   topic=f"topic-{i}") for f in g])
    log(f"wrote {len(facts)} facts in {len(groups)} topics")
    base = load_base(settings.base_model)
    ctx = make_context(settings, svc, base)
    refs = [publish(base, ctx.registry, "bench", f"topic-{i}", g, i) for i, g in enumerate(groups)]
    for ref, g in zip(refs, groups):  # as the relay would after adapter.published
        ids = [r.id for r in svc.store.scroll_all(FactFilter(namespace="bench", topic=ref.topic))]
        svc.store.set_payload(ids, {"consolidated_in": f"{ref.topic}/v{ref.version}"})
    rt = ctx.runtime
    out: dict = {"facts": len(facts), "topics": len(groups), "threads": args.threads}
    out["adapter_first_load_ms"] = ms(lambda: rt.ensure(refs[0]))  # creates the PeftModel
    out["adapter_load_ms"] = ms(lambda: rt.ensure(refs[1]))
    rt.ensure(refs[2])
    # a new version of topic-0 (another process would have trained it); same rank: hot-swapped in place
    trainer_base = load_base(settings.base_model)
    new = publish(trainer_base, Registry(settings.adapters_dir), "bench", "topic-0", groups[0], 99)
    out["hotswap_ms"] = ms(lambda: rt.ensure(new))
    refs[0] = new
    out["ties_merge3_ms_first"] = ms(lambda: rt.activate(refs[:3]))
    rt.activate(refs[:1])
    out["ties_merge3_ms_cached"] = ms(lambda: rt.activate(refs[:3]))
    out["set_adapter_ms"] = ms(lambda: rt.activate(refs[1:2]))
    ctx.max_new_tokens = rt.min_new_tokens = args.answer_tokens
    out["answer_tokens"] = args.answer_tokens
    graph = compile_graph(ctx, MemorySaver())
    questions = [f.questions[0] for f in facts[:: max(1, len(facts) // args.questions)]][: args.questions]
    for mode in MODES:
        if mode != "full":  # steady state: merges this question set needs are built once, then cached
            for i, q in enumerate(questions):
                graph.invoke({"namespace": "bench", "message": q, "mode": mode},
                             {"configurable": {"thread_id": f"warm-{mode}-{i}"}})
        times = []
        for i, q in enumerate(questions):
            cfg = {"configurable": {"thread_id": f"{mode}-{i}"}}
            t = time.perf_counter()
            graph.invoke({"namespace": "bench", "message": q, "mode": mode}, cfg)
            times.append((time.perf_counter() - t) * 1000)
        out[f"answer_ms_{mode}"] = round(statistics.median(times), 1)
        log(f"{mode}: {out[f'answer_ms_{mode}']} ms")
    out["lora_over_full"] = round(out["answer_ms_lora"] / out["answer_ms_full"], 3)
    out["lora_over_rag"] = round(out["answer_ms_lora"] / out["answer_ms_rag"], 3)
    out["runtime_stats"] = rt.stats
    svc.heat.drop_prefix()
    svc.close()
    out["provenance"] = provenance()
    print(json.dumps(out, indent=None if args.json else 2))


if __name__ == "__main__":
    main()
