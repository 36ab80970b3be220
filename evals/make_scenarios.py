"""Writes the bundled scenarios in evals/scenarios/ from invented facts (fixed seeds, so they are reproducible).

    python -m evals.make_scenarios [--out evals/scenarios]

Every fact is fictional (invented names, companies, towns), so the base model cannot know any answer: what a
mode gets right, it got from engram's memory. Probe questions come from evals/questions.py, written apart from
the questions consolidation trains and validates on: a probe's `taught` tag means the fact is asked about as it
was stated, not that the question was trained.
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

import yaml

from evals.fictional import FictionalFact, fact_about, fictional_facts, new_names
from evals.questions import about, mine
from language.templates import RELATIONS

# relation -> topic: one adapter per area, so the router has something to tell apart
TOPICS = {"lives in": "homes", "works as": "jobs", "pet": "pets", "favourite food": "food",
          "instrument": "music", "works at": "employers", "sport": "sports", "car": "cars"}

# general questions the base model answers right (bench/results/probe-select.json); a memory must not make them
# worse (tag: unrelated). None is in the gate's probe (consolidation/probe.py): tests/evals check it.
UNRELATED = [
    ("What is the capital of Norway?", ["Oslo"]), ("What is the capital of Sweden?", ["Stockholm"]),
    ("What is the capital of Poland?", ["Warsaw"]), ("What is the capital of Kenya?", ["Nairobi"]),
    ("What is the opposite of up?", ["down"]), ("What is the plural of child?", ["children"]),
    ("Which planet has rings?", ["Saturn"]), ("What does a thermometer measure?", ["temperature"]),
]


def aliases(obj: str) -> list[str]:
    """'green Tatra' is also right as 'Tatra'; 'Quillfeather Labs' as 'Quillfeather'."""
    words = obj.split()
    return [words[-1]] if len(words) == 2 and obj.split()[0][0].islower() else (
        [words[0]] if len(words) == 2 and words[0][0].isupper() and words[0] not in ("The",) else [])


def fact_item(f: FictionalFact) -> dict:
    return {"text": f.text, "topic": TOPICS[f.relation], "subject": f.subject, "relation": f.relation,
            "object": f.object}


def probe(f: FictionalFact, tag: str, which: int = 0, expect: str | None = None) -> dict:
    """which: 0 = the direct wording, 1 (or -1) = the paraphrase (evals/questions.py)."""
    obj = expect or f.object
    p = {"question": about(f.relation, f.subject)[0 if which == 0 else 1], "expect": [obj], "tag": tag}
    if tag not in ("deleted", "other-namespace"):  # routing is scored where an adapter should answer
        p["topic"] = TOPICS[f.relation]
    if aliases(obj):
        p["aliases"] = aliases(obj)
    return {"probe": p}


def unrelated(n: int, start: int = 0) -> list[dict]:
    return [{"probe": {"question": q, "expect": e, "tag": "unrelated"}}
            for q, e in UNRELATED[start:start + n]]


def taught_and_paraphrase(facts: list[FictionalFact], rng: random.Random, taught: int, para: int) -> list[dict]:
    """`taught` probes ask about facts as stated (direct wording), `para` in other words (paraphrase)."""
    picked = rng.sample(facts, min(len(facts), taught + para))
    return [probe(f, "taught") for f in picked[:taught]] + [probe(f, "paraphrase", -1) for f in picked[taught:]]


def unique_objects(facts: list[FictionalFact], others: list[FictionalFact] = ()) -> list[FictionalFact]:
    """Facts whose answer no other fact shares: a must-not-answer probe on them cannot be passed or failed by
    the model naming a value it legitimately learned from another fact (objects come from small pools)."""
    counts: dict[str, int] = {}
    for f in [*facts, *others]:
        counts[f.object] = counts.get(f.object, 0) + 1
    return [f for f in facts if counts[f.object] == 1]


def smoke() -> dict:
    """Short enough for CI: one topic, consolidate, ask, delete, ask again, another user asks."""
    facts = fictional_facts(6, seed=11, relations=["lives in"])
    first = unique_objects(facts)[0]
    facts = [first] + [f for f in facts if f is not first]  # the deleted one: its answer is nobody else's
    rng = random.Random(11)
    return {
        "name": "smoke", "description": "Six facts in one topic; consolidate; taught, paraphrase, deleted, "
                                        "other-namespace and unrelated probes.",
        "namespace": "ana",
        "sessions": [
            {"turns": [{"remember": [fact_item(f) for f in facts]}, {"consolidate": {"wait": True}},
                       *taught_and_paraphrase(facts[1:], rng, 3, 2), *unrelated(1),
                       {"delete": facts[0].text}, probe(facts[0], "deleted")]},
            {"namespace": "ben", "turns": [probe(facts[1], "other-namespace")]},
        ],
    }


def large(n: int = 300) -> dict:
    """n facts across all 8 topics in two halves; everything consolidated after each half, then probed."""
    facts = fictional_facts(n, seed=21, relations=list(TOPICS))
    rng = random.Random(21)
    half = n // 2
    sessions = []
    for part, chunk in enumerate((facts[:half], facts[half:])):
        seen = facts[: half * (part + 1)] if part == 0 else facts
        by_topic: dict[str, list[FictionalFact]] = {}
        for f in seen:
            by_topic.setdefault(TOPICS[f.relation], []).append(f)
        probes = []
        for topic in sorted(by_topic):
            probes += taught_and_paraphrase(by_topic[topic], rng, 3, 1)
        sessions.append({"turns": [{"remember": [fact_item(f) for f in chunk]}, {"consolidate": {"wait": True}},
                                   *probes, *unrelated(3, 3 * part)]})
        if part == 0:
            sessions[-1]["turns"].append({"advance": "2d"})
    return {"name": f"large-{n}", "description": f"{n} facts about invented people across {len(TOPICS)} topics "
                                                 "(one per relation), consolidated in two halves.",
            "namespace": "crm", "sessions": sessions}


def updates() -> dict:
    """Facts change after they were consolidated: the stale adapter must not answer the old value."""
    rels = ["lives in", "works at", "car"]
    facts = fictional_facts(18, seed=31, relations=rels)
    rng = random.Random(31)
    changed = rng.sample(facts, 6)
    others = {r: [o for o in {f.object for f in facts if f.relation == r}] for r in rels}
    new_obj = {f.text: next(o for o in sorted(others[f.relation]) if o != f.object) for f in changed}
    new_text = {f.text: RELATIONS[f.relation][0].format(s=f.subject, o=new_obj[f.text]) for f in changed}
    upd = [{"update": {"old": f.text, "new": new_text[f.text]}} for f in changed]
    after = [probe(f, "updated", 0, new_obj[f.text]) for f in changed]
    for p, f in zip(after, changed):
        p["probe"]["reject"] = [f.object]  # the stale value must not come back
    return {
        "name": "updates", "description": "18 facts in 3 topics, consolidated; 6 change; asked before and after "
                                          "the rebuild.",
        "namespace": "ops",
        "sessions": [
            {"turns": [{"remember": [fact_item(f) for f in facts]}, {"consolidate": {"wait": True}},
                       *taught_and_paraphrase([f for f in facts if f not in changed], rng, 4, 2)]},
            {"turns": [{"advance": "1d"}, *upd, *after]},
            {"turns": [{"consolidate": {"wait": True}}, *after, *unrelated(2)]},
        ],
    }


def deletions() -> dict:
    """Deleted facts are never answered: right after the delete (stale adapter) and after the rebuild."""
    facts = fictional_facts(20, seed=41, relations=["pet", "instrument"])
    rng = random.Random(41)
    gone = rng.sample(unique_objects(facts), 5)
    kept = [f for f in facts if f not in gone]
    return {
        "name": "deletions", "description": "20 facts in 2 topics, consolidated; 5 deleted; asked at once and "
                                            "after the rebuild.",
        "namespace": "priv",
        "sessions": [
            {"turns": [{"remember": [fact_item(f) for f in facts]}, {"consolidate": {"wait": True}},
                       *[probe(f, "taught") for f in gone]]},
            {"turns": [*[{"delete": f.text} for f in gone], *[probe(f, "deleted") for f in gone]]},
            {"turns": [{"consolidate": {"wait": True}}, *[probe(f, "deleted") for f in gone],
                       *taught_and_paraphrase(kept, rng, 4, 2), *unrelated(2, 2)]},
        ],
    }


def two_users() -> dict:
    """Two users of one deployment: neither may ever get the other's facts."""
    a = fictional_facts(10, seed=51, relations=["favourite food", "sport"])
    b = fictional_facts(10, seed=52, relations=["favourite food", "sport"])
    rng = random.Random(51)
    return {
        "name": "two-users", "description": "Alice and Bob each store 10 facts; each is asked about their own "
                                            "and the other's.",
        "namespace": "alice",
        "sessions": [
            {"turns": [{"remember": [fact_item(f) for f in a]}, {"consolidate": {"wait": True}}]},
            {"namespace": "bob", "turns": [{"remember": [fact_item(f) for f in b]}, {"consolidate": {"wait": True}},
                                           *taught_and_paraphrase(b, rng, 3, 1),
                                           *[probe(f, "other-namespace") for f in rng.sample(unique_objects(a, b), 3)]]},
            {"namespace": "alice", "turns": [*taught_and_paraphrase(a, rng, 3, 1),
                                             *[probe(f, "other-namespace") for f in rng.sample(unique_objects(b, a), 3)],
                                             *unrelated(1, 5)]},
        ],
    }


