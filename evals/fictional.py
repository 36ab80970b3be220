"""Fictional facts for demos, tests, benchmarks and evaluations: invented names, so no model knows them."""

from __future__ import annotations

import random
from dataclasses import dataclass

from language.templates import RELATIONS

_ONSETS = ["br", "k", "m", "t", "v", "s", "d", "l", "n", "r", "z", "qu", "th", "g", "p", "f", "h", "j"]
_VOWELS = ["a", "e", "i", "o", "u", "ae", "io", "ou"]
_CODAS = ["", "n", "r", "l", "s", "th", "nd", "x", "m"]

# the default mix of benchmarks (kept fixed so their recorded results stay comparable)
CORE_RELATIONS = ["lives in", "works as", "pet", "favourite food", "instrument"]
_OBJECTS = {
    "lives in": ["Varkaus", "Porvoo", "Tromsdal", "Quillmere", "Ostrava", "Kelmscott", "Brindlewick", "Saltmarsh",
                 "Dunhollow", "Fennick", "Marrowgate", "Thistlebury", "Corrandal", "Wexmoor", "Ashpool"],
    "works as": ["glassblower", "tide-gauge engineer", "beekeeper", "cartographer", "luthier", "falconer",
                 "typesetter", "cooper", "lamplighter", "bookbinder", "chandler", "farrier"],
    "pet": ["Pimento", "Biscuit", "Ziggy", "Marmalade", "Pickle", "Noodle", "Tofu", "Waffles", "Sprocket",
            "Juniper", "Clementine", "Mochi"],
    "favourite food": ["pickled herring", "plum dumplings", "barley soup", "smoked trout", "fig tart",
                       "beetroot salad", "lentil stew", "rye porridge", "apricot cake", "chestnut bread"],
    "instrument": ["cello", "accordion", "bassoon", "harp", "oboe", "banjo", "viola", "tuba", "sitar",
                   "clarinet", "dulcimer"],
    "works at": ["Quillfeather Labs", "Brassmoor Mills", "Okkerby Freight", "Tallowick Press", "Veshna Dynamics",
                 "Corvel & Sons", "Mirrowdale Bank", "Hexley Foundry", "Saltbridge Clinic", "Pendric Studios"],
    "sport": ["curling", "fencing", "rowing", "bandy", "korfball", "orienteering", "hurling", "squash",
              "water polo", "archery"],
    "car": ["green Tatra", "blue Trabant", "red Zastava", "grey Wartburg", "white Moskvitch", "black Dacia",
            "yellow Skoda", "orange Lada", "silver Saab", "brown Volga"],
}


@dataclass(frozen=True)
class FictionalFact:
    subject: str
    relation: str
    object: str
    text: str
    questions: tuple[str, ...]  # taught phrasings, then one held-out paraphrase last


def invented_name(rng: random.Random) -> str:
    def word(parts: int) -> str:
        return "".join(rng.choice(_ONSETS) + rng.choice(_VOWELS) + rng.choice(_CODAS) for _ in range(parts))

    return f"{word(2).capitalize()} {word(2).capitalize()}"


def phone_number(rng: random.Random) -> str:
    return f"{rng.randint(200, 989)}-{rng.randint(200, 989)}-{rng.randint(1000, 9999)}"


def new_names(rng: random.Random):
    """Invented names, never the same twice (drawn lazily, so other draws from `rng` interleave)."""
    seen: set[str] = set()
    while True:
        name = invented_name(rng)
        if name not in seen:
            seen.add(name)
            yield name


def phonebook(n: int, seed: int = 0) -> list[FictionalFact]:
    """The paper's PhoneBook task: invented name -> XXX-XXX-XXXX, exact recall of the number."""
    rng = random.Random(seed)
    out: list[FictionalFact] = []
    for name in new_names(rng):
        if len(out) == n:
            break
        num = phone_number(rng)
        out.append(FictionalFact(name, "phone number", num, f"{name}'s phone number is {num}.",
                                 (f"What is {name}'s phone number?", f"What is the phone number of {name}?",
                                  f"Which number do I call to reach {name}?")))
    return out


def fact_about(subject: str, relation: str, rng: random.Random) -> FictionalFact:
    """One invented fact: an object drawn for the relation, stated with its template."""
    obj = rng.choice(_OBJECTS[relation])
    statement, questions = RELATIONS[relation]
    return FictionalFact(subject, relation, obj, statement.format(s=subject, o=obj),
                         tuple(q.format(s=subject) for q in questions))


def fictional_facts(n: int, seed: int = 0, relations: list[str] | None = None) -> list[FictionalFact]:
    """n facts about invented people, one relation per (person, relation) pair, so none supersedes another."""
    rng = random.Random(seed)
    relations = relations or CORE_RELATIONS
    out: list[FictionalFact] = []
    for name in new_names(rng):
        if len(out) == n:
            break
        for rel in rng.sample(relations, k=min(len(relations), 2)):
            if len(out) == n:
                break
            out.append(fact_about(name, rel, rng))
    return out
