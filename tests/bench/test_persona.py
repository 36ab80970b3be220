"""bench.persona on a two-conversation CSV in the corpus's format, through the real service."""

from __future__ import annotations

import csv

from bench.persona import conversations, measure


def write_csv(path, rows):
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["user 1 personas", "user 2 personas", "Best Generated Conversation"])
        w.writerows(rows)


def test_persona_sentences_the_user_said_are_held_and_the_others_not_counted(tmp_path, service):
    path = tmp_path / "Synthetic-Persona-Chat_valid.csv"
    write_csv(path, [
        ("I have a dog named Pepper.\nI work as a nurse.\nI have been to Peru.",
         "I love horses.",
         "User 1: Hi!\nUser 2: Hello! I love horses.\nUser 1: Your horses sound lovely. I have a dog named Pepper.\n"
         "User 2: Nice!\nUser 1: I work as a nurse at the hospital."),
        ("I like jazz.", "I am a pilot.", "User 1: Her name is Pepper.\nUser 2: Who?"),
    ])
    convs = conversations(path)
    assert [len(c["lines"]) for c in convs] == [5, 2] and convs[0]["persona2"] == ["I love horses."]
    result = measure(convs, service)
    first, second = result["per_conversation"]
    assert (first["turns"], first["supported"], first["held"], first["missed"]) == (3, 2, 2, [])  # Peru: never said
    assert first["wrong_speaker"] == [] and second["error"] is None and second["supported"] == 0
    assert (result["persona_held"], result["persona_supported"], result["exceptions"]) == (2, 2, 0)


def test_reading_every_line_counts_what_intake_could_not_read(tmp_path):
    from bench.persona import read_every_line

    path = tmp_path / "Synthetic-Persona-Chat_valid.csv"
    write_csv(path, [("I like jazz.", "I am a pilot.", "User 1: I have a dog. Her name is Pepper.\nUser 2: Cute!")])
    assert read_every_line(conversations(path)) == {"lines": 2, "batches_raised": 0, "unreadable": 0,
                                                   "unreadable_sentences": []}
