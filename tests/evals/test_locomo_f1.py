"""LoCoMo's token F1, per its category rules."""

import pytest

from evals.locomo_f1 import locomo_f1, normalize, token_f1


def test_normalization_drops_commas_punctuation_case_and_articles():
    assert normalize("The Cat, and a Dog!") == "cat dog"


def test_token_f1_stems_and_scores_overlap():
    assert token_f1("She went running in Paris", "ran in Paris") == pytest.approx(2 * (2 / 5) * (2 / 3) / (2 / 5 + 2 / 3))
    assert token_f1("painting", "paints") == 1.0  # both stem to "paint"
    assert token_f1("nothing shared", "Paris") == 0.0


@pytest.mark.parametrize("prediction, answer, category, expected", [
    ("Paris", "Paris", 4, 1.0),
    ("7 May 2023", "7 May 2023", 2, 1.0),
    ("hiking", "hiking; camping", 3, 1.0),  # open-domain: only the part before ';'
    ("hiking, swimming", "swimming, hiking", 1, 1.0),  # multi-hop: each gold part finds its match
    ("hiking", "swimming, hiking", 1, 0.5),
    ("That is not mentioned in the conversation.", "", 5, 1.0),
    ("Paris", "", 5, 0.0),
])
def test_category_rules(prediction, answer, category, expected):
    assert locomo_f1(prediction, answer, category) == pytest.approx(expected)


def test_an_unknown_category_is_an_error():
    with pytest.raises(ValueError, match="category 9"):
        locomo_f1("x", "x", 9)
