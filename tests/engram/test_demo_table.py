"""What `engram demo` ends with: a table for an 80-column terminal, a line per mode, the answers in a file."""

from rich.console import Console

from engram.demo import MODES, SCRIPT, Row, results_table, summary_lines, write_answers


def rows() -> list[Row]:
    out = []
    for i, (_, question, expected) in enumerate(SCRIPT):
        answers = {m: f"A long answer that goes on about {expected} and much else besides, {m}" for m in MODES}
        out.append(Row(question, expected, answers, {m: (i + j) % 3 == 0 for j, m in enumerate(MODES)},
                       "family-and-friends--2 v12"))
    return out


def test_the_table_fits_80_columns_with_a_mark_per_mode():
    console = Console(width=80, record=True, color_system=None)
    console.print(results_table(rows()))
    lines = console.export_text().splitlines()
    assert max(len(line) for line in lines) <= 80
    body = [line for line in lines if any(q in line for _, q, _ in SCRIPT[:1])]
    assert body and body[0].count("✓") + body[0].count("✗") == len(MODES)
    assert len([line for line in lines if "✓" in line or "✗" in line]) == len(SCRIPT)  # one row per question


def test_one_summary_line_per_mode():
    r = rows()
    lines = summary_lines(r)
    assert len(lines) == len(MODES)
    for mode, line in zip(MODES, lines):
        assert line.startswith(mode) and f"{sum(x.correct[mode] for x in r)}/{len(r)}" in line


def test_the_answers_file_holds_every_answer_in_full(tmp_path):
    r = rows()
    path = tmp_path / "answers.md"
    write_answers(path, r)
    text = path.read_text()
    assert all(answer in text for row in r for answer in row.answers.values())


def test_chat_shows_what_the_adapter_was_asked():
    from engram.chat import describe

    console = Console(width=120, record=True, color_system=None)
    out = {"mode": "lora", "routes": [{"topic": "life", "version": 2, "score": 0.61}],
           "asked_as": "What is the name of my dentist?"}
    console.print(describe(out))
    text = console.export_text()
    assert "life v2 (0.61)" in text and "asked as" in text and "What is the name of my dentist?" in text
    console.print(describe({**out, "asked_as": None}))
    assert console.export_text().count("asked as") == 0  # export_text clears the record
