"""Agent benchmark: adapter runtime operations and answer latency per mode at N facts.

    python -m bench.agent --json
    python -m bench.agent --users 16 --json     # N concurrent users, each with their own adapter

With --users, N threads (one per user, each with its own adapter) ask --questions questions each, closed loop,
against the adapter runtime twice: one question at a time with adapter swaps (batch size 1), and batched (one
generate call for whatever arrived, a per-row adapter). It reports answers/s and p50/p95 latency of each and
`batched_speedup` (the ratio of answers/s). Generation only: routing and recall are per-user work either way.

Adapters are rank 8 on the production layout (top 4 layers, all linear modules) with small random weights, so
the timings are those of real peft operations without minutes of training first. Answer latency is the whole
graph turn (recall with heat, routing, generation) on the packaged SmolLM2 with N facts in the store; every
answer is --answer-tokens long (untrained adapters do not stop early the way trained ones do), so the modes
differ only in what they put in front of the answer: facts in the prompt, routing, adapters.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
import uuid

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch  # noqa: E402
from langgraph.checkpoint.memory import MemorySaver  # noqa: E402

from agent.graph import compile_graph, make_context  # noqa: E402
from bench import runner  # noqa: E402
from consolidation.model import load_base  # noqa: E402
from consolidation.train import Recipe, lora_config  # noqa: E402
from evals.fictional import fictional_facts  # noqa: E402
from memory_service.registry import Registry  # noqa: E402
from memory_service.schemas import FactIn  # noqa: E402
from memory_service.service import MemoryService  # noqa: E402
from memory_service.settings import MODES, Settings  # noqa: E402
from memory_service.store import FactFilter  # noqa: E402


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


def users_bench(args, log) -> dict:
    import threading

    from agent.runtime import AdapterRuntime

    registry = Registry(tempfile.mkdtemp(prefix="engram-bench-users-"))
    s = Settings()
    trainer = load_base("packaged", cache_dir=s.model_cache_dir, pack=s.pack_weights)
    refs = [publish(trainer, registry, f"user-{i}", "memory", [], i) for i in range(args.users)]
    questions = [f.questions[0] for f in fictional_facts(args.questions * args.users, seed=5)]
    out: dict = {"users": args.users, "questions_per_user": args.questions, "answer_tokens": args.answer_tokens,
                 "threads": args.threads, "batch_wait_ms": args.batch_wait_ms}
    for name, batch in (("one_at_a_time", 1), ("batched", args.users)):
        base = load_base("packaged", cache_dir=s.model_cache_dir, pack=s.pack_weights)
        rt = AdapterRuntime(base, registry, max_loaded=args.users, batch_size=batch, batch_wait_ms=args.batch_wait_ms)
        rt.min_new_tokens = args.answer_tokens  # every answer equally long: the same work either way
        for ref in refs:
            rt.answer_one("warm up", [ref], None, args.answer_tokens)
        latencies: list[float] = []
        lock = threading.Lock()

        def user(i: int, rt=rt) -> None:
            for q in questions[i * args.questions:(i + 1) * args.questions]:
                t = time.perf_counter()
                rt.answer_one(q, [refs[i]], None, args.answer_tokens)
                with lock:
                    latencies.append((time.perf_counter() - t) * 1000)

        threads = [threading.Thread(target=user, args=(i,)) for i in range(args.users)]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - t0
        latencies.sort()
        out[name] = {"answers_per_s": round(len(latencies) / wall, 3),
                     "p50_ms": round(latencies[len(latencies) // 2], 1),
                     "p95_ms": round(latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))], 1),
                     "wall_s": round(wall, 2), "runtime_stats": dict(rt.stats)}
        log(f"{name}: {out[name]}")
    out["batched_speedup"] = round(out["batched"]["answers_per_s"] / out["one_at_a_time"]["answers_per_s"], 3)
    out["p95_ratio"] = round(out["batched"]["p95_ms"] / out["one_at_a_time"]["p95_ms"], 3)
    return out


def ms(fn) -> float:
    t = time.perf_counter()
    fn()
    return round((time.perf_counter() - t) * 1000, 1)


def main() -> None:
    ap = runner.parser(__doc__)
    ap.add_argument("--facts", type=int, default=300)
    ap.add_argument("--topics", type=int, default=6)
    ap.add_argument("--questions", type=int, default=8, help="questions timed per mode")
    ap.add_argument("--answer-tokens", type=int, default=16,
                    help="every answer is exactly this long, so modes differ only in what they put in front")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--redis-url", default=os.environ.get("ENGRAM_REDIS__URL", "redis://127.0.0.1:6379/0"))
    ap.add_argument("--users", type=int, default=0, help="N concurrent users with their own adapters (see above)")
    ap.add_argument("--batch-wait-ms", type=float, default=5.0)
    args = runner.parse(ap)
    log = runner.logger(args)
    torch.set_num_threads(args.threads)
    if args.users:
        out = users_bench(args, log)
        runner.report(out, args)
        return
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
    base = load_base(settings.base_model, pack=settings.pack_weights)
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
    trainer_base = load_base(settings.base_model, pack=settings.pack_weights)
    new = publish(trainer_base, Registry(settings.adapters_dir), "bench", "topic-0", groups[0], 99)
    out["hotswap_ms"] = ms(lambda: rt.ensure(new))
    refs[0] = new
    out["ties_merge3_ms_first"] = ms(lambda: rt.activate(refs[:3]))
    rt.activate(refs[:1])
    out["ties_merge3_ms_cached"] = ms(lambda: rt.activate(refs[:3]))
    out["set_adapter_ms"] = ms(lambda: rt.activate(refs[1:2]))
    # per generated token: an answer of N tokens minus one of 1 token (the prompt's cost), over N - 1
    n = max(2, args.answer_tokens)
    for name, chosen in (("none", []), ("lora", refs[:1]), ("merged3", refs[:3])):
        def timed(k):
            rt.min_new_tokens = k
            return min(ms(lambda: rt.answer(["What is the capital of France?"], chosen, max_new_tokens=k))
                       for _ in range(3))
        timed(n)  # warm: loads and merges happen here, not in the timing
        out[f"per_token_ms_{name}"] = round((timed(n) - timed(1)) / (n - 1), 2)
    rt.min_new_tokens = 0
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
    runner.report(out, args)


if __name__ == "__main__":
    main()