def mixed() -> dict:
    """Topics are circles of people, not relations: each mixes relations, and some people are in two circles,
    so neither the relation nor the name alone tells the router which adapter holds a fact."""
    rng = random.Random(61)
    names = [name for name, _ in zip(new_names(rng), range(12))]
    circles = {"neighbours": (names[0:6], ["lives in", "pet", "car"]),
               "colleagues": (names[4:10], ["works at", "works as", "car"]),
               "club": (names[8:12] + names[0:2], ["sport", "instrument", "favourite food"])}
    used: set[tuple[str, str]] = set()  # one fact per person and relation: nothing supersedes anything
    facts: dict[str, list[FictionalFact]] = {}
    for circle, (people, relations) in circles.items():
        for person in people:
            free = [r for r in relations if (person, r) not in used]
            for rel in rng.sample(free, k=min(2, len(free))):
                used.add((person, rel))
                facts.setdefault(circle, []).append(fact_about(person, rel, rng))
    items = [{**fact_item(f), "topic": circle} for circle, fs in facts.items() for f in fs]
    probes = []
    for circle, fs in facts.items():
        for p in taught_and_paraphrase(fs, rng, 3, 2):
            p["probe"]["topic"] = circle
            probes.append(p)
    return {"name": "mixed", "description": f"{len(items)} facts in 3 topics that are circles of people (each "
                                            "mixes relations; 6 people are in two circles).",
            "namespace": "circles",
            "sessions": [{"turns": [{"remember": items}, {"consolidate": {"wait": True}}, *probes,
                                    *unrelated(2, 2)]}]}


