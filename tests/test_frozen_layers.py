"""`--frozen-layers`: the bottom of the encoder stays as pretrained, the top still learns,
and training runs only the top on the bottom's output computed once."""

import pytest
import torch
from transformers import AutoModel, AutoTokenizer

from data.hf import dataset_dict
from data.techniques import technique_ids
from model.classifier import MeanPoolingClassifier
from tests.test_training import easy_records
from training.config import TransformerConfig
from training.transformer import fine_tune, resolve_base_model


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
    path = resolve_base_model("all-MiniLM-L6-v2")
    model = MeanPoolingClassifier.from_encoder(path, 3)
    model.freeze_bottom(4)
    model.eval()
    batch = AutoTokenizer.from_pretrained(path)(
        ["Traitors!", "The minister sold out our nation to foreign bankers, again."],
        padding=True,
        return_tensors="pt",
    )
    whole = model(batch["input_ids"], batch["attention_mask"])
    states = model.frozen_states(batch["input_ids"], batch["attention_mask"])
    split = model(batch["input_ids"], batch["attention_mask"], frozen_states=states)
    assert torch.allclose(whole.logits, split.logits, atol=1e-5)
    assert torch.allclose(whole.token_logits, split.token_logits, atol=1e-5)
    assert len(model.encoder.encoder.layer) == 6  # the whole stack is back after each pass
