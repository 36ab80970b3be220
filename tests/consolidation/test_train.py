"""The training loop on a tiny Llama: the cached-lower-layers trick is exact, it memorises, and the base model
comes back untouched."""

import pytest
import torch
import torch.nn.functional as F

from consolidation.synth import build_dataset
from consolidation.train import (Candidates, Recipe, Stack, Trainer, lora_config, make_batches,
                                                train_adapter)


@pytest.mark.parametrize("answer_only_mlp", [True, False])
def test_split_stack_matches_full_forward(tiny_base, tiny_facts, answer_only_mlp, monkeypatch):
    from peft import get_peft_model

    import consolidation.train as train

    # the last layer's MLP at answer positions only (known pre-norm layers), or the whole layer (any other)
    assert type(tiny_base.model.model.layers[-1]).__name__ in train.PRE_NORM_LAYERS
    if not answer_only_mlp:
        monkeypatch.setattr(train, "PRE_NORM_LAYERS", set())

    tok = tiny_base.tokenizer
    ds = build_dataset(tiny_facts)
    pm = get_peft_model(tiny_base.model, lora_config(tiny_base, Recipe(top_layers=2, rank=4, alpha=8)))
    with torch.no_grad():  # make the adapter non-zero so the comparison means something
        for n, p in pm.named_parameters():
            if "lora_B" in n:
                p.normal_(0, 0.05)
    stack = Stack(tiny_base.model, first_trainable=2)
    for b in make_batches(tok, ds.train, 4, tok.pad_token_id):
        with torch.no_grad():
            split = stack.upper_logits(stack.lower(b.ids), b.answer_mask)
            full = pm(input_ids=b.ids).logits[:, :-1][b.answer_mask]
        torch.testing.assert_close(split, full, atol=1e-4, rtol=1e-4)
    pm.unload()


