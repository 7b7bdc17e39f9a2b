"""The optimiser's groups: which parameters learn at which rate, with what decay."""

from transformers import BertConfig, BertModel

from model.classifier import MeanPoolingClassifier
from training.config import TransformerConfig
from training.transformer import parameter_groups


def test_sentence_head_at_head_rate_span_head_at_encoder_rate():
    """As measured (see parameter_groups): only the sentence head gets the head's rate."""
    encoder = BertModel(
        BertConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64)
    )
    model = MeanPoolingClassifier(encoder, num_labels=3)
    config = TransformerConfig(learning_rate=1e-4, head_learning_rate=2e-3, weight_decay=0.1)
    groups = parameter_groups(model, config)
    rate = {id(p): (g["lr"], g["weight_decay"]) for g in groups for p in g["params"]}
    assert len(rate) == len(list(model.parameters()))  # each parameter in one group
    assert rate[id(model.classifier.weight)] == (2e-3, 0.1)
    assert rate[id(model.classifier.bias)] == (2e-3, 0.0)
    assert rate[id(model.span_classifier.weight)] == (1e-4, 0.1)
    assert rate[id(encoder.embeddings.word_embeddings.weight)] == (1e-4, 0.1)
    assert rate[id(encoder.embeddings.LayerNorm.weight)] == (1e-4, 0.0)
