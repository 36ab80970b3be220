"""What the memory keeps of a real corpus it was not written for: Synthetic-Persona-Chat (Google, CC BY 4.0).

    python -m bench.persona --split valid --json [--limit N] [--data DIR]

The corpus is not bundled: fetch google-research-datasets/Synthetic-Persona-Chat and put its
`data/Synthetic-Persona-Chat_<split>.csv` in --data (default evals/out/persona, ignored by git). Its *train* split
is for development, *valid* for measuring; *test* is reserved for checks from outside the project and is refused.

Per conversation, User 1's lines are said to the memory as the user's messages (MemoryService.write_message, a
namespace per conversation); User 2's lines are not said (the agent is User 2's place). Then, per sentence of User
1's persona that the conversation supports (at least half of its content words are in User 1's lines):
- held: a top-3 recall hit for the persona sentence, stored from the user's messages, carries at least half of
  the supported words;
- wrong speaker: a fact read as the user's that carries at least half of a User 2 persona sentence's words, from
  a sentence in which the user does not speak of themselves ("Your dogs sound lovely."; User 1 often shares User
  2's tastes, "I love dogs too", which is the user's);
and per conversation: statements kept, ms per turn, exceptions (a turn that raised: its conversation stops).
`--intake`: only intake over every line of both speakers (none may raise, and none should need the safety net
that keeps a sentence verbatim when a rule fails on it).
"""

from __future__ import annotations

import csv
import os
import re
import sys
import tempfile
import time
import traceback
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

from bench import runner  # noqa: E402
from language.forgetting import about_words  # noqa: E402
from language.lexicon import USER  # noqa: E402
from memory_service.service import MemoryService  # noqa: E402
from memory_service.settings import Settings  # noqa: E402

DATA = Path(__file__).resolve().parents[1] / "evals/out/persona"
SPLITS = ("train", "valid")
FIRST_PERSON_WORD = re.compile(r"\b(?:i|i'm|i've|i'd|i'll|me|my|mine|myself|we|we're|we've|us|our|ours)\b", re.I)


def conversations(path: Path) -> list[dict]:
    """[{persona1, persona2: [sentences], lines: [(speaker 1|2, text)]}] from one split's CSV."""
    out = []
    with path.open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            lines = []
            for line in row["Best Generated Conversation"].splitlines():
                m = re.match(r"\s*User ([12]):\s*(.*)", line)
                if m and m.group(2).strip():
                    lines.append((int(m.group(1)), m.group(2).strip()))
            out.append({"persona1": [p.strip() for p in row["user 1 personas"].splitlines() if p.strip()],
                        "persona2": [p.strip() for p in row["user 2 personas"].splitlines() if p.strip()],
                        "lines": lines})
    return out


def covers(words: set[str], of: set[str]) -> bool:
    """At least half of `of` is in `words`."""
    return bool(of) and 2 * len(of & words) >= len(of)


def measure_one(conv: dict, svc: MemoryService, ns: str) -> dict:
    said = [text for who, text in conv["lines"] if who == 1]
    started, error = time.perf_counter(), None
    kept = 0
    for text in said:
        try:
            out = svc.write_message(ns, text)
        except Exception as exc:  # noqa: BLE001 -- counted: the figure is how often this happens
            error = f"{type(exc).__name__}: {exc} ({text!r})"
            traceback.print_exc(file=sys.stderr)
            break
        kept += sum(1 for s in out.stored if s.kind == "statement")
    ms = 1000 * (time.perf_counter() - started) / max(len(said), 1)
    spoken = set().union(*(about_words(t) for t in said)) if said else set()
    supported, held = [], []
    for sentence in conv["persona1"]:
        words = about_words(sentence) & spoken
        if not covers(spoken, about_words(sentence)):
            continue
        supported.append(sentence)
        try:
            hits = svc.recall(ns, sentence, limit=3, record_heat=False)
        except Exception:  # noqa: BLE001 -- a namespace that stored nothing has nothing to recall
            hits = []
        if any(covers(about_words(h.fact.text), words) for h in hits):
            held.append(sentence)
    facts = [f for f in (svc.all_active(ns) if kept else []) if f.subject == USER and f.derived_from]
    statements = {f.id: f.text for f in svc.all_active(ns)} if facts else {}
    # User 1 often shares User 2's tastes ("I love dogs too"): what is wrong is a fact of User 2's persona read as
    # the user's from a sentence in which the user does not speak of themselves ("Your dogs sound lovely.")
    wrong = [f.text for f in facts for p in conv["persona2"]
             if covers(about_words(f.text), about_words(p)) and not FIRST_PERSON_WORD.search(
                 statements.get(f.derived_from, ""))]
    return {"turns": len(said), "kept": kept, "supported": len(supported), "held": len(held),
            "missed": [s for s in supported if s not in held], "wrong_speaker": sorted(set(wrong)),
            "ms_per_turn": round(ms, 1), "error": error}


