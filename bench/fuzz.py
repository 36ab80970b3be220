"""Fuzz the REST API from its own OpenAPI spec (schemathesis): valid and invalid requests, no server errors.

    python -m bench.fuzz --cases 1000 --json

The app runs in-process (ASGI) over a real service: Qdrant Edge in a temp dir, the real Redis under its own
key prefix (ENGRAM_REDIS__URL, default 127.0.0.1:6379), the packaged embedder. Cases are spread round-robin
over the operations: requests generated to fit the schema, to break it, and to fit it aimed at a
seeded namespace. A server error is any 5xx
except a 503 (the answer when a backing service is down, which is by design) or an exception out of the app.
The chat endpoint loads the base model and generates, so it gets its own small budget (--chat-cases).
Prints JSON: {cases, server_errors, unavailable, by_operation: {label: {cases, statuses, server_errors}},
failures: [first few, with the request that caused each]}.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import uuid
from collections import Counter
from contextlib import contextmanager
from typing import Iterator

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import redis  # noqa: E402

from bench import runner  # noqa: E402
from memory_service.api import create_app  # noqa: E402
from memory_service.embed import Embedder  # noqa: E402
from memory_service.events import Keys  # noqa: E402
from memory_service.schemas import FactIn  # noqa: E402
from memory_service.service import MemoryService  # noqa: E402
from memory_service.settings import Settings  # noqa: E402

CHAT_SUFFIX = "/chat"
SEED_NS = "alice"
# "seeded": valid requests aimed at the seeded namespace (and one of its facts), so that writes, recalls and
# consolidations get past the namespace check, which random namespaces rarely do
VARIANTS = ("valid", "invalid", "seeded")
SEED_FACTS = [
    FactIn(text="Quorlan Veddick lives in Brindlewick.", subject="Quorlan Veddick", relation="lives in",
           object="Brindlewick", topic="friends"),
    FactIn(text="Ysolde Marrak plays the dulcimer.", subject="Ysolde Marrak", relation="instrument",
           object="dulcimer", topic="friends"),
]


def is_server_error(status: int) -> bool:
    """5xx, except 503: 'a backing service is unavailable' is the intended answer, not a bug."""
    return status >= 500 and status != 503


@contextmanager
def fuzz_schema(data_dir, redis_url: str, embedder: Embedder | None = None, chat: bool = False) -> Iterator:
    """A schemathesis schema bound to the app (lifespan started), seeded with a namespace that has facts."""
    import schemathesis
    from schemathesis.python.asgi import shutdown_lifespans

    tag = uuid.uuid4().hex[:8]
    s = Settings(data_dir=data_dir, torch_threads=2,
                 redis={"url": redis_url, "embedded_fallback": False, "key_prefix": f"engram-fuzz-{tag}"},
                 consolidation={"queue": f"consolidate-fuzz-{tag}"})
    svc = MemoryService(s, embedder=embedder or Embedder(s.embedder, threads=s.torch_threads))
    seeded = svc.write(SEED_NS, SEED_FACTS)
    # no relay: nothing consumes the queue here, and the relay would turn due topics into more tasks
    app = create_app(s, svc, relay=False)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    if not chat:
        schema = schema.exclude(path_regex=f".*{CHAT_SUFFIX}$")
    try:
        yield schema, {"ns": SEED_NS, "fact_id": seeded[0].id}
    finally:
        shutdown_lifespans()
        svc.close()
        r = redis.Redis.from_url(redis_url)
        q = s.consolidation.queue
        for pattern in (Keys(s.redis.key_prefix).pattern(), f"{q}*", f"_kombu.binding.{q}*"):
            for key in r.scan_iter(match=pattern, count=1000):
                r.delete(key)


def strategy(op, variant: str, fixed: dict[str, str]):
    from schemathesis import GenerationMode

    if variant == "invalid":
        return op.as_strategy(generation_mode=GenerationMode.NEGATIVE)
    names = {p.name for p in op.path_parameters} if variant == "seeded" else set()
    return op.as_strategy(generation_mode=GenerationMode.POSITIVE,
                          path_parameters={k: v for k, v in fixed.items() if k in names} or None)


def run_operation(op, n: int, variant: str, fixed: dict[str, str], stats: dict, failures: list,
                  seed: int) -> None:
    """Up to n generated cases of one operation (fewer when the space is exhausted)."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hseed
    from hypothesis.errors import Unsatisfiable

    @hseed(seed)
    @settings(max_examples=n, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(case=strategy(op, variant, fixed))
    def one(case) -> None:
        stats["cases"] += 1
        try:
            status = case.call(timeout=120).status_code
        except Exception as exc:  # the app raised through the ASGI transport: a server error too
            status, detail = 599, f"{type(exc).__name__}: {exc}"
        else:
            detail = None
        stats["statuses"][str(status)] += 1
        if is_server_error(status):
            stats["server_errors"] += 1
            if len(failures) < 20:
                failures.append({"operation": op.label, "status": status, "detail": detail,
                                 "request": case.as_curl_command()})

    try:
        one()
    except Unsatisfiable:  # e.g. no invalid request exists for an operation without inputs
        pass


def fuzz(schema, fixed: dict[str, str], cases: int, chat_cases: int = 0, log=lambda msg: None,
         seed: int = 0) -> dict:
    ops = [r.ok() for r in schema.get_all_operations()]
    regular = [op for op in ops if not op.path.endswith(CHAT_SUFFIX)]
    chat = [op for op in ops if op.path.endswith(CHAT_SUFFIX)]
    by_op = {op.label: {"cases": 0, "statuses": Counter(), "server_errors": 0} for op in ops}
    failures: list[dict] = []
    per_round = max(1, cases // (len(regular) * len(VARIANTS) * 4))  # about four rounds over every operation
    rnd = 0
    while sum(by_op[op.label]["cases"] for op in regular) < cases:
        before = sum(v["cases"] for v in by_op.values())
        for op in regular:
            for variant in VARIANTS:
                run_operation(op, per_round, variant, fixed, by_op[op.label], failures, seed + rnd)
        rnd += 1
        total = sum(v["cases"] for v in by_op.values())
        log(f"round {rnd}: {total} cases, {sum(v['server_errors'] for v in by_op.values())} server errors")
        if total == before:
            break
    for op in chat:
        for variant in VARIANTS:
            run_operation(op, max(1, chat_cases // len(VARIANTS)), variant, fixed, by_op[op.label], failures, seed)
    return {
        "cases": sum(v["cases"] for v in by_op.values()),
        "server_errors": sum(v["server_errors"] for v in by_op.values()),
        "unavailable": sum(v["statuses"].get("503", 0) for v in by_op.values()),
        "by_operation": {k: {**v, "statuses": dict(sorted(v["statuses"].items()))} for k, v in by_op.items()},
        "failures": failures,
    }


def main() -> None:
    ap = runner.parser(__doc__)
    ap.add_argument("--cases", type=int, default=1000, help="cases over the non-chat operations (at least)")
    ap.add_argument("--chat-cases", type=int, default=10, help="cases for the chat endpoint (loads the model)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--redis-url", default=os.environ.get("ENGRAM_REDIS__URL", "redis://127.0.0.1:6379/0"))
    args = runner.parse(ap, json_help="print only the JSON result on stdout")

    import torch

    torch.set_num_threads(2)
    log = (lambda msg: print(msg, file=sys.stderr, flush=True))
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="engram-fuzz-") as tmp:
        with fuzz_schema(tmp, args.redis_url, chat=args.chat_cases > 0) as (schema, fixed):
            out = fuzz(schema, fixed, args.cases, args.chat_cases, log, args.seed)
    out["seconds"] = round(time.perf_counter() - t0, 1)
    runner.report(out, args)
    sys.exit(1 if out["server_errors"] else 0)


if __name__ == "__main__":
    main()
