from datetime import datetime, timedelta, timezone

import numpy as np

from memory_service.selection import plan_shards, run_key, select_facts
from consolidation.synth import plain_words, answer_ok, askable, build_dataset, questions_for, template_qa
from memory_service.relay import shard_facts
from memory_service.schemas import parent_topic, shard_topic
from tests.tiny import make_fact


def test_template_questions_per_relation_with_a_validation_question():
    f = make_fact("Zorbit Quell", "lives in", "Varkaus", "Zorbit Quell lives in Varkaus")
    qas = template_qa(f, taught_forms=2)
    assert [q.kind for q in qas] == ["taught", "taught", "validation"]
    assert len({q.question for q in qas}) == 3 and all("Zorbit Quell" in q.question for q in qas)
    assert all(q.expected == "Varkaus" and q.answer == "Zorbit Quell lives in Varkaus." for q in qas)
    assert template_qa(f, short=True)[0].answer == "Varkaus."


def test_unknown_relation_and_bare_statement_still_get_questions():
    f = make_fact("Ana Vell", "sister", "Brielle", "Ana Vell's sister is Brielle")
    assert questions_for(f)[0] == "Who is Ana Vell's sister?"  # a role held by a person: who
    bare = make_fact(None, None, None, "The harbour gate opens at dawn")
    qas = template_qa(bare)
    assert qas[0].expected == "at dawn" and "The harbour gate" in qas[0].question


def test_dataset_splits_taught_and_validation():
    facts = [make_fact("A B", "pet", "Mochi", "A B's pet is called Mochi"),
             make_fact("C D", "instrument", "harp", "C D plays the harp")]
    ds = build_dataset(facts, taught_forms=1)
    assert len(ds.train) == 2 and len(ds.validation) == 2
    assert {q.fact_id for q in ds.validation} == {f.id for f in facts}


def test_each_question_knows_the_other_answers_it_invites():
    facts = [make_fact("A B", "lives in", "Porvoo", "A B lives in Porvoo"),
             make_fact("C D", "lives in", "Porvoo Harbour", "C D lives in Porvoo Harbour"),
             make_fact("E F", "lives in", "Ostrava", "E F lives in Ostrava"),
             make_fact("G H", "pet", "Mochi", "G H's pet is called Mochi")]
    ds = build_dataset(facts)
    others = {qa.expected: qa.others for qa in ds.validation}
    assert others["Porvoo"] == ("Ostrava",)  # "Porvoo Harbour" contains the answer: it cannot count against it
    assert others["Ostrava"] == ("Porvoo", "Porvoo Harbour") and others["Mochi"] == ()
    assert not answer_ok("A B lives in Ostrava or Porvoo", "Porvoo", others["Porvoo"])


def test_what_an_adapter_may_be_asked_never_names_the_answer():
    """askable: the taught questions, each once, without the ones that name their own answer; the values a
    question names (any answer the set teaches) are listed, so it stands in only for a question that names them
    too. Reverse and validation questions are not among them."""
    facts = [make_fact("the user", "supervisor", "Maren Coyle", "My supervisor at Ostwin is Maren Coyle."),
             make_fact("the user", "live in", "Oslo", "The user lives in Oslo.")]
    ds = build_dataset(facts, taught_forms=4)
    asked = askable(ds, facts)
    assert {fid for fid, _, _, _ in asked} == {f.id for f in facts}
    assert all("maren" not in q.lower() and "oslo" not in q.lower() and names == [] for _, q, names, _ in asked)
    answers = {fid: a for fid, _, _, a in asked}  # each lists its answer (what may stand in, not what is said)
    assert answers == {facts[0].id: "Maren Coyle", facts[1].id: "Oslo"}
    assert any(qa.kind == "reverse" and "Maren Coyle" in qa.question for qa in ds.train)  # trained, not askable
    assert not {q for _, q, _, _ in asked} & {qa.question for qa in ds.validation}
    assert len({plain_words(q) for _, q, _, _ in asked}) == len(asked)
    # a question about the time of a move names the place, which is another question's answer
    moved = make_fact("Tessaly", "move to", "Lowhithe", "Tessaly moved to Lowhithe in 2016.", qualifier="in 2016")
    ds = build_dataset([moved], taught_forms=4)
    named = {q: names for _, q, names, _ in askable(ds, [moved])}
    assert any(names == ["lowhithe"] for names in named.values()), ds.train
    assert all(not names or "2016" not in q for q, names in named.items())


def test_answer_ok_ignores_case_and_punctuation():
    assert answer_ok("She lives in VARKAUS!", "Varkaus")
    assert answer_ok("tide gauge engineer", "tide-gauge engineer")
    assert not answer_ok("She lives in Porvoo.", "Varkaus")
    assert not answer_ok("anything", "")