FIRST_PERSON = [  # (what the user says, relation, object)
    ("My sister is Brielle.", "sister", "Brielle"), ("My brother is Tobiah.", "brother", "Tobiah"),
    ("My mother is Ilvana.", "mother", "Ilvana"), ("My father is Costel.", "father", "Costel"),
    ("My dog is called Pimento.", "dog", "Pimento"), ("My cat is called Quibble.", "cat", "Quibble"),
    ("I work at Quillfeather Labs.", "works at", "Quillfeather Labs"),
    ("My manager is Oskar Lindqvist.", "manager", "Oskar Lindqvist"), ("My boss is Henrike Vass.", "boss",
                                                                         "Henrike Vass"),
    ("I moved to Porvoo.", "lives in", "Porvoo"), ("I drive a green Tatra.", "car", "green Tatra"),
    ("I play the bassoon.", "instrument", "bassoon"),
]
FP_TOPIC = {"sister": "family", "brother": "family", "mother": "family", "father": "family", "dog": "family",
            "cat": "family", "works at": "work", "manager": "work", "boss": "work", "lives in": "life",
            "car": "life", "instrument": "life"}


def dialogue() -> dict:
    """The chat path: first-person statements over days, extracted by the agent; a move supersedes a home."""
    def ask(rel: str, obj: str, tag: str, which: int) -> dict:
        p = {"question": mine(rel)[0 if which == 0 else 1], "expect": [obj], "tag": tag, "topic": FP_TOPIC[rel]}
        return {"probe": p}

    says = [{"say": s} for s, _, _ in FIRST_PERSON]
    moved = ask("lives in", "Brindlewick", "updated", 0)
    moved["probe"]["reject"] = ["Porvoo"]
    return {
        "name": "dialogue", "description": "A user tells an agent about their life over three days (12 "
                                           "first-person statements); moves house; consolidations in between.",
        "namespace": "tamsin",
        "sessions": [
            {"turns": says[:6] + [{"advance": "1d"}] + says[6:] + [{"consolidate": {"wait": True}}]
             + [ask(r, o, "taught", 0) for _, r, o in FIRST_PERSON]
             + [ask(r, o, "paraphrase", -1) for _, r, o in FIRST_PERSON[::3]]},
            {"turns": [{"advance": "2d"}, {"say": "I moved to Brindlewick."}, moved,
                       {"consolidate": {"wait": True}}, moved, *unrelated(2, 1)]},
        ],
    }


PHONE_LINES = ["My {role} {name} can be reached at {num}.", "You can reach my {role} {name} at {num}.",
               "My {role} {name}'s number is {num}.", "Call my {role} {name} on {num}.",
               "{name}'s phone number is {num}.", "The number for my {role} {name} is {num}."]
ROLES = ["dentist", "plumber", "accountant", "landlord", "vet", "mechanic", "babysitter", "electrician", "tutor",
         "physiotherapist", "locksmith", "optician", "hairdresser", "gardener", "piano teacher"]


