"""Reading examples: a fact's question asked over notes shown as rag and hybrid show them, its own statement in
the notes for some facts and left out for the others, trained but never gated or counted."""

from __future__ import annotations

from consolidation.model import chat_prompt
from consolidation.synth import build_dataset
from consolidation.train import Trainer, encode
from memory_service.settings import Recipe
from tests.tiny import make_fact

PEOPLE = [("Zorbit Quell", "Varkaus"), ("Mirna Tosk", "Pimento"), ("Alder Voss", "Lunby"), ("Ilse Harrow", "Dunmere"),
          ("Oskar Fenn", "Tarrow"), ("Wenna Loft", "Briddle"), ("Cato Rusk", "Hollin"), ("Perrin Dace", "Esk")]


def facts():
    return [make_fact(s, "lives in", o, f"{s} lives in {o}.") for s, o in PEOPLE]


def test_each_fact_gets_one_reading_example_over_the_notes_asked_as_taught():
    fs = facts()
    ds = build_dataset(fs, short=True, reading=3)
    reading = [qa for qa in ds.train if qa.kind == "reading"]
    assert sorted(qa.fact_id for qa in reading) == sorted(f.id for f in fs)
    assert not any(qa.kind == "reading" for qa in ds.validation) and not any(qa.context for qa in ds.taught)
    taught = {(qa.fact_id, qa.question, qa.answer) for qa in ds.taught}
    by_id = {f.id: f for f in fs}
    with_own = 0
    for qa in reading:
        assert (qa.fact_id, qa.question, qa.answer) in taught
        lines = qa.context.split("\n")
        assert len(lines) == 3 and len(set(lines)) == 3
        assert set(lines) <= {f.attributed for f in fs}
        with_own += by_id[qa.fact_id].attributed in lines
    assert 0 < with_own < len(fs)  # some read the answer in the notes, some answer from the weights
    assert [qa.context for qa in build_dataset(fs, short=True, reading=3).train if qa.kind == "reading"] == \
        [qa.context for qa in reading]  # the same facts, the same notes


def test_a_fact_read_from_a_statement_shows_the_statement():
    said = make_fact(None, None, None, "My brother's Dorran, he cooks at the Brinehook.")
    read = make_fact("brother", "name", "Dorran", "The user's brother is Dorran.", derived_from=said.id)
    ds = build_dataset([said, read, *facts()], short=True, reading=20)
    notes = {line for qa in ds.train if qa.kind == "reading" for line in qa.context.split("\n")}
    assert said.attributed in notes and read.text not in notes


def test_no_reading_examples_unless_asked():
    assert not any(qa.kind == "reading" for qa in build_dataset(facts(), short=True).train)


def test_reading_examples_are_prompted_with_their_notes_and_not_counted(tiny_base, tiny_tokenizer):
    ds = build_dataset(facts(), short=True, reading=2)
    qa = next(qa for qa in ds.train if qa.kind == "reading")
    ids, plen = encode(tiny_tokenizer, qa)
    prompt = tiny_tokenizer(chat_prompt(tiny_tokenizer, qa.question, qa.context),
                            add_special_tokens=False)["input_ids"]
    assert ids[:plen] == prompt and plen > len(tiny_tokenizer(chat_prompt(tiny_tokenizer, qa.question))["input_ids"])
    trainer = Trainer(tiny_base, ds.train, Recipe(top_layers=0, candidates=0))
    assert [c for c, qa in zip(trainer.counted, ds.train) if qa.kind == "reading"] == [False] * len(facts())
    assert sum(trainer.counted) == len(ds.taught)
