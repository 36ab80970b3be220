from agent.router import choose
from language.intake import read_message
from memory_service.adapter_files import AdapterRef


def test_the_examples_the_old_pattern_extractor_knew_still_read():
    """What eleven sentence patterns used to read, intake reads from the parse."""
    read = lambda text: [(t.relation, t.object) for s in read_message(text).sentences for t in s.triples]  # noqa: E731
    assert read("my sister is Ana") == [("sister", "Ana")]
    assert read("I moved to Oslo.") == [("live in", "Oslo")]
    assert read("I work at Acme as a nurse") == [("work at", "Acme"), ("work as", "nurse")]
    assert set(read("Hi! My dog is called Pimento and I live in Porvoo.")) == {("dog", "Pimento"),
                                                                               ("live in", "Porvoo")}
    assert read("Where do I live?") == [] and read("thanks, that's all") == []


def test_moving_again_is_the_same_relation_so_it_supersedes():
    (a,), (b,) = ([t for s in read_message(x).sentences for t in s.triples] for x in ("I moved to Oslo",
                                                                                       "I moved to Lima"))
    assert (a.subject, a.relation) == (b.subject, b.relation) and a.object != b.object


def ref(topic):
    return AdapterRef("ns", topic, 1, None)


def test_routing_rule_k1_when_confident_else_merge_up_to_three():
    assert [r.ref.topic for r in choose([(ref("a"), 0.8), (ref("b"), 0.5)], min_score=0.2, margin=0.05,
                                        max_k=3)] == ["a"]
    close = choose([(ref("a"), 0.62), (ref("b"), 0.60), (ref("c"), 0.59), (ref("d"), 0.58)], min_score=0.2,
                   margin=0.05, max_k=3)
    assert [r.ref.topic for r in close] == ["a", "b", "c"]
    assert choose([(ref("a"), 0.1)], min_score=0.2, margin=0.05, max_k=3) == []


def test_a_topic_scores_by_its_texts_nearest_the_question_not_by_its_mean():
    import numpy as np

    from agent.router import topic_score

    q = np.array([1.0, 0.0, 0.0])
    unit = lambda *v: np.array(v) / np.linalg.norm(v)  # noqa: E731
    # one text right on the question among others far off, against texts all half-way
    holds = np.stack([unit(1, 0, 0), unit(1, 0.1, 0), unit(0.9, 0.3, 0)] + [unit(0, 1, 0)] * 3 + [unit(0, 0, 1)] * 3)
    near = np.stack([unit(1, 1, 0)] * 6)
    assert float(near.mean(0) @ q / np.linalg.norm(near.mean(0))) > float(
        holds.mean(0) @ q / np.linalg.norm(holds.mean(0)))  # the centroid would pick the wrong topic
    assert topic_score(holds, q) > topic_score(near, q)
    # the mean of the three nearest: one stray match counts for a third
    stray = np.stack([unit(1, 0, 0), unit(0, 1, 0), unit(0, 0, 1)])
    assert abs(topic_score(stray, q) - 1 / 3) < 1e-6 and topic_score(stray, q, k=1) == 1.0
    assert topic_score(np.zeros((0, 3)), q) == -1.0


def test_the_router_keeps_one_embedded_text_set_per_topic(embedder, tmp_path):
    """A new fact set (or adapter version) of a topic replaces the old one's matrix: a long-lived process holds
    one per topic, not one per change."""
    from datetime import datetime, timezone

    from agent.router import Router
    from memory_service.registry import Registry
    from memory_service.schemas import Fact

    router = Router(Registry(tmp_path), embedder)
    now = datetime.now(timezone.utc)
    facts = [Fact(id="a", namespace="n", topic="life", text="I live in Oslo.", created_at=now)]
    q = embedder.embed_one("Where do I live?")
    first = router.facts_score(("n", "life", frozenset({"a"})), facts, q)
    facts.append(Fact(id="b", namespace="n", topic="life", text="I play the cello.", created_at=now))
    second = router.facts_score(("n", "life", frozenset({"a", "b"})), facts, q)
    router.facts_score(("n", "work", frozenset({"c"})), [facts[0].model_copy(update={"topic": "work"})], q)
    assert set(router._texts) == {("n", "life", frozenset({"a", "b"})), ("n", "work", frozenset({"c"}))}
    assert first > second  # the new set was embedded (the cello dilutes it), not the old matrix reused
