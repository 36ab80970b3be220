"""The recall gate: a version is published only if it recalls what it was taught.

- taught questions: recall >= 95%; validation questions (held out of training, but the trainer may stop on
  them, so this is validation recall, not a test figure): >= 85%, or a single miss (a small topic's few
  validation questions cannot show more with one)
- a probe of 103 general questions the base model answers right (consolidation/probe.py): the rule is that an
  adapter may not lose more of them than sampling noise explains at a tolerated loss rate of 2%
  (`regression_allowance`). Every version records its losses and whether it meets the rule; the rule blocks a
  publish only with `probe_enforced`, off by default because no adapter of the default recipe meets it yet
  (bench/results/probe-reject.json: adapters lose about 40-50% of these answers when applied to them).

Recall on a question means the greedy answer states the expected object and no other candidate
(language.matching). Teacher forcing decides most cases
cheaply: when every answer token is the argmax, greedy decoding reproduces the answer, so only the questions
that fail it are generated.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

from .model import generate
from .probe import PROBE  # noqa: F401  (the gate's probe: general questions the base model answers right)
from .synth import QA, answer_ok

# Unrelated questions (none in PROBE) trained on with the base model's own answers: rehearsal keeps a small
# adapter from answering everything with one of its facts.
REPLAY: list[str] = [
    "What is the boiling point of water?", "Who wrote Romeo and Juliet?", "What is the capital of Italy?",
    "How many legs does a spider have?", "What gas do plants take in?", "What is 2 plus 2?",
    "What is the tallest animal?", "Hello, how are you?", "What language is spoken in Spain?",
    "What is the largest ocean?", "Name a primary colour.", "What do cows drink?",
    "What is the capital of Portugal?", "What is the capital of Argentina?", "What is the capital of Turkey?",
    "What colour is the sky on a clear day?", "What do bees make?", "How many wheels does a bicycle have?",
    "What is the freezing point of water?", "What is 3 times 4?", "What season comes after winter?",
    "What do you call a young cat?", "Which animal is known as the king of the jungle?",
    "What shape has no corners?", "Where do penguins live?", "What do caterpillars turn into?",
    "What is the largest planet in our solar system?", "What is the color of a ripe banana?",
    "How many minutes are there in an hour?", "What do we call frozen water?",
    "Tell me a fun fact about octopuses.", "Give me a tip for sleeping better.", "Write one sentence about the ocean.",
    "What should I eat for breakfast?", "Can you recommend a good book?", "Thank you for your help!",
    "Good morning!", "What is your name?", "How do I make a cup of tea?", "Why is exercise good for you?",
    "What is a synonym for happy?", "Translate 'thank you' into Spanish.", "Explain what a noun is.",
    "What is the weather usually like in summer?",
]


# Notes about invented people and places, each with a question the note answers: rehearsed with notes in the
# prompt (two other notes beside the one that answers), answered as the base model reads them, so an adapter
# keeps the base model's reading of notes (rag, hybrid) and does not answer every noted question from weights.
READING: list[tuple[str, str]] = [
    ("Bram Ostley keeps three goats on his farm near Wickmere.", "How many goats does Bram keep?"),
    ("The Tallow Street bakery opens at seven in the morning.", "When does the Tallow Street bakery open?"),
    ("Sunniva's brother Kell works as a welder in Harlow Bay.", "What does Kell do for a living?"),
    ("The Marrowby Cup final is played every June.", "When is the Marrowby Cup final played?"),
    ("Pim's favourite colour is teal.", "What is Pim's favourite colour?"),
    ("Dagny moved to Lorne Harbour in 2021.", "Where did Dagny move?"),
    ("The boat at mooring nine is called the Wren's Wake.", "What is the boat at mooring nine called?"),
    ("Corvin teaches chemistry at Ashgrove School.", "Which subject does Corvin teach?"),
    ("Elsie's cat Biscuit is twelve years old.", "How old is Elsie's cat?"),
    ("The Feldmark choir rehearses on Thursday evenings.", "When does the Feldmark choir rehearse?"),
    ("Ottilie's landlord is a man called Garrick Pell.", "Who is Ottilie's landlord?"),
    ("The ferry to Skellan Island leaves from Pier Four.", "Where does the Skellan Island ferry leave from?"),
    ("Ludo drives a green van with a ladder on the roof.", "What does Ludo drive?"),
    ("Maelis was born in the village of Corrow.", "Where was Maelis born?"),
    ("The Quarry Lane library closes at six on Saturdays.",
     "What time does the Quarry Lane library close on Saturdays?"),
    ("Tobin is allergic to walnuts.", "What is Tobin allergic to?"),
    ("Ysolde plays the oboe in a wind quintet.", "Which instrument does Ysolde play?"),
    ("Harald's daughter is named Runa.", "What is Harald's daughter called?"),
    ("The Dunlin Cafe sells rhubarb tarts on Fridays.", "What does the Dunlin Cafe sell on Fridays?"),
    ("Wilhelmina's phone number is 555-0182.", "What is Wilhelmina's phone number?"),
    ("Arno has run the Pellam marathon six times.", "How many times has Arno run the Pellam marathon?"),
    ("Greta's manager at Solvay Print is Jonas Ebb.", "Who is Greta's manager?"),
    ("The Lindqvist family spends every August in Norrvik.", "Where do the Lindqvists spend August?"),
    ("Fenna keeps her bicycle in the shed behind the church.", "Where does Fenna keep her bicycle?"),
]


def reading_items(n: int) -> list[tuple[str, str]]:
    """(notes, question) for the first `n` READING questions: its note among two others, in a fixed order."""
    m = len(READING)
    out = []
    for i in range(min(n, m)):
        picked = [READING[(i + 7) % m][0], READING[(i + 13) % m][0]]
        picked.insert(i % 3, READING[i][0])
        out.append(("\n".join(picked), READING[i][1]))
    return out


@dataclass
class GateThresholds:
    taught: float = 0.95
    validation: float = 0.85
    # The regression rule: an adapter whose true rate of breaking what the base model knew is `probe_tolerance`
    # is rejected at most 1 - `probe_confidence` of the time; one that loses more probe answers is rejected.
    probe_tolerance: float = 0.02
    probe_confidence: float = 0.95
    probe_enforced: bool = False  # True: a version that breaks the rule is rejected


def regression_allowance(n: int, tolerance: float, confidence: float = 0.95) -> int:
    """Most probe answers (of `n` the base model gets right) an adapter may lose: the one-sided `confidence`
    quantile of Binomial(n, tolerance), i.e. the losses that sampling noise alone explains at that rate."""
    if tolerance >= 1:
        return n
    cumulative = 0.0
    for k in range(n + 1):
        cumulative += math.comb(n, k) * tolerance ** k * (1 - tolerance) ** (n - k)
        if cumulative >= confidence:
            return k
    return n


@dataclass
class GateResult:
    taught: float
    validation: float
    probe_base: int  # probe questions the base model answers right
    probe_adapter: int  # ... of which the adapter answers right
    probe_total: int
    passed: bool
    probe_allowed_losses: int = 0
    regression_ok: bool = True  # the probe losses are within the allowance (whether or not that is enforced)
    reasons: list[str] = field(default_factory=list)
    failed_facts: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def probe_ok(answer: str, expected: str) -> bool:
    return any(answer_ok(answer, e) for e in expected.split("|"))


def decide(taught_ok: list[bool], valid_ok: list[bool], probe_base: list[bool], probe_adapter: list[bool],
           th: GateThresholds, failed_facts: list[str] | None = None) -> GateResult:
    """Pure arithmetic of the gate. Probe losses: questions the base model answers right and the adapter not."""
    rate = lambda xs: sum(xs) / len(xs) if xs else 1.0  # noqa: E731
    t, v = rate(taught_ok), rate(valid_ok)
    b = sum(probe_base)
    a = sum(x and y for x, y in zip(probe_base, probe_adapter))
    allowed = regression_allowance(b, th.probe_tolerance, th.probe_confidence)
    reasons = []
    if t < th.taught:
        reasons.append(f"taught recall {t:.3f} < {th.taught}")
    if v < th.validation and not (th.validation < 1 and valid_ok.count(False) <= 1):
        # one miss alone rejects nothing short of a perfect bar: in a small topic's few validation questions
        # (four for eight facts) one miss is 75%, which says little about its recall, and rejecting the
        # version takes every fact it holds out of the weights
        reasons.append(f"validation recall {v:.3f} < {th.validation} ({valid_ok.count(False)} missed)")
    regression_ok = b - a <= allowed
    if not regression_ok and th.probe_enforced:
        reasons.append(f"probe regression: lost {b - a} of the {b} probe answers the base model gets right "
                       f"(at most {allowed} allowed)")
    return GateResult(t, v, b, a, len(probe_adapter), passed=not reasons, probe_allowed_losses=allowed,
                      regression_ok=regression_ok, reasons=reasons, failed_facts=failed_facts or [])


def recall_checked(model, tok, qas: list[QA], tf_ok: list[bool]) -> list[bool]:
    """Greedy recall per question: teacher-forced exact answers pass; the rest are generated and checked."""
    todo = [i for i, ok in enumerate(tf_ok) if not ok]
    result = list(tf_ok)
    if todo:
        answers = generate(model, tok, [qas[i].question for i in todo])
        for i, a in zip(todo, answers):
            result[i] = answer_ok(a, qas[i].expected, qas[i].others)
    return result
