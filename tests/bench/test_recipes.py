"""bench.recipes' pure parts: reading a recipe from the command line and the Pareto front it reports."""

import pytest

from bench.recipes import dominates, pareto, parse_recipe


def row(name, seconds, test, para, lost, status="published"):
    return {"recipe": name, "status": status, "seconds": seconds, "test": test, "test_paraphrase": para,
            "probe_lost": lost}


def test_the_front_keeps_each_recipe_no_other_beats_on_every_count():
    rows = [row("fast", 60, 0.70, 0.60, 20), row("good", 200, 0.95, 0.90, 4), row("slow-and-worse", 300, 0.90, 0.85, 6),
            row("kind", 120, 0.70, 0.60, 2), row("tied-but-slower", 61, 0.70, 0.60, 20),
            row("failed", 10, 1.0, 1.0, 0, status="rejected")]
    assert pareto(rows) == ["fast", "good", "kind"]
    assert dominates(rows[1], rows[2]) and not dominates(rows[0], rows[1]) and not dominates(rows[0], rows[0])


def test_a_recipe_is_a_name_and_recipe_fields():
    assert parse_recipe('rank-8={"rank": 8}') == ("rank-8", {"rank": 8})
    for bad in ('{"rank": 8}', 'x={"rank": 0}', 'x={"no_such_field": 1}', "x=[1]", "x={rank: 8}"):
        with pytest.raises(ValueError):
            parse_recipe(bad)


def test_a_recipe_meets_the_targets_only_when_published_at_every_bar():
    from bench.recipes import meets

    assert meets(row("good", 200, 0.95, 0.90, 4), allowed=5)
    assert not meets(row("harmful", 100, 0.95, 0.95, 6), allowed=5)
    assert not meets(row("paraphrase", 100, 0.95, 0.875, 0), allowed=5)
    assert not meets(row("rejected", 100, 1.0, 1.0, 0, status="rejected"), allowed=5)
    assert not meets(row("unknown", 100, 1.0, 1.0, None), allowed=5)
