"""A technique a source does not annotate gets no gradient from that source's records."""

import numpy as np
import torch
from transformers import AutoTokenizer

from data.records import annotated_techniques
from data.techniques import technique_ids
from model.classifier import MeanPoolingClassifier
from training.transformer import MaskedTrainer, masked_bce, positive_weights, resolve_base_model


def test_masked_cells_get_no_gradient():
    ids = technique_ids()
    logits = torch.randn(4, len(ids), requires_grad=True)
    labels = torch.zeros(4, len(ids))
    mask = torch.tensor([[float(t in annotated_techniques("ptc")) for t in ids]] * 4)
    masked_bce(logits, labels, mask, torch.ones(len(ids))).backward()
    denial = ids.index("denial")
    assert torch.all(logits.grad[:, denial] == 0)
    assert torch.all(logits.grad[:, ids.index("doubt")] != 0)


def test_ptc_batch_leaves_the_denial_head_untouched():
    """Through the real MiniLM and the trainer's loss: the sentence and span head rows of
    the techniques PTC does not annotate receive exactly zero gradient from a PTC batch."""
    ids = technique_ids()
    base = resolve_base_model("all-MiniLM-L6-v2")
    tokenizer = AutoTokenizer.from_pretrained(base)
    model = MeanPoolingClassifier.from_encoder(base, len(ids))
    batch = dict(
        tokenizer(["They deny everything.", "A calm report."], padding=True, return_tensors="pt")
    )
    batch["labels"] = torch.zeros(2, len(ids))
    batch["label_mask"] = torch.tensor([[float(t in annotated_techniques("ptc")) for t in ids]] * 2)
    batch["token_labels"] = torch.zeros(*batch["input_ids"].shape, len(ids))
    batch["token_mask"] = batch["attention_mask"].float()
    trainer = MaskedTrainer.__new__(MaskedTrainer)  # only compute_loss is exercised
    trainer.pos_weight, trainer.span_weight = torch.ones(len(ids)), 1.0
    MaskedTrainer.compute_loss(trainer, model, batch).backward()
    for head in (model.classifier, model.span_classifier):
        grad = head.weight.grad
        for tech in ("denial", "unsupported_claim"):
            assert torch.all(grad[ids.index(tech)] == 0)
        assert grad[ids.index("loaded_language")].abs().sum() > 0


def test_positive_weights_favour_rare_techniques():
    targets = np.zeros((100, 3), dtype=np.float32)
    targets[:50, 0] = 1
    targets[:4, 1] = 1
    mask = np.ones_like(targets)
    weights = positive_weights(targets, mask, cap=10.0)
    assert weights[0] == 1.0
    assert weights[1] > 4
    assert weights[2] == 1.0  # no positives: no weighting
