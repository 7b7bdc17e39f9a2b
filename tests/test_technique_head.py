"""The technique head: a logistic regression folded into one linear layer, fed the mean
token vector of each span, saved with the model and used for TC."""

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
from transformers import AutoTokenizer, BertConfig, BertModel

from model.classifier import TECHNIQUE_HEAD_FILE, MeanPoolingClassifier
from model.technique_head import NEVER, span_vectors, technique_scores
from training.transformer import fit_technique_head, resolve_base_model


def clusters(n_classes: int, seed: int = 0) -> tuple[np.ndarray, list[int]]:
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 3, (n_classes, 8))
    labels = [int(c) for c in rng.integers(0, n_classes, 300)]
    return centres[labels] + rng.normal(0, 2, (300, 8)), labels


@pytest.mark.parametrize("n_classes", [2, 4])
def test_folded_head_predicts_what_the_regression_predicts(n_classes):
    vectors, labels = clusters(n_classes)
    labels = [2 * k + 1 for k in labels]  # techniques 1, 3, 5, 7 of 9: the rest never
    head = fit_technique_head(vectors, labels, n_labels=9)
    scaler = StandardScaler().fit(vectors)
    regression = LogisticRegression(C=0.01, max_iter=1000).fit(scaler.transform(vectors), labels)
    test, _ = clusters(n_classes, seed=1)
    scores = technique_scores(head, test.astype(np.float32))
    assert scores.shape == (300, 9)
    assert list(scores.argmax(1)) == list(regression.predict(scaler.transform(test)))
    assert np.all(scores[:, ::2] == NEVER)  # techniques without training spans


def test_one_technique_gives_no_head():
    vectors, _ = clusters(2)
    assert fit_technique_head(vectors, [3] * len(vectors), n_labels=5) is None


def test_span_vector_is_the_mean_of_the_tokens_it_overlaps():
    tokenizer = AutoTokenizer.from_pretrained(resolve_base_model("all-MiniLM-L6-v2"))
    encoder = BertModel(
        BertConfig(
            vocab_size=tokenizer.vocab_size,
            hidden_size=16,
            num_hidden_layers=1,
            num_attention_heads=2,
            intermediate_size=32,
        )
    ).eval()
    texts = ["A short one.", "Corrupt elites rob the honest worker."]
    spans = [(1, 0, 14), (0, 2, 7), (1, 35, 36)]  # "Corrupt elites", "short", "."
    vectors = span_vectors(encoder, tokenizer, texts, spans, max_length=32)
    for row, (text, start, end) in enumerate(spans):
        encoded = tokenizer(texts[text], return_offsets_mapping=True, return_tensors="pt")
        offsets = encoded.pop("offset_mapping")[0]
        with torch.no_grad():
            hidden = encoder(**encoded).last_hidden_state[0]
        inside = (offsets[:, 0] < end) & (offsets[:, 1] > start) & (offsets[:, 1] > offsets[:, 0])
        assert inside.sum() >= 1
        np.testing.assert_allclose(vectors[row], hidden[inside].mean(0).numpy(), atol=1e-5)


def test_saved_with_the_model_and_loaded_back(tmp_path):
    base = resolve_base_model("all-MiniLM-L6-v2")
    model = MeanPoolingClassifier.from_encoder(base, num_labels=3)
    model.save(tmp_path)
    assert MeanPoolingClassifier.load(tmp_path).technique_classifier is None  # older folders
    vectors, labels = clusters(3)
    model.technique_classifier = fit_technique_head(
        np.hstack([vectors] * 48), labels, n_labels=3
    )  # 384 dimensions, as MiniLM's
    model.save(tmp_path)
    loaded = MeanPoolingClassifier.load(tmp_path).technique_classifier
    assert torch.equal(loaded.weight, model.technique_classifier.weight)
    (tmp_path / TECHNIQUE_HEAD_FILE).write_bytes(b"not a safetensors file")
    with pytest.raises(ValueError, match=TECHNIQUE_HEAD_FILE):
        MeanPoolingClassifier.load(tmp_path)
