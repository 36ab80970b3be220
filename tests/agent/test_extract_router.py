from agent.extract import USER, extract_first_person
from agent.router import choose
from memory_service.registry import AdapterRef


def test_first_person_statements():
    assert [(e.relation, e.object) for e in extract_first_person("my sister is Ana")] == [("sister", "Ana")]
    assert [(e.relation, e.object) for e in extract_first_person("I moved to Oslo.")] == [("lives in", "Oslo")]
    work = extract_first_person("I work at Acme as a nurse")
    assert [(e.relation, e.object) for e in work] == [("works at", "Acme"), ("works as", "nurse")]
    assert all(e.subject == USER for e in work) and work[0].text == "The user works at Acme."
    two = extract_first_person("Hi! My dog is called Pimento and I live in Porvoo.")
    assert {(e.relation, e.object) for e in two} == {("dog", "Pimento"), ("lives in", "Porvoo")}


def test_questions_and_chatter_state_nothing():
    assert extract_first_person("Where do I live?") == []
    assert extract_first_person("I am not sure") == []
    assert extract_first_person("thanks, that's all") == []


def test_moving_again_is_the_same_relation_so_it_supersedes():
    a, b = extract_first_person("I moved to Oslo")[0], extract_first_person("I moved to Lima")[0]
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