def test_selection_takes_hot_unconsolidated_plus_replay_and_never_inactive():
    now = datetime.now(timezone.utc)
    hot = make_fact("a", "pet", "x", "a's pet is x", created_at=now)
    cold = make_fact("b", "pet", "y", "b's pet is y", created_at=now)
    held = make_fact("c", "pet", "z", "c's pet is z", created_at=now - timedelta(days=3), consolidated_in="t/v1")
    gone = make_fact("d", "pet", "w", "d's pet is w", status="deleted", consolidated_in="t/v1")
    heats = {hot.id: 5.0, cold.id: 0.5, gone.id: 9.0}
    chosen = select_facts([hot, cold, held, gone], heats, hot_threshold=2.5)
    assert [f.id for f in chosen] == [held.id, hot.id]  # oldest first
    assert {f.id for f in select_facts([hot, cold, held, gone], heats, 2.5, include_all=True)} == {
        hot.id, cold.id, held.id}


def test_facts_written_together_are_ordered_by_text_not_by_their_random_ids():
    at = datetime.now(timezone.utc)
    texts = ["Call my landlord Brenles Vioxfaes on 297-555-4352.", "My dentist Zasvos Momkom can be reached at "
             "224-555-9629.", "Rorpoum Zunna's phone number is 393-555-4625."]
    orders = set()
    for _ in range(5):  # new ids each time, as each run of an evaluation writes them
        facts = [make_fact(None, None, None, t, created_at=at) for t in reversed(texts)]
        orders.add(tuple(f.text for f in select_facts(facts, {}, 2.5, include_all=True)))
    assert orders == {tuple(sorted(texts))}


def test_run_key_depends_on_fact_set_and_recipe_not_order():
    a, b = make_fact("a", "pet", "x", "a x"), make_fact("b", "pet", "y", "b y")
    k = run_key("ns", "t", [a, b], {"rank": 8}, "base")
    assert k == run_key("ns", "t", [b, a], {"rank": 8}, "base")
    assert k != run_key("ns", "t", [a], {"rank": 8}, "base")
    assert k != run_key("ns", "t", [a, b], {"rank": 16}, "base")


def test_sharding_decisions():
    assert plan_shards(0, 64) == 0
    assert plan_shards(64, 64) == 1
    assert plan_shards(65, 64) == 2
    assert shard_topic("work", 0, 1) == "work" and shard_topic("work", 1, 3) == "work--2"
    assert parent_topic("work--2") == "work" and parent_topic("work") == "work"
    rng = np.random.default_rng(0)
    centers = np.eye(8)[:3] * 5
    vecs = np.concatenate([c + rng.normal(0, 0.1, (20, 8)) for c in centers])
    facts = [make_fact(f"s{i}", "pet", "x", f"fact {i}") for i in range(60)]
    shards = shard_facts(facts, vecs, capacity=25)
    assert len(shards) == 3 and all(len(s) <= 25 for s in shards)
    assert sorted(f.id for s in shards for f in s) == sorted(f.id for f in facts)
    # each cluster lands in one shard
    by_fact = {f.id: i for i, s in enumerate(shards) for f in s}
    assert all(len({by_fact[f.id] for f in facts[k * 20:(k + 1) * 20]}) == 1 for k in range(3))
    assert shard_facts(facts[:10], vecs[:10], capacity=25) == [facts[:10]]


def test_a_statement_and_the_facts_read_from_it_share_a_shard():
    rng = np.random.default_rng(1)
    facts, vecs = [], []
    for k in range(12):  # a statement and two facts read from it, embedded far apart from one another
        said = make_fact(None, None, None, f"statement {k}")
        read = [make_fact(f"Person {k}", f"pet {j}", "Rex", f"fact {k}.{j}", derived_from=said.id) for j in range(2)]
        facts += [said, *read]
        vecs += [np.eye(8)[(k + j) % 8] * 5 + rng.normal(0, 0.1, 8) for j in range(3)]
    shards = shard_facts(facts, np.stack(vecs), capacity=10)
    assert len(shards) >= 4 and all(len(s) <= 10 for s in shards)
    assert sorted(f.id for s in shards for f in s) == sorted(f.id for f in facts)
    by_fact = {f.id: i for i, s in enumerate(shards) for f in s}
    assert all(by_fact[f.id] == by_fact[f.derived_from] for f in facts if f.derived_from)