def measure(convs: list[dict], svc: MemoryService, log=lambda m: None) -> dict:
    run = f"{time.time_ns():x}"
    per = []
    for i, conv in enumerate(convs):
        per.append(measure_one(conv, svc, f"persona-{run}-{i}"))
        if (i + 1) % 10 == 0 or i + 1 == len(convs):
            held, supported = sum(p["held"] for p in per), sum(p["supported"] for p in per)
            log(f"[{i + 1}/{len(convs)}] held {held}/{supported}")
    supported = sum(p["supported"] for p in per)
    return {"conversations": len(per), "turns": sum(p["turns"] for p in per),
            "statements_kept": sum(p["kept"] for p in per), "persona_supported": supported,
            "persona_held": sum(p["held"] for p in per),
            "held_share": round(sum(p["held"] for p in per) / supported, 4) if supported else None,
            "wrong_speaker": sum(len(p["wrong_speaker"]) for p in per),
            "exceptions": sum(1 for p in per if p["error"]),
            "ms_per_turn": round(sum(p["ms_per_turn"] * p["turns"] for p in per) / max(1, sum(p["turns"] for p in per)),
                                 1),
            "per_conversation": per}


def read_every_line(convs: list[dict]) -> dict:
    """Intake over every line of both speakers, in batches: lines, sentences kept as unreadable (a rule failed on
    them; the safety net kept them verbatim), and batches that raised all the same."""
    from language.intake import read_messages

    lines = [text for conv in convs for _, text in conv["lines"]]
    unreadable, raised = [], 0
    for i in range(0, len(lines), 400):
        try:
            intakes = read_messages(lines[i:i + 400])
        except Exception:  # noqa: BLE001 -- counted: the figure is how often this happens
            raised += 1
            continue
        unreadable += [s.text for it in intakes for s in it.sentences if (s.why or "").startswith("unreadable")]
    return {"lines": len(lines), "batches_raised": raised, "unreadable": len(unreadable),
            "unreadable_sentences": unreadable[:20]}


def main() -> None:
    ap = runner.parser(__doc__)
    ap.add_argument("--split", default="valid", help="train (development) or valid (measure); test is refused")
    ap.add_argument("--data", type=Path, default=DATA, help="folder holding Synthetic-Persona-Chat_<split>.csv")
    ap.add_argument("--limit", type=int, default=0, help="first N conversations only (0: all)")
    ap.add_argument("--details", action="store_true", help="include each conversation's misses")
    ap.add_argument("--intake", action="store_true", help="only read every line of both speakers: does intake "
                                                          "raise or give up on any")
    args = runner.parse(ap, out="bench/results/persona-valid.json")
    if args.split not in SPLITS:
        sys.exit(f"--split {args.split!r}: one of {', '.join(SPLITS)} (the test split is reserved for outside checks)")
    path = args.data / f"Synthetic-Persona-Chat_{args.split}.csv"
    if not path.is_file():
        sys.exit(f"{path} not found: fetch google-research-datasets/Synthetic-Persona-Chat and copy its "
                 f"data/Synthetic-Persona-Chat_{args.split}.csv into {args.data}")
    convs = conversations(path)[: args.limit or None]
    if args.intake:
        runner.report({"split": args.split, **read_every_line(convs)}, args)
        return
    svc = MemoryService(Settings(data_dir=tempfile.mkdtemp(prefix="engram-bench-persona-")))
    result = {"split": args.split, **measure(convs, svc, runner.logger(args))}
    if not args.details:
        result.pop("per_conversation")
    runner.report(result, args)


if __name__ == "__main__":
    main()
