"""Intake and extraction measured on the hand-written corpus evals/data/extraction.yaml.

    python -m bench.extract --json [--errors]

kept: share of the corpus's statements (everything but questions and small talk) that intake keeps verbatim
(target 100%). precision / recall: triples read by the parser against the corpus's expected triples, matched
on normalized (subject, relation, object). skipped_right: share of small-talk lines skipped. ms_per_sentence:
intake time per sentence on one core, the pipeline already loaded.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import yaml  # noqa: E402

from bench import runner  # noqa: E402
from language.extraction import norm  # noqa: E402
from language.intake import read_messages  # noqa: E402

CORPUS = Path(__file__).resolve().parents[1] / "evals/data/extraction.yaml"


def key(triple) -> tuple[str, str, str]:
    s, r, o = triple
    return norm(s), norm(r).replace("favorite", "favourite"), norm(o)


def measure(entries: list[dict]) -> dict:
    by_speaker: dict[str, list[int]] = {}
    for i, e in enumerate(entries):
        by_speaker.setdefault(e["speaker"], []).append(i)
    got: dict[int, object] = {}
    read_messages(["warm up."])
    t0 = time.perf_counter()
    for speaker, idx in by_speaker.items():
        for i, intake in zip(idx, read_messages([entries[i]["text"] for i in idx], speaker)):
            got[i] = intake
    seconds = time.perf_counter() - t0
    tp = fp = fn = 0
    kept = statements = small = skipped_right = 0
    errors = []
    for i, e in enumerate(entries):
        intake = got[i]
        predicted = {key((t.subject, t.relation, t.object)) for s in intake.sentences for t in s.triples}
        expected = {key(t) for t in e["triples"]}
        tp += len(predicted & expected)
        fp += len(predicted - expected)
        fn += len(expected - predicted)
        kinds = {s.kind for s in intake.sentences}
        if e["kind"] == "statement":
            statements += 1
            kept += "statement" in kinds
        elif e["kind"] == "small-talk":
            small += 1
            skipped_right += kinds == {"small-talk"}
        if predicted != expected or (e["kind"] == "statement") != ("statement" in kinds):
            errors.append({"text": e["text"], "speaker": e["speaker"], "kind": e["kind"], "got_kinds": sorted(kinds),
                           "missing": sorted(expected - predicted), "extra": sorted(predicted - expected)})
    n = len(entries)
    return {
        "sentences": n, "statements": statements, "expected_triples": tp + fn,
        "precision": round(tp / (tp + fp), 4) if tp + fp else None,
        "recall": round(tp / (tp + fn), 4) if tp + fn else None,
        "kept": round(kept / statements, 4) if statements else None,
        "skipped_right": round(skipped_right / small, 4) if small else None,
        "ms_per_sentence": round(1000 * seconds / n, 2),
        "errors": errors,
    }


def main() -> None:
    ap = runner.parser(__doc__)
    ap.add_argument("--corpus", type=Path, default=CORPUS)
    ap.add_argument("--errors", action="store_true", help="include every mismatching sentence")
    args = runner.parse(ap, out="bench/results/extract.json")
    try:
        entries = yaml.safe_load(args.corpus.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        sys.exit(f"{args.corpus}: {exc}")
    result = measure(entries)
    if not args.errors:
        result["errors"] = len(result["errors"])
    runner.report(result, args)


if __name__ == "__main__":
    main()
