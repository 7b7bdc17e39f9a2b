"""The technique head: a logistic regression folded into one linear layer, fed the mean
token vector of each span and its length and repetition facts, saved with the model and
used for TC."""

import numpy as np
import pytest
import torch
from safetensors.torch import save_file
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
from transformers import AutoTokenizer, BertConfig, BertModel

from model.classifier import TECHNIQUE_HEAD_FILE, MeanPoolingClassifier
from model.technique_head import (
    N_FACTS,
    NEVER,
    length_facts,
    repetition_facts,
    span_features,
    span_vectors,
    technique_scores,
)
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
    model = MeanPoolingClassifier(encoder, num_labels=3).eval()
    vectors, sizes = span_vectors(model, tokenizer, texts, spans, max_length=32)
    for row, (text, start, end) in enumerate(spans):
        encoded = tokenizer(texts[text], return_offsets_mapping=True, return_tensors="pt")
        offsets = encoded.pop("offset_mapping")[0]
        with torch.no_grad():
            hidden = encoder(**encoded).last_hidden_state[0]
        inside = (offsets[:, 0] < end) & (offsets[:, 1] > start) & (offsets[:, 1] > offsets[:, 0])
        assert inside.sum() >= 1
        np.testing.assert_allclose(vectors[row], hidden[inside].mean(0).numpy(), atol=1e-5)
        assert list(sizes[row]) == [inside.sum(), (offsets[:, 1] > offsets[:, 0]).sum()]
    features = span_features(model, tokenizer, texts, ["a", "b"], spans, max_length=32)
    assert features.shape == (3, 16 + N_FACTS)
    np.testing.assert_allclose(features[:, :16], vectors)


def test_length_facts():
    # 14 characters over 2 of 8 tokens; 1 character, 1 of 4
    facts = length_facts([(0, 0, 14), (1, 3, 4)], np.array([[2, 8], [1, 4]]))
    np.testing.assert_allclose(facts, [[np.log(15), np.log(2), 0.25], [np.log(2), 0, 0.25]])


def test_repetition_facts_read_the_article_of_the_span():
    texts = [
        "Jobs, jobs, jobs: that is the plan.",
        "The plan brings jobs.",
        "Another paper says jobs too.",
        "Honest workers deserve better.",
    ]
    doc_ids = ["a", "a", "b", "a"]
    spans = [
        (0, 0, 16),  # "Jobs, jobs, jobs": once in the article, its word in another text
        (0, 0, 4),  # "Jobs": 3 more times in the article (the other document's not counted)
        (3, 0, 14),  # "Honest workers": nowhere else
        (1, 4, 14),  # "plan brings": "plan" in text 0, "brings" nowhere else
        (1, 20, 21),  # ".": twice more in the article, no word of 4+ letters
    ]
    facts = repetition_facts(texts, doc_ids, spans)
    np.testing.assert_allclose(
        facts,
        [
            [0, 0, 1.0],
            [np.log(4), 1, 1.0],
            [0, 0, 0.0],
            [0, 0, 0.5],
            [np.log(3), 1, 0.0],
        ],
    )


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
    with_facts = np.hstack([vectors] * 48 + [vectors[:, :N_FACTS]])
    model.technique_classifier = fit_technique_head(with_facts, labels, n_labels=3)
    model.save(tmp_path)
    loaded = MeanPoolingClassifier.load(tmp_path).technique_classifier
    assert torch.equal(loaded.weight, model.technique_classifier.weight)
    # a head from before the facts reads the mean vector: the features' first columns
    old = fit_technique_head(np.hstack([vectors] * 48), labels, n_labels=3)
    features = with_facts.astype(np.float32)
    assert np.array_equal(technique_scores(old, features), technique_scores(old, features[:, :384]))
    save_file(
        {"weight": torch.zeros(3, 390 + N_FACTS), "bias": torch.zeros(3)},
        str(tmp_path / TECHNIQUE_HEAD_FILE),
    )
    with pytest.raises(ValueError, match="inputs"):
        MeanPoolingClassifier.load(tmp_path)
    (tmp_path / TECHNIQUE_HEAD_FILE).write_bytes(b"not a safetensors file")
    with pytest.raises(ValueError, match=TECHNIQUE_HEAD_FILE):
        MeanPoolingClassifier.load(tmp_path)
