"""The packaged GGUF is converted once: a second load reads the converted folder and is the same model."""

import pytest
import torch

from consolidation.model import chat_prompt, converted_dir, load_base, packaged_gguf

pytestmark = pytest.mark.integration


def test_converted_packaged_model_is_the_same_model(tmp_path):
    torch.set_num_threads(2)
    first = load_base("packaged", cache_dir=tmp_path)
    folder = converted_dir(tmp_path, packaged_gguf())
    assert (folder / "config.json").exists() and list(folder.glob("*.safetensors"))
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".convert-")]  # no leftovers
    second = load_base("packaged", cache_dir=tmp_path)
    prompt = chat_prompt(first.tokenizer, "What is the capital of France?")
    ids = first.tokenizer(prompt, return_tensors="pt", add_special_tokens=False)["input_ids"]
    assert ids.tolist() == second.tokenizer(prompt, return_tensors="pt", add_special_tokens=False)["input_ids"].tolist()
    with torch.no_grad():
        torch.testing.assert_close(first.model(ids).logits, second.model(ids).logits)
        out = second.model.generate(ids, max_new_tokens=8, do_sample=False,
                                    pad_token_id=second.tokenizer.pad_token_id)
    assert "Paris" in second.tokenizer.decode(out[0, ids.shape[1]:])


def test_the_base_model_answers_every_probe_question(base_model):
    """The gate counts what an adapter breaks among questions the base model gets right: all of them are."""
    from consolidation.gate import PROBE, probe_ok
    from consolidation.model import generate
    from evals.make_scenarios import UNRELATED

    answers = generate(base_model.model, base_model.tokenizer, [q for q, _ in PROBE], max_new_tokens=16)
    wrong = [(q, a) for (q, e), a in zip(PROBE, answers) if not probe_ok(a, e)]
    assert not wrong, wrong
    # the evaluations' unrelated probes are answered too, so "no worse than the base model" can fail
    answers = generate(base_model.model, base_model.tokenizer, [q for q, _ in UNRELATED], max_new_tokens=16)
    assert all(probe_ok(a, "|".join(e)) for (_, e), a in zip(UNRELATED, answers)), answers