def test_generated_questions_are_checked_before_they_are_trained():
    """An LLM's questions only add wordings: one that gives its answer away, repeats a training or validation
    question, is not a question, or is asked of two facts with different answers is dropped."""
    facts = [make_fact("Ana Vell", "lives in", "Varkaus", "Ana Vell lives in Varkaus"),
             make_fact("Bo Rask", "lives in", "Ostrava", "Bo Rask lives in Ostrava")]
    plain = build_dataset(facts)
    asked: list[list[tuple[str, str]]] = []

    def more(items):
        asked.append(items)
        by_answer = {
            "Varkaus": ["Which town is Ana Vell's home?", "Does Ana Vell live in Varkaus?",  # leaks the answer
                        plain.validation[0].question.upper(),  # the held-out question, reworded by case only
                        "Ana Vell's home", "Where is home these days?"],
            "Ostrava": ["In what city does Bo Rask reside?", "Where is home these days?"],  # the last: both facts
        }
        return [by_answer[answer] for _, answer in items]

    ds = build_dataset(facts, more_questions=more)
    assert asked == [[("Ana Vell lives in Varkaus.", "Varkaus"), ("Bo Rask lives in Ostrava.", "Ostrava")]]
    added = [qa for qa in ds.train if qa not in plain.train]
    assert {(qa.question, qa.expected, qa.kind) for qa in added} == {
        ("Which town is Ana Vell's home?", "Varkaus", "taught"),
        ("In what city does Bo Rask reside?", "Ostrava", "taught")}
    assert all(qa.answer == "Ana Vell lives in Varkaus." for qa in added if qa.expected == "Varkaus")
    assert ds.validation == plain.validation  # the gate's held-out questions are untouched
    assert ds.generated == 2


def test_a_failed_endpoint_leaves_the_deterministic_questions():
    facts = [make_fact("Ana Vell", "lives in", "Varkaus", "Ana Vell lives in Varkaus")]
    ds = build_dataset(facts, more_questions=lambda items: None)
    assert ds.train == build_dataset(facts).train and ds.generated == 0


def test_augmentation_adds_other_forms_never_a_validation_or_repeated_question():
    """Knowledge augmentation (Recipe.augment): the fact in the analysis' other forms, answers short and whole in
    turn, a name asked the other way round; none repeats a training or validation question, and none is counted
    by the stopping rule or gated."""
    facts = [make_fact("Zorbit Quell", "lives in", "Varkaus", "Zorbit Quell lives in Varkaus"),
             make_fact("Ana Vell", "pet", "Mochi", "Ana Vell's pet is called Mochi")]
    plain, augmented = build_dataset(facts, 4, short=True), build_dataset(facts, 4, short=True, augment=True)
    assert plain.validation == augmented.validation and plain.taught == augmented.taught
    extra = [qa for qa in augmented.train if qa not in plain.train]
    assert {qa.kind for qa in extra} == {"augmented", "reverse"}
    asked = [plain_words(qa.question) for qa in augmented.train + augmented.validation]
    assert len(asked) == len(set(asked))
    assert {qa.answer for qa in extra if qa.fact_id == facts[0].id} == {"Varkaus.", "Zorbit Quell lives in Varkaus."}
    whose = next(qa for qa in extra if qa.kind == "reverse")
    assert (whose.question, whose.answer) == ("Whose pet is Mochi?", "Ana Vell.")


def test_neighbours_are_facts_that_share_a_name_word():
    from consolidation.synth import neighbours

    facts = [make_fact("the user", "dentist", "Nenbrond Halnin", "My dentist Nenbrond Halnin can be reached at 1."),
             make_fact("Nenbrond Halnin", "phone number", "845-555-4634", "... at 845-555-4634."),
             make_fact("Nenbrond Vundtand", "phone number", "212-555-2159", "... at 212-555-2159."),
             make_fact("Guthvuth Vundtand", "phone number", "762-555-4402", "... at 762-555-4402."),
             make_fact("the user", "plumber", "Thindbrour Vifur", "My plumber Thindbrour Vifur ..."),
             make_fact("Kolmum Nizind", "phone number", "697-555-2977", "... at 697-555-2977.")]
    got = [neighbours(facts)[f.id] for f in facts]
    # a shared first name or surname joins them, through a chain too; "the user" joins nothing
    assert got[0] == got[1] == got[2] == got[3]
    assert len({got[0], got[4], got[5]}) == 3
    assert got == [0, 0, 0, 0, 1, 2]  # numbered in order of first appearance


def test_restatements_say_back_what_is_known_of_each_subject_and_are_not_gated():
    """restate: one prompt per named subject whose answer is every statement of it, trained not gated; the
    user's own facts are left to the notes."""
    facts = [make_fact("Zindkem Taeho", "lives in", "Brindlewick", "Zindkem Taeho lives in Brindlewick."),
             make_fact("Zindkem Taeho", "instrument", "oboe", "Zindkem Taeho plays the oboe."),
             make_fact("the user", "lives in", "Oslo", "I live in Oslo.")]
    plain = build_dataset(facts)
    ds = build_dataset(facts, restate=True)
    added = [qa for qa in ds.train if qa not in plain.train]
    assert [(qa.question, qa.answer, qa.kind) for qa in added] == [
        ("What do you know about Zindkem Taeho?", "Zindkem Taeho lives in Brindlewick. Zindkem Taeho plays the oboe.",
         "augmented")]
    assert ds.validation == plain.validation
