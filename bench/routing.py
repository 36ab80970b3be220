"""How often the router picks the topic that holds a probe's answer: the scenario's statements are played into a
fresh store (the agent's intake, no training), each topic's routing texts are embedded as the router embeds an
adapter's (its facts and taught questions), and every probe is routed at k=1 by

- centroid: cosine with the topic's mean vector (the router before c310971),
- nearest: mean cosine of the topic's three texts nearest the question (agent.router.topic_score, the router now),
- nearest-1: cosine of the single nearest text.

    python -m bench.routing [SCENARIO ...] --json [--out bench/results/routing.json]

It also measures hybrid's first way of reading the notes (agent.questions): `questions` is the share of related
probes whose nearest synthesized question (over the namespace's facts) is at least the minimum near, has an
answer of the kind asked for (language.answer_kinds.may_answer) and an expected answer for its answer
(scored as the evals score, without the namespace's rival values), and `question_score` the cosine of that nearest
question for related and unrelated probes (`ENGRAM_AGENT__QUESTION_MIN_SCORE` must stay above the unrelated ones).
`taught` is the same for the adapters' questions (agent.nodes.ask_as_taught): the share of related probes whose
nearest askable question (consolidation.synth.askable) of the topic routed first that may stand in for the probe
(agent.questions.nearest_fitting: at least the minimum near, its answer of the kind asked for) has an expected
answer for its answer that repeats no value the question names and the probe does not (language.answer_kinds.repeats),
i.e. what lora would answer if each adapter answered what it was taught.

The right topics of a probe are those with a fact that contains one of its expected answers (a fact read from a
statement first, else the statement). Unrelated probes (world knowledge) should route nowhere: the agent answers
a question that names nothing the namespace's facts name and does not speak of the user from the model alone
(language.answer_kinds.about_memory; `unrelated_world` counts those, `related_world` lists the related probes it would
lose), and `unrelated_routed` counts the others scoring at least the router's default minimum (0.35 for nearest;
0.25, the old default, for centroid). No model is trained or loaded: embedding and search only.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from agent.questions import QuestionBank, nearest_fitting, told  # noqa: E402
from agent.router import routing_texts, topic_score  # noqa: E402
from bench import runner  # noqa: E402
from consolidation.synth import askable, build_dataset  # noqa: E402
from evals.scenario import Probe, Remember, Say, Update, load_scenario  # noqa: E402
from evals.scoring import correct  # noqa: E402
from language.answer_kinds import about_memory, held_words, repeats  # noqa: E402
from memory_service.schemas import FactIn  # noqa: E402
from memory_service.service import MemoryService  # noqa: E402
from memory_service.settings import Settings  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = [ROOT / f"evals/scenarios/{name}.yaml" for name in ("natural", "phonebook", "mixed", "dialogue",
                                                                 "large-300")]
MIN_SCORE = {"centroid": 0.25, "nearest": 0.35, "nearest-1": 0.35}


def play(svc: MemoryService, scenario) -> list[tuple[str, Probe]]:
    """Write what the scenario says; return its probes with the namespace each is asked in."""
    probes = []
    for step in scenario.steps():
        turn, ns = step.action, f"bench-routing.{step.namespace}"
        if isinstance(turn, Say):
            svc.write_message(ns, turn.text, speaker=turn.speaker, addressee=turn.to)
        elif isinstance(turn, Update):
            svc.write_message(ns, turn.new)
        elif isinstance(turn, Remember):
            svc.write(ns, [FactIn(text=f.text, topic=f.topic, subject=f.subject, relation=f.relation,
                                  object=f.object) for f in turn.facts])
        elif isinstance(turn, Probe):
            probes.append((ns, turn))
    return probes


def right_topics(probe: Probe, facts) -> set[str]:
    if probe.topic:
        return {probe.topic}
    answers = [a.lower() for a in (*probe.expect, *probe.aliases)]
    holds = lambda f: any(a in f.text.lower() for a in answers)  # noqa: E731
    return {f.topic for f in facts if f.subject and holds(f)} or {f.topic for f in facts if holds(f)}


def measure(path: Path) -> dict:
    scenario = load_scenario(path)
    with tempfile.TemporaryDirectory(prefix="engram-routing-") as tmp:
        settings = Settings(data_dir=Path(tmp), redis={"key_prefix": f"engram-bench-{uuid.uuid4().hex[:10]}"})
        with MemoryService(settings) as svc:
            try:
                probes = play(svc, scenario)
                out = route_all(svc, probes)
            finally:
                for key in svc.heat.r.scan_iter(match=f"{settings.redis.key_prefix}:*", count=1000):
                    svc.heat.r.delete(key)
    return {"scenario": scenario.name, **out}


def route_all(svc: MemoryService, probes: list[tuple[str, Probe]]) -> dict:
    texts: dict[str, dict[str, np.ndarray]] = {}
    taught: dict[tuple[str, str], tuple[list[tuple[str, list[str]]], np.ndarray]] = {}
    groups: dict[str, dict] = {}
    facts_of: dict[str, list] = {}
    for ns in {ns for ns, _ in probes}:
        facts_of[ns] = svc.all_active(ns)
        by_topic: dict[str, list] = {}
        for f in facts_of[ns]:
            by_topic.setdefault(f.topic, []).append(f)
        texts[ns] = {t: svc.embedder.embed(routing_texts(fs)) for t, fs in by_topic.items()}
        groups[ns] = {t: ((ns, t, frozenset(f.id for f in fs)), fs) for t, fs in by_topic.items()}
        for t, fs in by_topic.items():
            taught[(ns, t)] = askable_set(svc, fs)
    bank = QuestionBank(svc.embedder, svc.settings.consolidation.taught_forms)
    answered = taught_right = 0
    least = svc.settings.agent.question_min_score
    near: dict[str, list[float]] = {"related": [], "unrelated": []}  # the nearest question's cosine
    right = {m: 0 for m in MIN_SCORE}
    stray = {m: 0 for m in MIN_SCORE}
    best: dict[str, list[float]] = {"related": [], "unrelated": []}  # the top nearest score of each probe
    asked = unrelated = world = 0
    held = {ns: held_words([f.text for f in fs]) for ns, fs in facts_of.items()}
    world_related: list[str] = []  # related probes that language.answer_kinds.about_memory would answer from the model
    misses: list[dict] = []  # related probes whose taught or bank question would not be answered right
    vectors = svc.embedder.embed([p.question for _, p in probes])
    for (ns, probe), v in zip(probes, vectors):
        if not texts[ns] or probe.tag in ("deleted", "other-namespace"):
            continue
        scores = {}
        for t, m in texts[ns].items():
            c = m.mean(0)
            scores[t] = {"centroid": float(c @ v / (np.linalg.norm(c) or 1.0)), "nearest": topic_score(m, v),
                         "nearest-1": topic_score(m, v, k=1)}
        top = max(s["nearest"] for s in scores.values())
        nearest = bank.nearest(groups[ns], v)  # how near, whatever its answer
        if probe.tag == "unrelated":
            near["unrelated"].append(round(nearest.score, 3) if nearest else -1.0)
            best["unrelated"].append(round(top, 3))
            unrelated += 1
            if not about_memory(probe.question, held[ns]):
                world += 1
                continue
            for method in MIN_SCORE:
                stray[method] += max(s[method] for s in scores.values()) >= MIN_SCORE[method]
            continue
        if not about_memory(probe.question, held[ns]):
            world_related.append(probe.question)
        gold = right_topics(probe, facts_of[ns])
        if not gold:
            continue
        asked += 1
        best["related"].append(top)
        near["related"].append(nearest.score if nearest else -1.0)
        match = bank.nearest(groups[ns], v, probe.question, least)  # the one hybrid reads (agent.nodes)
        bank_ok = bool(match) and correct(f"{match.qa.expected}.", probe.expect, probe.aliases, probe.reject)
        answered += bank_ok
        if not bank_ok:
            misses.append({"question": probe.question, "expect": probe.expect, "bank": nearest and {
                "question": nearest.qa.question, "answer": nearest.qa.expected, "score": round(nearest.score, 3),
                "fits": bool(match)}})
        for method in MIN_SCORE:
            right[method] += max(scores, key=lambda t: scores[t][method]) in gold
        qs, m = taught[(ns, max(scores, key=lambda t: scores[t]["nearest"]))]
        sims = m @ v if len(qs) else np.zeros(0)
        pick = nearest_fitting(sims, probe.question, [q for q, _, _ in qs], [a for _, _, a in qs], least)
        taught_ok = pick is not None and not repeats(qs[pick][2], told(qs[pick][1], probe.question)) and correct(
            f"{qs[pick][2]}.", probe.expect, probe.aliases, probe.reject)
        taught_right += taught_ok
        if not taught_ok:
            misses.append({"question": probe.question, "expect": probe.expect,
                           "taught": None if pick is None else {"question": qs[pick][0], "answer": qs[pick][2],
                                                                "score": round(float(sims[pick]), 3)},
                           "nearest": [{"question": qs[i][0], "answer": qs[i][2], "score": round(float(sims[i]), 3)}
                                       for i in np.argsort(-sims)[:3]]})
    related = np.array(best["related"] or [np.nan])
    return {"probes": asked, **{m: round(right[m] / asked, 4) if asked else None for m in MIN_SCORE},
            "right": right, "unrelated": unrelated, "unrelated_world": world, "unrelated_routed": stray,
            "related_world": world_related,
            "nearest_score": {"related_min": round(float(related.min()), 3),
                              "related_p10": round(float(np.percentile(related, 10)), 3),
                              "related_median": round(float(np.median(related)), 3),
                              "unrelated": sorted(best["unrelated"])},
            "questions": round(answered / asked, 4) if asked else None, "questions_right": answered,
            "taught": round(taught_right / asked, 4) if asked else None, "taught_right": taught_right,
            "question_score": {"related_median": round(float(np.median(near["related"] or [np.nan])), 3),
                               "related_p10": round(float(np.percentile(near["related"] or [np.nan], 10)), 3),
                               "unrelated": sorted(near["unrelated"])},
            "taught_misses": misses}


def askable_set(svc: MemoryService, facts) -> tuple[list[tuple[str, list[str], str]], np.ndarray]:
    """(question, values named, answer) of each question an adapter of `facts` may be asked, and their embeddings."""
    ds = build_dataset(facts, svc.settings.consolidation.taught_forms, short=True)
    items = askable(ds, facts)
    vectors = svc.embedder.embed([q for _, q, _, _ in items]) if items else np.zeros((0, svc.embedder.dim))
    return [(q, names, answer) for _, q, names, answer in items], vectors


def main() -> None:
    ap = runner.parser(__doc__)
    ap.add_argument("scenarios", nargs="*", type=Path, default=DEFAULT)
    ap.add_argument("--misses", action="store_true",
                    help="also list each probe whose taught or bank question would be answered wrong")
    args = runner.parse(ap, out="bench/results/routing.json")
    scenarios = [measure(p) for p in args.scenarios]
    if not args.misses:
        scenarios = [{k: v for k, v in s.items() if k != "taught_misses"} for s in scenarios]
    runner.report({"scenarios": scenarios}, args)


if __name__ == "__main__":
    main()
