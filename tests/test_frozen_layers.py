"""`--frozen-layers`: the bottom of the encoder stays as pretrained, the top still learns,
and training runs only the top on the bottom's output, computed once and kept on disk for
the next training."""

import numpy as np
import pytest
import torch
from transformers import AutoModel, AutoTokenizer

from data.hf import dataset_dict
from data.techniques import technique_ids
from model.classifier import MeanPoolingClassifier
from model.scorers import TransformerScorer
from model.technique_head import span_vectors
from tests.test_training import easy_records
from training.config import TransformerConfig
from training.frozen import FrozenStore
from training.transformer import fine_tune, resolve_base_model

SENTENCES = ["Traitors!", "The minister sold out our nation to foreign bankers, again."]


@pytest.fixture(autouse=True)
def own_cache(tmp_path, monkeypatch):
    """The frozen output goes to the test's own cache, not the user's."""
    monkeypatch.setenv("PROPSCAN_CACHE", str(tmp_path / "cache"))


def frozen_minilm(layers: int = 4) -> tuple[MeanPoolingClassifier, AutoTokenizer]:
    path = resolve_base_model("all-MiniLM-L6-v2")
    model = MeanPoolingClassifier.from_encoder(path, 3)
    model.freeze_bottom(layers)
    return model.eval(), AutoTokenizer.from_pretrained(path)


def test_frozen_layers_are_saved_as_pretrained_and_the_rest_learns(tmp_path):
    config = TransformerConfig(
        frozen_layers=4, max_steps=3, probe_epochs=2, batch_size=16, max_length=64, threads=1
    )
    records = easy_records(48, "train")
    fine_tune(
        dataset_dict({"train": records, "dev": records[:16], "test": records[:16]}),
        config,
        list(technique_ids()),
        tmp_path / "model",
    )
    pretrained = AutoModel.from_pretrained(resolve_base_model(config.base_model)).state_dict()
    tuned = AutoModel.from_pretrained(tmp_path / "model").state_dict()
    same = {name for name in tuned if torch.equal(tuned[name], pretrained[name])}
    assert "embeddings.word_embeddings.weight" in same
    assert all(f"encoder.layer.{i}.output.dense.weight" in same for i in range(4))
    assert not {f"encoder.layer.{i}.output.dense.weight" for i in (4, 5)} & same


def test_frozen_layers_compute_without_dropout_in_training_mode():
    """Frozen layers give the same vectors at every step, as they would at scoring time."""
    model = MeanPoolingClassifier.from_encoder(resolve_base_model("all-MiniLM-L6-v2"), 3)
    model.freeze_bottom(5)
    model.train()
    assert not model.encoder.embeddings.training
    assert not model.encoder.encoder.layer[4].training
    assert model.encoder.encoder.layer[5].training and model.dropout.training
    with pytest.raises(ValueError, match="has 6 layers, so between 1 and 5"):
        model.freeze_bottom(6)


def test_the_layers_above_from_the_frozen_output_give_what_the_whole_encoder_gives():
    model, tokenizer = frozen_minilm()
    batch = tokenizer(SENTENCES, padding=True, return_tensors="pt")
    whole = model(batch["input_ids"], batch["attention_mask"])
    states = model.frozen_states(batch["input_ids"], batch["attention_mask"])
    split = model(batch["input_ids"], batch["attention_mask"], frozen_states=states)
    assert torch.allclose(whole.logits, split.logits, atol=1e-5)
    assert torch.allclose(whole.token_logits, split.token_logits, atol=1e-5)
    assert len(model.encoder.encoder.layer) == 6  # the whole stack is back after each pass


def test_the_store_keeps_what_the_frozen_layers_give_for_the_next_training():
    model, tokenizer = frozen_minilm()
    sequences = tokenizer([*SENTENCES, SENTENCES[0]])["input_ids"]
    store = FrozenStore(model, tokenizer.pad_token_id)
    states = store.states(sequences)
    assert store.computed == 2  # a sentence said twice is computed once
    for ids, stored in zip(sequences, states, strict=True):
        with torch.no_grad():
            alone = model.frozen_states(torch.tensor([ids]), torch.ones(1, len(ids), dtype=int))
        assert torch.allclose(stored, alone[0], atol=1e-5)
    again = FrozenStore(model, tokenizer.pad_token_id)  # as the next training opens it
    assert all(torch.equal(a, b) for a, b in zip(again.states(sequences), states, strict=True))
    assert again.computed == 0
    assert FrozenStore(frozen_minilm(3)[0], tokenizer.pad_token_id).folder != store.folder


def test_a_second_training_reads_the_stored_output_and_trains_the_same_model(tmp_path):
    config = TransformerConfig(
        frozen_layers=4, max_steps=3, probe_epochs=2, batch_size=16, max_length=64, threads=1
    )
    records = easy_records(48, "train")
    data = dataset_dict({"train": records, "dev": records[:16], "test": records[:16]})
    fine_tune(data, config, list(technique_ids()), tmp_path / "first")
    [store] = (tmp_path / "cache" / "frozen").iterdir()
    size = (store / "states.f32").stat().st_size
    fine_tune(data, config, list(technique_ids()), tmp_path / "second")
    assert (store / "states.f32").stat().st_size == size  # nothing computed again
    weights = sorted(p.name for p in (tmp_path / "first").glob("*.safetensors"))
    assert "model.safetensors" in weights
    for name in weights:
        assert (tmp_path / "first" / name).read_bytes() == (tmp_path / "second" / name).read_bytes()


def test_dev_scores_and_span_vectors_from_the_stored_output_match_the_whole_encoder():
    model, tokenizer = frozen_minilm()
    scorer = TransformerScorer(model, tokenizer, max_length=64)
    whole, whole_tokens = scorer.predict(SENTENCES)
    scorer.given_states = FrozenStore(model, tokenizer.pad_token_id).states
    probs, tokens = scorer.predict(SENTENCES)
    np.testing.assert_allclose(probs, whole, atol=1e-5)
    for (offsets, token_probs), (whole_offsets, whole_probs) in zip(
        tokens, whole_tokens, strict=True
    ):
        assert np.array_equal(offsets, whole_offsets)
        np.testing.assert_allclose(token_probs, whole_probs, atol=1e-5)
    spans = [(1, 4, 12), (0, 0, 8)]  # "minister", "Traitors"
    vectors, _ = span_vectors(model, tokenizer, SENTENCES, spans, 64)
    stored, _ = span_vectors(model, tokenizer, SENTENCES, spans, 64, scorer.given_states)
    np.testing.assert_allclose(stored, vectors, atol=1e-5)


def test_a_damaged_store_index_names_its_line():
    model, tokenizer = frozen_minilm()
    store = FrozenStore(model, tokenizer.pad_token_id)
    store.index_file.write_text("0123abcd\t0\t3\ncut short\n")
    with pytest.raises(ValueError, match=r"index.tsv:2: not KEY<TAB>OFFSET<TAB>TOKENS; delete"):
        FrozenStore(model, tokenizer.pad_token_id)


def test_a_cut_short_store_says_so():
    model, tokenizer = frozen_minilm()
    store = FrozenStore(model, tokenizer.pad_token_id)
    sequences = tokenizer(SENTENCES)["input_ids"]
    store.states(sequences)
    with store.data.open("r+b") as data:
        data.truncate(store.data.stat().st_size - 4)
    with pytest.raises(ValueError, match=r"states.f32: shorter than .*index.tsv says; delete"):
        FrozenStore(model, tokenizer.pad_token_id).states(sequences)
