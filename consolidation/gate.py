"""The recall gate: a version is published only if it recalls what it was taught.

- taught questions: recall >= 95%; paraphrases held out of training: >= 85%
- a fixed probe of unrelated questions: no more wrong answers than the base model (no collateral damage)

Recall on a question means the greedy answer contains the expected object. Teacher forcing decides most cases
cheaply: when every answer token is the argmax, greedy decoding reproduces the answer, so only the questions
that fail it are generated.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


from .model import generate
from .synth import QA, answer_ok

# General questions the packaged base model answers correctly (checked by tests/consolidation/test_gate_probe).
PROBE: list[tuple[str, str]] = [
    ("What is the capital of France?", "Paris"),
    ("What is the capital of Japan?", "Tokyo"),
    ("What color is the sky on a clear day?", "blue"),
    ("How many days are there in a week?", "seven|7"),
    ("What is the largest planet in our solar system?", "Jupiter"),
    ("What do bees make?", "honey"),
    ("What is the opposite of hot?", "cold"),
    ("Which animal is known as the king of the jungle?", "lion"),
]


# Unrelated questions (none in PROBE) trained on with the base model's own answers: rehearsal keeps a small
# adapter from answering everything with one of its facts.
REPLAY: list[str] = [
    "What is the boiling point of water?", "Who wrote Romeo and Juliet?", "What is the capital of Italy?",
    "How many legs does a spider have?", "What gas do plants take in?", "What is 2 plus 2?",
    "What is the tallest animal?", "Hello, how are you?", "What language is spoken in Spain?",
    "What is the largest ocean?", "Name a primary colour.", "What do cows drink?",
]


@dataclass
class GateThresholds:
    taught: float = 0.95
    paraphrase: float = 0.85
    # One of the eight probe answers may flip: a 135M model's answers to them are themselves noisy.
    probe_slack: int = 1


@dataclass
class GateResult:
    taught: float
    paraphrase: float
    probe_base: int
    probe_adapter: int
    probe_total: int
    passed: bool
    reasons: list[str] = field(default_factory=list)
    failed_facts: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def probe_ok(answer: str, expected: str) -> bool:
    return any(answer_ok(answer, e) for e in expected.split("|"))


def decide(taught_ok: list[bool], para_ok: list[bool], probe_base: list[bool], probe_adapter: list[bool],
           th: GateThresholds, failed_facts: list[str] | None = None) -> GateResult:
    """Pure arithmetic of the gate."""
    rate = lambda xs: sum(xs) / len(xs) if xs else 1.0  # noqa: E731
    t, p = rate(taught_ok), rate(para_ok)
    b, a = sum(probe_base), sum(probe_adapter)
    reasons = []
    if t < th.taught:
        reasons.append(f"taught recall {t:.3f} < {th.taught}")
    if p < th.paraphrase:
        reasons.append(f"paraphrase recall {p:.3f} < {th.paraphrase}")
    if a < b - th.probe_slack:
        reasons.append(f"probe regression: {a}/{len(probe_adapter)} right vs base {b}/{len(probe_base)}")
    return GateResult(t, p, b, a, len(probe_adapter), not reasons, reasons, failed_facts or [])


def recall_checked(model, tok, qas: list[QA], tf_ok: list[bool]) -> list[bool]:
    """Greedy recall per question: teacher-forced exact answers pass; the rest are generated and checked."""
    todo = [i for i, ok in enumerate(tf_ok) if not ok]
    result = list(tf_ok)
    if todo:
        answers = generate(model, tok, [qas[i].question for i in todo])
        for i, a in zip(todo, answers):
            result[i] = answer_ok(a, qas[i].expected)
    return result
