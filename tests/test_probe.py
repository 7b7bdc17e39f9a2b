"""Linear probing first (LP-FT): the heads learn on the frozen encoder before fine-tuning."""

import numpy as np
from sklearn.metrics import roc_auc_score

from data.hf import dataset_dict
from data.techniques import technique_ids
from model.predictor import Predictor
from tests.test_training import easy_records
from training.config import TransformerConfig
from training.transformer import fine_tune


def with_spans(records: list[dict]) -> list[dict]:
    """The word "traitors" is the name-calling span of each sentence that carries it."""
    for record in records:
        start = record["text"].find("traitors")
        if start >= 0:
            record["spans"] = [{"technique": "name_calling", "start": start, "end": start + 8}]
    return records


def test_probed_heads_rank_before_fine_tuning_moves_them(tmp_path):
    """With the heads probed for 30 epochs and a single fine-tuning step after, the model
    already tells name-calling sentences from plain ones and puts the span on its word:
    the probe did the learning, on the frozen encoder."""
    train, dev = with_spans(easy_records(64, "train")), with_spans(easy_records(16, "dev"))
    config = TransformerConfig(
        max_steps=1, probe_epochs=30, batch_size=16, max_length=64, threads=1, seed=1
    )
    logged: dict = {}
    techniques = list(technique_ids())
    fine_tune(
        dataset_dict({"train": train, "dev": dev, "test": dev}),
        config,
        techniques,
        tmp_path / "model",
        log_epoch=lambda metrics, step: logged.update(metrics),
    )
    assert 0 < logged["probe_loss"] < 0.3 and 0 < logged["probe_span_loss"] < 0.3, logged

    # The scorer itself: span thresholds are tuned after fine_tune, by training.run.
    scorer = Predictor(tmp_path / "model").scorer
    column = techniques.index("name_calling")
    probs, tokens = scorer.predict([r["text"] for r in train])
    gold = np.array([bool(r["labels"]) for r in train], dtype=float)
    assert roc_auc_score(gold, probs[:, column]) > 0.95  # a constant scores 0.5

    text = train[1]["text"]  # "These traitors in the minister sold out our nation, ..."
    offsets, token_probs = tokens[1]
    best = int(np.argmax(token_probs[:, column]))
    assert text[offsets[best][0] : offsets[best][1]] in "traitors"
