"""One Settings object; the training recipe has one definition (Recipe), which the settings extend."""

from memory_service.settings import MODES, ConsolidationSettings, Recipe, Settings


def test_the_settings_recipe_is_the_recipe_defaults():
    assert ConsolidationSettings().recipe == Recipe()
    assert Recipe().alpha == 2 * Recipe().rank


def test_recipe_settings_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("ENGRAM_CONSOLIDATION__RANK", "8")
    monkeypatch.setenv("ENGRAM_CONSOLIDATION__CANDIDATES", "0")
    recipe = Settings().consolidation.recipe
    assert (recipe.rank, recipe.alpha, recipe.candidates) == (8, 16, 0)
    assert set(recipe.to_dict()) == set(Recipe.model_fields)  # what a manifest records: no queue settings


def test_settings_travel_to_a_child_process_through_the_environment(monkeypatch, tmp_path):
    s = Settings(data_dir=tmp_path, consolidation={"rank": 4, "queue": "q-x"}, agent={"mode": "rag"},
                 auth={"keys": {"a" * 64: ["alice"]}})
    for k in [k for k in __import__("os").environ if k.startswith("ENGRAM_")]:
        monkeypatch.delenv(k)
    for k, v in s.to_env().items():
        monkeypatch.setenv(k, v)
    assert Settings() == s


def test_modes_are_one_list():
    from agent.state import MODES as agent_modes
    from evals.metrics import MODE_ORDER

    assert MODES == agent_modes == MODE_ORDER == ("none", "rag", "lora", "hybrid", "full")
