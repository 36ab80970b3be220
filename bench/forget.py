"""Requests to forget, and changes said in passing, through the memory service on the real stores.

    python -m bench.forget --corpus evals/data/forget-heldout.yaml --json [--errors]

Each case of the corpus (format in evals/data/forget.yaml) gets a namespace of its own: what the user said
before, one message each, then the request, one message, all through MemoryService.write_message (what the agent
and POST /v1/namespaces/{ns}/messages call). Scored per case:
- forget: exactly the statements named are deleted (their facts with them), every other one stays, and nothing
  of the request is stored;
- forget "that": neither the sentence before nor the request is kept;
- not a request (a control): nothing is deleted, and the message is kept;
- update: an active fact of the user holds the new value, and none holds a superseded one (a fact that says the
  value ended, "The user quit Halden Freight.", holds nothing).
`acted_on` is the share of right cases of each kind; `wrongly_deleted` counts statements deleted that no case
asked for; `ms_per_request` is the request's write time (parse, match, store) on this machine.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import yaml  # noqa: E402

from bench import runner  # noqa: E402
from language.extraction import norm  # noqa: E402
from language.lexicon import ENDS, USER  # noqa: E402
from memory_service.service import MemoryService  # noqa: E402
from memory_service.settings import Settings  # noqa: E402

CORPUS = Path(__file__).resolve().parents[1] / "evals/data/forget.yaml"


def kind_of(case: dict) -> str:
    if "now" in case:
        return "update"
    if case.get("kept"):
        return "not a request"
    if case.get("kept_none_of_request"):
        return "forget that"
    return "forget"


def score(case: dict, active: list, deleted: set[str]) -> tuple[bool, list[str], int]:
    """(right, what went wrong, statements of `said` deleted that the case did not ask for): `active` is what
    the namespace holds after the request, `deleted` the statements of `said` deleted (a superseded one is not
    deleted)."""
    statements = {f.text for f in active if f.derived_from is None}
    said = set(case["said"])

    wanted = set(case.get("forgets", []))
    wrong = []
    kind = kind_of(case)
    if kind in ("forget", "forget that", "not a request") and deleted != wanted:
        wrong.append(f"deleted {sorted(deleted)}, wanted {sorted(wanted)}")
    request_kept = [t for t in statements - said if t]
    if kind in ("forget", "forget that") and request_kept:
        wrong.append(f"kept {request_kept}")
    if kind == "not a request" and not request_kept:
        wrong.append("the message was not kept")
    if kind == "update":
        facts = [(norm(f.relation or ""), norm(f.object or "")) for f in active
                 if f.derived_from is not None and f.subject == USER]
        relation, value = case["now"]
        if not any(o == norm(value) and r.split()[:1] == norm(relation).split()[:1] for r, o in facts):
            wrong.append(f"no active fact {relation} {value}: {facts}")
        # a fact that says the old value ended ("The user quit Halden Freight.") does not hold it
        stale = [o for r, o in facts if o in {norm(v) for v in case.get("gone", [])} and r not in ENDS]
        if stale:
            wrong.append(f"still holds {stale}")
    return not wrong, wrong, len(deleted - wanted)


def measure(cases: list[dict], svc: MemoryService, log=lambda m: None) -> dict:
    totals: dict[str, list[int]] = {}
    errors, wrongly_deleted, ms = [], 0, []
    run = f"{time.time_ns():x}"
    for i, case in enumerate(cases):
        ns = f"forget-{run}-{i}"
        said_ids = {}
        for text in case["said"]:
            out = svc.write_message(ns, text)
            said_ids.update({s.text: s.id for s in out.stored if s.kind == "statement"})
        t0 = time.perf_counter()
        svc.write_message(ns, case["request"])
        ms.append(1000 * (time.perf_counter() - t0))
        deleted = {text for text, id_ in said_ids.items() if svc.get(ns, id_).status == "deleted"}
        right, wrong, extra = score(case, svc.all_active(ns), deleted)
        wrongly_deleted += extra
        kind = kind_of(case)
        totals.setdefault(kind, [0, 0])
        totals[kind][0] += right
        totals[kind][1] += 1
        if not right:
            errors.append({"request": case["request"], "kind": kind, "wrong": wrong})
        log(f"[{i + 1}/{len(cases)}] {'ok ' if right else 'NO '} {case['request']}")
    right = sum(r for r, _ in totals.values())
    return {"cases": len(cases), "right": right, "share_right": round(right / len(cases), 4),
            "acted_on": {k: {"right": r, "of": n, "share": round(r / n, 4)} for k, (r, n) in sorted(totals.items())},
            "wrongly_deleted": wrongly_deleted, "ms_per_request": round(sum(ms) / len(ms), 1), "errors": errors}


def main() -> None:
    ap = runner.parser(__doc__)
    ap.add_argument("--corpus", type=Path, default=CORPUS)
    ap.add_argument("--errors", action="store_true", help="include every case that went wrong")
    args = runner.parse(ap, out="bench/results/forget-heldout.json")
    try:
        cases = yaml.safe_load(args.corpus.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        sys.exit(f"{args.corpus}: {exc}")
    svc = MemoryService(Settings(data_dir=tempfile.mkdtemp(prefix="engram-bench-forget-")))
    result = {"corpus": str(args.corpus), **measure(cases, svc, runner.logger(args))}
    if not args.errors:
        result["errors"] = len(result["errors"])
    runner.report(result, args)


if __name__ == "__main__":
    main()