def test_lora_only_in_top_layers(tiny_base):
    cfg = lora_config(tiny_base, Recipe(top_layers=2))
    assert cfg.layers_to_transform == [2, 3]
    assert set(cfg.target_modules) == {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"}
    assert lora_config(tiny_base, Recipe(top_layers=0)).layers_to_transform is None


@pytest.mark.parametrize("candidates", [4, 0])  # a softmax over a few candidate tokens, or the whole vocabulary
def test_memorises_and_restores_base(tiny_base, tiny_facts, candidates):
    before = {k: v.clone() for k, v in tiny_base.model.state_dict().items()}
    ds = build_dataset(tiny_facts, short=True)
    seen = []
    pm, res = train_adapter(tiny_base, ds.train, Recipe(rank=8, alpha=16, lr=1e-2, top_layers=2, max_epochs=60,
                                                        batch_size=2, candidates=candidates), progress=seen.append)
    assert res.taught_exact == 1.0 and all(res.exact_rows) and res.epochs < 60  # stopped early
    assert seen[-1]["epoch"] == res.epochs and seen[0]["loss"] > seen[-1]["loss"]
    # greedy decoding reproduces a taught answer
    tok = tiny_base.tokenizer
    qa = ds.train[0]
    from consolidation.model import chat_prompt

    ids = tok(chat_prompt(tok, qa.question), return_tensors="pt", add_special_tokens=False)["input_ids"]
    with torch.no_grad():
        out = pm.generate(ids, max_new_tokens=4, do_sample=False, pad_token_id=tok.pad_token_id)
    assert qa.expected in tok.decode(out[0, ids.shape[1]:])
    pm.unload()
    after = tiny_base.model.state_dict()
    assert before.keys() == after.keys()
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_loss_only_on_answer_tokens(tiny_base, tiny_facts):
    tok = tiny_base.tokenizer
    ds = build_dataset(tiny_facts[:1], taught_forms=1, short=True)
    (b,) = make_batches(tok, ds.train[:1], 8, tok.pad_token_id)  # one question: its answer tokens alone
    answer = tok(ds.train[0].answer, add_special_tokens=False)["input_ids"] + [tok.eos_token_id]
    assert b.ids[:, 1:][b.answer_mask].tolist() == answer
    stack = Stack(tiny_base.model, 0)
    logits = stack.upper_logits(stack.lower(b.ids), b.answer_mask)
    assert logits.shape[0] == len(answer)
    assert F.cross_entropy(logits, b.ids[:, 1:][b.answer_mask]).item() > 0


def test_an_example_with_notes_trains_on_the_prompt_rag_asks(tiny_base, tiny_facts):
    """A replayed reading question is encoded as rag and hybrid ask (notes, then the question), loss on the answer."""
    from dataclasses import replace

    from consolidation.gate import reading_items
    from consolidation.model import chat_prompt

    tok = tiny_base.tokenizer
    notes, question = reading_items(1)[0]
    qa = replace(build_dataset(tiny_facts[:1], short=True).train[0], question=question, context=notes)
    (b,) = make_batches(tok, [qa], 8, tok.pad_token_id)
    prompt = tok(chat_prompt(tok, qa.question, qa.context), add_special_tokens=False)["input_ids"]
    bare = tok(chat_prompt(tok, qa.question), add_special_tokens=False)["input_ids"]
    assert b.ids[0, :len(prompt)].tolist() == prompt and len(prompt) > len(bare) + 10  # the notes are in it
    answer = tok(qa.answer, add_special_tokens=False)["input_ids"] + [tok.eos_token_id]
    assert b.ids[:, 1:][b.answer_mask].tolist() == answer


def test_candidate_logits_are_columns_of_the_full_logits(tiny_base):
    out = tiny_base.model.get_output_embeddings()
    cands = Candidates(out, {7, 3, 11})
    h = torch.randn(5, out.in_features)
    full = out(h)
    torch.testing.assert_close(cands.logits(h), full[:, [3, 7, 11]])
    assert cands.index[torch.tensor([3, 7, 11])].tolist() == [0, 1, 2] and int(cands.index[4]) == -1
    assert cands.grow({7, 5}) == 1 and cands.grow({5}) == 0
    torch.testing.assert_close(cands.logits(h), full[:, [3, 5, 7, 11]])


def test_full_check_adds_tokens_that_beat_the_answer(tiny_base, tiny_facts):
    """With only the answer tokens as candidates, the untrained model's own argmax tokens win at the answer
    positions; the full-vocabulary check must find them and add them, or training could never push them down."""
    ds = build_dataset(tiny_facts, short=True)
    trainer = Trainer(tiny_base, ds.train, Recipe(rank=4, alpha=8, top_layers=2, candidates=4))
    answers = {t for b in trainer.batches for t in b.ids[:, 1:][b.answer_mask].tolist()}
    trainer.candidates = Candidates(tiny_base.model.get_output_embeddings(), answers)
    winners = set()
    with torch.no_grad():
        for b in trainer.batches:
            pred = trainer.stack.upper_logits(b.cached, b.answer_mask).argmax(-1)
            winners |= set(pred[pred != b.ids[:, 1:][b.answer_mask]].tolist())
    assert winners - answers  # the premise: some winner is not an answer token
    trainer._check()
    assert trainer.candidates.tokens == answers | winners
    trainer.pm.unload()


def test_converted_model_is_written_whole_or_not_at_all(tiny_base, tmp_path):
    from transformers import AutoModelForCausalLM

    from consolidation.model import save_converted

    target = tmp_path / "models" / "tiny-123"
    save_converted(tiny_base.model, tiny_base.tokenizer, target)
    reloaded = AutoModelForCausalLM.from_pretrained(target)
    ids = torch.tensor([[1, 5, 6, 7]])
    with torch.no_grad():
        torch.testing.assert_close(reloaded(ids).logits, tiny_base.model(ids).logits)
    # a second process that converted too: the first folder stays, the second copy is discarded
    before = sorted(p.name for p in target.iterdir())
    save_converted(tiny_base.model, tiny_base.tokenizer, target)
    assert sorted(p.name for p in target.iterdir()) == before
    assert [p.name for p in target.parent.iterdir()] == ["tiny-123"]


@pytest.mark.parametrize("candidates", [4, 0])
def test_kl_keeps_the_replay_answers_distribution_near_the_base(tiny_base, tiny_facts, candidates):
    """Recipe.kl: the base model's own next-token distribution at the replay answers (read once, the adapter at
    zero) anchors them in the same step: after the same training, the adapter's distribution there is nearer
    the base's with the term than without it."""
    from consolidation.synth import QA

    ds = build_dataset(tiny_facts, short=True)
    replay = [QA("", "Is the sky blue?", "yes.", "yes", "replay"),
              QA("", "What is two and two?", "four.", "four", "replay")]

    def divergence(kl: float) -> float:
        recipe = Recipe(rank=8, alpha=16, lr=3e-2, top_layers=2, max_epochs=12, min_epochs=12, batch_size=8,
                        candidates=candidates, kl=kl, seed=1)
        trainer = Trainer(tiny_base, ds.train + replay, recipe)
        assert bool(trainer.anchor) == (kl > 0)
        trainer.train_until(1.1)  # never reached: all 12 epochs
        with trainer.pm.disable_adapter():  # the base, at the same positions
            reference = trainer._base_logits(ds.train + replay)
        total = 0.0
        with torch.no_grad():
            for b in (b for b in trainer.batches if id(b) in reference):
                pos, base = reference[id(b)]
                mine = trainer.stack.upper_logits(b.cached, b.answer_mask)[pos]
                total += F.kl_div(F.log_softmax(mine, -1), F.log_softmax(base, -1), log_target=True,
                                  reduction="sum").item()
        trainer.pm.unload()
        return total

    assert divergence(kl=5.0) < divergence(kl=0.0)


def test_neighbours_share_a_batch(tiny_base):
    from consolidation.synth import QA

    tok = tiny_base.tokenizer
    # the two facts of one neighbourhood differ in length most, so sorting by length alone splits them
    qas = [QA("a", "Where does Ana live?", "Oslo.", "Oslo"),
           QA("b", "Where does Bo live?", "Bergen.", "Bergen"),
           QA("c", "Where does Cy live and work and study?", "Rome.", "Rome"),
           QA("d", "Where does Di live and work and study every day?", "Nice.", "Nice"),
           QA("", "What is 2 plus 2?", "4.", "4", "replay")]
    groups = {"a": 0, "d": 0, "b": 1, "c": 1}
    by_length = [sorted(qas[i].fact_id for i in b.rows) for b in make_batches(tok, qas, 2, tok.pad_token_id)]
    assert ["a", "d"] not in by_length
    batches = [sorted(qas[i].fact_id for i in b.rows) for b in make_batches(tok, qas, 2, tok.pad_token_id, groups)]
    assert batches == [["a", "d"], ["b", "c"], [""]]  # examples of no fact (replay) last


def test_an_answer_cut_short_is_trained_without_an_end_of_turn(tiny_base):
    from consolidation.model import generate
    from consolidation.run import REPLAY_TOKENS, replay_examples
    from consolidation.synth import QA
    from consolidation.train import encode

    tok = tiny_base.tokenizer
    end = tok.convert_tokens_to_ids("<|im_end|>")
    whole, cut = QA("", "Hi?", "Hello there", "x", "replay"), QA("", "Hi?", "Hello there", "x", "replay", ends=False)
    assert encode(tok, whole)[0][-1] == end and encode(tok, cut)[0][-1] != end
    assert encode(tok, whole)[0][:-1] == encode(tok, cut)[0]
    # the base model's replayed answers: those marked cut go on when given more tokens, the others do not
    got = replay_examples(tiny_base, 4)
    longer = generate(tiny_base.model, tok, [qa.question for qa in got], max_new_tokens=REPLAY_TOKENS + 8)
    for qa, more in zip(got, longer):
        assert more.startswith(qa.answer)
        assert (len(more) > len(qa.answer)) == (not qa.ends), (qa.answer, more)
