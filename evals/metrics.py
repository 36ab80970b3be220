"""Metrics over probe results: accuracy per scenario × mode × tag, latency, prompt tokens, routing accuracy,
accuracy against dialogue length, and the issue's target checks. Pure functions on ProbeResult lists."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, replace

from memory_service.settings import MODES

from .scenario import TAGS
from .scoring import LEAK_TAGS

MODE_ORDER = MODES
ROUTING_MODES = frozenset({"lora", "hybrid"})  # the modes that pick adapters by topic
RECALL_TAGS = ("taught", "paraphrase", "updated")  # what the memory should answer; pooled for mode comparisons
ALL = "ALL"  # results pooled over every scenario (scenario names are lower case, so no clash)


@dataclass
class ProbeResult:
    """One probe answered in one mode: what the runner records and everything here reads."""

    scenario: str
    mode: str  # none | rag | lora | hybrid | full
    session: int  # 0-based session and turn index in the scenario file
    turn: int
    tag: str  # one of scenario.TAGS
    question: str
    expect: list[str]
    answer: str
    correct: bool  # the probe passed (scoring.score): for deleted/other-namespace, nothing forbidden was said
    answered: bool  # an expected answer or alias appears (for deleted/other-namespace: a leak)
    latency_ms: float | None  # the whole agent turn
    prompt_tokens: int | None  # tokens in front of the answer (facts in the prompt show here); None: unknown
    expected_topic: str | None  # the probe's `topic`, for routing accuracy
    routed_topics: list[str] = field(default_factory=list)  # best first; empty when the mode does not route
    facts_so_far: int = 0  # dialogue length before the probe, in statements (say turns + remembered facts)
    namespace: str = ""
    category: int | None = None  # LoCoMo question category, when the probe has one
    f1: float | None = None  # LoCoMo's token F1 of the answer (evals.locomo_f1), for probes with a category
    judged: bool | None = None  # the LLM judge's label (evals.judge), when a judge was set; None: not judged
    asked_as: str | None = None  # the taught question an adapter was asked in its place (agent.nodes.ask_as_taught)
    source: str | None = None  # what gave the answer (agent.nodes.SOURCES): lookup, weights, weights-taught, ...
    echoes: str | None = None  # a question an adapter of the namespace was taught that the probe echoes (evals.disjoint)


@dataclass(frozen=True)
class CategorySummary:
    """LoCoMo's own score: mean token F1 per question category, next to the strict span match (`correct`)."""

    scenario: str
    mode: str
    category: int
    n: int
    f1: float
    span_match: float
    j: float | None = None  # share the LLM judge labelled CORRECT, over the judged probes; None: no judge
    judged_n: int = 0


@dataclass(frozen=True)
class TagSummary:
    scenario: str
    mode: str
    tag: str
    n: int
    metric: str  # "accuracy", or "answered" (the leak rate) for deleted/other-namespace
    value: float
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    mean_prompt_tokens: float | None
    routing_accuracy: float | None  # None when the mode does not route or no probe names a topic
    routed_n: int  # probes the routing accuracy is over


@dataclass(frozen=True)
class ModeSummary:
    scenario: str
    mode: str
    n: int
    recall_accuracy: float | None  # over RECALL_TAGS probes; None without any
    recall_n: int
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    mean_prompt_tokens: float | None
    routing_accuracy: float | None
    routed_n: int
    asked_as_n: int = 0  # recall probes an adapter was asked as a taught question (agent.nodes.ask_as_taught)
    asked_as_right: int = 0  # ... of which answered right
    # recall probes answered right, by what gave the answer (agent.nodes.SOURCES): how much of a mode's figure
    # the weights earned asked as worded ("weights"), and how much the lookup earned with no model ("lookup")
    right_by_source: dict[str, int] = field(default_factory=dict)

    @property
    def weights_as_asked(self) -> float | None:
        """Recall from an adapter asked the user's question as worded, no notes: what the weights hold."""
        return self.right_by_source.get("weights", 0) / self.recall_n if self.recall_n else None


@dataclass(frozen=True)
class LengthPoint:
    mode: str
    low: int  # bucket (low, high] of facts_so_far; the first bucket includes 0
    high: int
    n: int
    accuracy: float  # over RECALL_TAGS probes


@dataclass(frozen=True)
class Check:
    scenario: str
    name: str  # e.g. "lora taught accuracy >= 95%"
    value: float
    target: float
    passed: bool
    detail: str = ""
    informative: bool = True  # False: the check cannot fail here (reported, never counted as passed)