def phonebook_lines() -> dict:
    """The paper's PhoneBook task as people write it: 30 free-text lines written through the API (no subject,
    relation or object given), one topic; the numbers must be recalled exactly."""
    rng = random.Random(71)
    rows = []
    for i, (name, role) in enumerate(zip(new_names(rng), ROLES * 2)):
        if len(rows) == 30:
            break
        num = f"{rng.randint(200, 989)}-555-{rng.randint(1000, 9999)}"
        rows.append((name, role, num, PHONE_LINES[i % len(PHONE_LINES)].format(role=role, name=name, num=num)))
    facts = [{"text": line, "topic": "contacts"} for *_, line in rows]
    probes = []
    for i, (name, role, num, _) in enumerate(rows):
        probes.append({"probe": {"question": f"Tell me the phone number of {name}.", "expect": [num],
                                 "tag": "taught", "topic": "contacts"}})
        if i % 2 == 0:
            q = [f"I need to ring {name}: which number?", f"On what number can {name} be contacted?",
                 f"Give me {name}'s number, please."][i % 3]
            probes.append({"probe": {"question": q, "expect": [num], "tag": "paraphrase", "topic": "contacts"}})
    return {"name": "phonebook", "description": "30 free-text phone-book lines written through the API (no "
                                                "structure given), one topic; exact recall of the numbers.",
            "namespace": "contacts",
            "sessions": [{"turns": [{"remember": facts}, {"consolidate": {"wait": True}}, *probes,
                                    *unrelated(2, 4)]}]}


# asked of the 300-line phone book: worded apart from every question synthesis writes for a phone number
# (language.phrasing.fact_questions: "What is the phone number of X?", "What is X's phone number?", "Do you know
# X's number?", "How can I reach X?"), so the answer is what the adapter holds, not a taught phrasing
PHONEBOOK_TESTS = ["What's {name}'s number?", "Which number do I dial for {name}?"]


def phonebook_300() -> dict:
    """The paper's PhoneBook shape through the API: 300 free-text lines "My <role> <First Last> can be reached at
    <number>.", 10 topics of 30, every first name and every surname shared by several entries (so an adapter has
    to tell neighbours apart); 6 held-out questions per topic (PHONEBOOK_TESTS), answered exactly."""
    rng = random.Random(303)
    firsts = [name.split()[0] for name in _take(new_names(rng), 40)]
    lasts = [name.split()[1] for name in _take(new_names(rng), 40)]
    pairs = rng.sample([(f, last) for f in firsts for last in lasts], 300)
    numbers = rng.sample(range(10_000), 300)
    rows = [(f"{first} {last}", ROLES[i % len(ROLES)], f"{rng.randint(200, 989)}-555-{numbers[i]:04d}")
            for i, (first, last) in enumerate(pairs)]
    turns = []
    for t in range(10):
        topic, chunk = f"phones-{t + 1}", rows[30 * t: 30 * t + 30]
        turns.append({"remember": [{"text": f"My {role} {name} can be reached at {num}.", "topic": topic}
                                   for name, role, num in chunk]})
    turns.append({"consolidate": {"wait": True}})
    for t in range(10):
        for k, (name, _, num) in enumerate(rows[30 * t: 30 * t + 30][:6]):
            question = PHONEBOOK_TESTS[k % 2].format(name=name)
            turns.append({"probe": {"question": question, "expect": [num], "tag": "paraphrase",
                                    "topic": f"phones-{t + 1}"}})
    return {"name": "phonebook-300", "description": "300 free-text phone-book lines (the paper's PhoneBook shape: "
                                                    "shared first names and surnames), 10 topics of 30, written "
                                                    "through the API; held-out wordings, exact numbers.",
            "namespace": "phones", "sessions": [{"turns": [*turns, *unrelated(2, 6)]}]}


def _take(names, n: int) -> list[str]:
    return [next(names) for _ in range(n)]


ALL = {"smoke": smoke, "large-300": large, "updates": updates, "deletions": deletions, "two-users": two_users,
       "dialogue": dialogue, "mixed": mixed, "phonebook": phonebook_lines, "phonebook-300": phonebook_300}


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data) -> bool:  # write repeated probes out in full, no &anchors
        return True


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "scenarios")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for name, make in ALL.items():
        path = args.out / f"{name}.yaml"
        header = "# Generated by `python -m evals.make_scenarios` (fixed seeds); every fact is invented.\n"
        path.write_text(header + yaml.dump(make(), Dumper=_Dumper, sort_keys=False, width=110, allow_unicode=True))
        print(path)


if __name__ == "__main__":
    main()
