"""A technique a source does not annotate gets no gradient from that source's records."""

import numpy as np
import pytest
import torch
from transformers import AutoTokenizer

from data.records import annotated_techniques
from data.techniques import technique_ids
from model.classifier import MeanPoolingClassifier
from training.config import TransformerConfig
from training.losses import (
    masked_bce,
    positive_weights,
    sentence_technique_loss,
    span_technique_loss,
)
from training.transformer import MaskedTrainer, resolve_base_model


def test_masked_cells_get_no_gradient():
    ids = technique_ids()
    logits = torch.randn(4, len(ids), requires_grad=True)
    labels = torch.zeros(4, len(ids))
    mask = torch.tensor([[float(t in annotated_techniques("ptc")) for t in ids]] * 4)
    masked_bce(logits, labels, mask, torch.ones(len(ids))).backward()
    denial = ids.index("denial")
    assert torch.all(logits.grad[:, denial] == 0)
    assert torch.all(logits.grad[:, ids.index("doubt")] != 0)


@pytest.mark.parametrize("bf16", [False, True])
def test_ptc_batch_leaves_the_denial_head_untouched(bf16):
    """Through the real MiniLM and the trainer's loss: the sentence and span head rows of
    the techniques PTC does not annotate receive exactly zero gradient from a PTC batch,
    in bf16 autocast (`--precision bf16`) as in fp32."""
    ids = technique_ids()
    base = resolve_base_model("all-MiniLM-L6-v2")
    tokenizer = AutoTokenizer.from_pretrained(base)
    model = MeanPoolingClassifier.from_encoder(base, len(ids))
    batch = dict(
        tokenizer(["They deny everything.", "A calm report."], padding=True, return_tensors="pt")
    )
    batch["labels"] = torch.zeros(2, len(ids))
    batch["labels"][0, ids.index("loaded_language")] = 1.0
    batch["label_mask"] = torch.tensor([[float(t in annotated_techniques("ptc")) for t in ids]] * 2)
    batch["token_labels"] = torch.zeros(*batch["input_ids"].shape, len(ids))
    batch["token_mask"] = batch["attention_mask"].float()
    batch["span_tokens"] = torch.tensor([[0, ids.index("loaded_language"), 1, 3]])
    trainer = MaskedTrainer.__new__(MaskedTrainer)  # only compute_loss is exercised
    trainer.pos_weight, trainer.span_weight = torch.ones(len(ids)), 1.0
    trainer.sentence_technique_weight = trainer.span_technique_weight = 1.0
    trainer.bf16 = bf16
    loss, outputs = MaskedTrainer.compute_loss(trainer, model, batch, return_outputs=True)
    assert outputs.logits.dtype == (torch.bfloat16 if bf16 else torch.float32)
    assert loss.dtype == torch.float32  # the losses themselves stay fp32
    loss.backward()
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


def test_span_technique_loss_on_a_case_worked_by_hand():
    """One span over tokens 1-2 of technique 0; its source annotates techniques 0 and 1
    only. Mean logits over the span (1, 0, 5); technique 2 is masked out, so the loss is
    -log(e^1 / (e^1 + e^0)) = log(1 + e^-1) = 0.3133, and technique 2 gets no gradient."""
    token_logits = torch.tensor(
        [[[9.0, 9.0, 9.0], [2.0, 0.0, 5.0], [0.0, 0.0, 5.0], [9.0, 9.0, 9.0]]], requires_grad=True
    )
    mask = torch.tensor([[1.0, 1.0, 0.0]])
    loss = span_technique_loss(token_logits, torch.tensor([[0, 0, 1, 3]]), mask)
    assert loss.item() == pytest.approx(np.log1p(np.exp(-1.0)), abs=1e-4)
    loss.backward()
    assert torch.all(token_logits.grad[0, :, 2] == 0)
    assert torch.all(token_logits.grad[0, [0, 3]] == 0)  # tokens outside the span
    assert token_logits.grad[0, 1, 0] < 0  # the gold technique is pushed up


def test_a_batch_without_spans_adds_no_technique_loss():
    token_logits = torch.randn(2, 4, 3, requires_grad=True)
    loss = span_technique_loss(token_logits, torch.zeros(0, 4, dtype=torch.long), torch.ones(2, 3))
    assert loss.item() == 0.0


def test_sentence_technique_loss_on_a_case_worked_by_hand():
    """Sentence 0 carries techniques 0 and 2, but its source does not annotate 2: the
    target is technique 0 alone, among logits (1, 0); -log(e^1 / (e^1 + e^0)) = 0.3133.
    Sentence 1 carries none and adds nothing; sentence 2 carries 0 and 1 equally, with
    equal logits: -(1/2)(log 1/3 + log 1/3) = log 3 = 1.0986. The mean is 0.7060."""
    logits = torch.tensor([[1.0, 0.0, 5.0], [3.0, 0.0, 0.0], [0.0, 0.0, 0.0]], requires_grad=True)
    labels = torch.tensor([[1.0, 0.0, 1.0], [0.0, 0.0, 0.0], [1.0, 1.0, 0.0]])
    mask = torch.tensor([[1.0, 1.0, 0.0], [1.0, 1.0, 1.0], [1.0, 1.0, 1.0]])
    loss = sentence_technique_loss(logits, labels, mask)
    assert loss.item() == pytest.approx((np.log1p(np.exp(-1.0)) + np.log(3)) / 2, abs=1e-4)
    loss.backward()
    assert torch.all(logits.grad[1] == 0)  # no technique: no softmax loss
    assert logits.grad[0, 2] == 0  # not annotated by its source


def test_the_span_technique_loss_without_a_span_head_is_refused():
    with pytest.raises(ValueError, match="--span-loss-weight"):
        TransformerConfig(span_loss_weight=0.0, span_technique_loss_weight=0.2)