# --- arithmetic ------------------------------------------------------------------------------------------------


def percentile(values: Iterable[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default); None for no values."""
    xs = sorted(values)
    if not xs:
        return None
    rank = (len(xs) - 1) * q / 100
    lo, hi = math.floor(rank), math.ceil(rank)
    return xs[lo] + (xs[hi] - xs[lo]) * (rank - lo)


def _mean(values: Iterable[float]) -> float | None:
    xs = list(values)
    return sum(xs) / len(xs) if xs else None


def _routing(results: list[ProbeResult]) -> tuple[float | None, int]:
    """Share of probes whose top-1 routed topic is the expected one, over probes that name a topic."""
    scored = [r for r in results if r.mode in ROUTING_MODES and r.expected_topic]
    hits = sum(bool(r.routed_topics) and r.routed_topics[0] == r.expected_topic for r in scored)
    return (hits / len(scored) if scored else None), len(scored)


def _order(key: str, order: tuple[str, ...]) -> tuple[int, str]:
    return (order.index(key) if key in order else len(order), key)


def _group(results: Iterable[ProbeResult], key: Callable[[ProbeResult], tuple]) -> dict[tuple, list[ProbeResult]]:
    groups: dict[tuple, list[ProbeResult]] = defaultdict(list)
    for r in results:
        groups[key(r)].append(r)
    return groups


def pooled(results: list[ProbeResult]) -> list[ProbeResult]:
    """The same results as one scenario named ALL, for an overall table."""
    return [replace(r, scenario=ALL) for r in results]


# --- summaries -------------------------------------------------------------------------------------------------


def summarize_tags(results: list[ProbeResult]) -> list[TagSummary]:
    rows = []
    for (scenario, mode, tag), group in _group(results, lambda r: (r.scenario, r.mode, r.tag)).items():
        leak = tag in LEAK_TAGS
        value = _mean(r.answered if leak else r.correct for r in group)
        latencies = [r.latency_ms for r in group if r.latency_ms is not None]
        routing, routed_n = _routing(group)
        rows.append(TagSummary(
            scenario, mode, tag, len(group), "answered" if leak else "accuracy", value,
            percentile(latencies, 50), percentile(latencies, 95),
            _mean(r.prompt_tokens for r in group if r.prompt_tokens is not None), routing, routed_n,
        ))
    return sorted(rows, key=lambda s: (s.scenario, _order(s.mode, MODE_ORDER), _order(s.tag, TAGS)))


def summarize_categories(results: list[ProbeResult]) -> list[CategorySummary]:
    scored = [r for r in results if r.category is not None and r.f1 is not None]
    rows = [CategorySummary(sc, mode, cat, len(g), _mean(r.f1 for r in g), _mean(r.correct for r in g),
                            _mean(r.judged for r in g if r.judged is not None),
                            sum(r.judged is not None for r in g))
            for (sc, mode, cat), g in _group(scored, lambda r: (r.scenario, r.mode, r.category)).items()]
    return sorted(rows, key=lambda s: (s.scenario, _order(s.mode, MODE_ORDER), s.category))


def summarize_modes(results: list[ProbeResult]) -> list[ModeSummary]:
    rows = []
    for (scenario, mode), group in _group(results, lambda r: (r.scenario, r.mode)).items():
        recall = [r for r in group if r.tag in RECALL_TAGS]
        latencies = [r.latency_ms for r in group if r.latency_ms is not None]
        routing, routed_n = _routing(group)
        rows.append(ModeSummary(
            scenario, mode, len(group), _mean(r.correct for r in recall), len(recall),
            percentile(latencies, 50), percentile(latencies, 95),
            _mean(r.prompt_tokens for r in group if r.prompt_tokens is not None), routing, routed_n,
            sum(bool(r.asked_as) for r in recall), sum(bool(r.asked_as) and r.correct for r in recall),
            dict(Counter(r.source or "none" for r in recall if r.correct)),
        ))
    return sorted(rows, key=lambda s: (s.scenario, _order(s.mode, MODE_ORDER)))


def length_edges(max_facts: int) -> list[int]:
    """Bucket edges 0, 10, 20, 50, 100, 200, 500, ... up to the first edge >= max_facts."""
    edges, scale = [0], 1
    while edges[-1] < max_facts:
        for step in (10, 20, 50):
            if edges[-1] < max_facts:
                edges.append(step * scale)
        scale *= 10
    return edges if len(edges) > 1 else [0, 10]


def accuracy_by_length(results: list[ProbeResult], edges: list[int] | None = None) -> list[LengthPoint]:
    """Recall accuracy per mode in buckets of facts_so_far: (0, e1], (e1, e2], ... with 0 in the first."""
    recall = [r for r in results if r.tag in RECALL_TAGS]
    if not recall:
        return []
    edges = edges or length_edges(max(r.facts_so_far for r in recall))

    def bucket(facts: int) -> tuple[int, int]:
        for low, high in zip(edges, edges[1:]):
            if facts <= high:
                return low, high
        return edges[-1], max(facts, edges[-1])  # past the last edge: one open bucket

    points = []
    for (mode, low, high), group in _group(recall, lambda r: (r.mode, *bucket(r.facts_so_far))).items():
        points.append(LengthPoint(mode, low, high, len(group), _mean(r.correct for r in group)))
    return sorted(points, key=lambda p: (_order(p.mode, MODE_ORDER), p.low))


# --- the targets ---------------------------------------------------------------------------------------

# on evaluation questions worded apart from training and validation (evals/questions.py), scored strictly
LORA_TARGETS = {"taught": 0.90, "paraphrase": 0.80}
UNRELATED_MARGIN = 0.02  # unrelated accuracy may fall at most 2 points below mode none's
_EPS = 1e-9  # float noise: 0.95 computed as 19/20 must pass ">= 0.95"


def target_checks(results: list[ProbeResult]) -> list[Check]:
    """The targets, per scenario, for whatever the results contain (a check without its data is left out)."""
    tags = {(s.scenario, s.mode, s.tag): s for s in summarize_tags(results)}
    modes = {(s.scenario, s.mode): s for s in summarize_modes(results)}
    checks = []
    for scenario in sorted({r.scenario for r in results}):
        for tag, target in LORA_TARGETS.items():
            if s := tags.get((scenario, "lora", tag)):
                checks.append(Check(scenario, f"lora {tag} accuracy >= {target:.0%}", s.value, target,
                                    s.value >= target - _EPS, f"n={s.n}"))
        hybrid = modes.get((scenario, "hybrid"))
        others = [modes[(scenario, m)] for m in ("rag", "lora") if (scenario, m) in modes]
        others = [o for o in others if o.recall_accuracy is not None]
        if hybrid and hybrid.recall_accuracy is not None and others:
            best = max(others, key=lambda o: o.recall_accuracy)
            checks.append(Check(scenario, "hybrid recall >= max(rag, lora)", hybrid.recall_accuracy,
                                best.recall_accuracy, hybrid.recall_accuracy >= best.recall_accuracy - _EPS,
                                f"best of the two: {best.mode}"))
        for mode in sorted({m for (sc, m) in modes if sc == scenario}, key=lambda m: _order(m, MODE_ORDER)):
            for tag in sorted(LEAK_TAGS):
                if s := tags.get((scenario, mode, tag)):
                    # the base model alone cannot say an invented value it was never given: cannot fail
                    checks.append(Check(scenario, f"{mode} {tag} answered = 0%", s.value, 0.0,
                                        s.value <= _EPS, f"n={s.n}" if mode != "none" else
                                        f"n={s.n}; not informative: mode none has no memory to leak",
                                        informative=mode != "none"))
            base = tags.get((scenario, "none", "unrelated"))
            if mode != "none" and base and (s := tags.get((scenario, mode, "unrelated"))):
                floor = base.value - UNRELATED_MARGIN
                checks.append(Check(scenario, f"{mode} unrelated >= none - 2 points", s.value, floor,
                                    s.value >= floor - _EPS, f"none: {base.value:.1%}, n={s.n}"))
    return checks


@dataclass(frozen=True)
class Summary:
    tags: list[TagSummary]
    modes: list[ModeSummary]
    by_length: list[LengthPoint]
    checks: list[Check]
    categories: list[CategorySummary] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {name: [asdict(x) for x in getattr(self, name)]
                for name in ("tags", "modes", "by_length", "checks", "categories")}


def summarize(results: list[ProbeResult]) -> Summary:
    """Everything the report shows. With several scenarios the tables also get an ALL scenario; the checks stay
    per scenario (the hybrid target is "on every scenario")."""
    table = results + pooled(results) if len({r.scenario for r in results}) > 1 else results
    return Summary(summarize_tags(table), summarize_modes(table), accuracy_by_length(results),
                   target_checks(results), summarize_categories(table))
