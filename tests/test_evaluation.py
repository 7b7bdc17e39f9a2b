"""Metrics with masks, thresholds that serve micro-F1, and the top-technique rule."""

import numpy as np

from model.decision import decide
from training.compare import paired_bootstrap
from training.evaluate import Evaluation
from training.metrics import compute_metrics, ranking_metrics
from training.thresholds import bagged_thresholds, tune_any_threshold, tune_thresholds

TECHS = ["a", "b", "c", "d"]


def synthetic(seed=0, n=2000):
    rng = np.random.default_rng(seed)
    gold = (rng.random((n, 4)) < [0.2, 0.1, 0.03, 0.02]).astype(np.float32)
    probs = np.clip(
        gold * rng.normal(0.6, 0.2, (n, 4)) + (1 - gold) * rng.normal(0.3, 0.2, (n, 4)), 0, 1
    )
    probs[:, 3] = rng.random(n)  # a useless classifier
    return probs, gold, np.ones_like(gold)


def test_masked_cells_do_not_count():
    probs = np.array([[0.9, 0.9], [0.1, 0.9]], dtype=np.float32)
    gold = np.array([[1, 0], [0, 0]], dtype=np.float32)
    mask = np.array([[1, 0], [1, 0]], dtype=np.float32)  # technique 2 not annotated
    m = compute_metrics(decide(probs, np.array([0.5, 0.5])), gold, mask, ["x", "y"])
    assert m["micro_f1"] == 1.0 and m["any_f1"] == 1.0
    assert m["precision/y"] == 0.0 and m["macro_f1"] == 1.0  # y has no annotated positive


def test_ranking_metrics_on_a_case_worked_by_hand():
    """Technique 0 ranks positive, negative, positive, negative: AP (1/1 + 2/3) / 2 = 5/6.
    Technique 1 is annotated on the first two sentences only (as PTC lacks a technique), P
    then N: AP 1, whatever the unannotated third sentence scores. Technique 2 has no
    positive and stays out of the mean. "Any": highest annotated scores 0.9 (P), 0.8 (N),
    0.5 (P), 0.5 (N), so precision 1 at recall 0.5, then 2/4 at recall 1: AP 0.75 (with
    the unannotated 0.99 counted it would be 1)."""
    probs = np.array([[0.9, 0.6, 0.5], [0.8, 0.2, 0.5], [0.3, 0.99, 0.5], [0.1, 0.1, 0.5]])
    gold = np.array([[1, 1, 0], [0, 0, 0], [1, 0, 0], [0, 0, 0]])
    mask = np.array([[1, 1, 1], [1, 1, 1], [1, 0, 1], [1, 0, 1]])
    ranking = ranking_metrics(probs, gold, mask)
    assert np.isclose(ranking["mean_ap"], (5 / 6 + 1) / 2)
    assert np.isclose(ranking["any_ap"], 0.75)


def test_tuned_thresholds_beat_a_fixed_one_and_silence_noise():
    probs, gold, mask = synthetic()
    th = tune_thresholds(probs, gold, mask)
    tuned = compute_metrics(decide(probs, th), gold, mask, TECHS)["micro_f1"]
    fixed = compute_metrics(probs >= 0.5, gold, mask, TECHS)["micro_f1"]
    assert tuned > fixed
    assert th[3] == 1.0  # the useless technique is switched off
    # and the thresholds carry over to fresh data from the same distribution
    probs2, gold2, mask2 = synthetic(seed=1)
    assert compute_metrics(decide(probs2, th), gold2, mask2, TECHS)["micro_f1"] > fixed - 0.02


def rare_techniques(seed: int, n: int):
    """Techniques from common (30% of sentences) to rare (1%), each ranked moderately well."""
    rng = np.random.default_rng(seed)
    gold = (rng.random((n, 4)) < [0.3, 0.1, 0.02, 0.01]).astype(np.float32)
    noise = rng.normal(0.3, 0.15, gold.shape)
    probs = np.clip(gold * rng.normal(0.35, 0.2, gold.shape) + noise, 0, 1).astype(np.float32)
    return probs, gold, np.ones_like(gold)


def test_bagged_thresholds_vary_less_between_dev_sets_and_carry_over_better():
    """Twenty small dev sets (400 sentences: 4 to 8 of the rarest technique) from the same
    distribution, each tuned once and bagged, scored on one large fresh set."""
    fresh = rare_techniques(seed=100, n=20_000)
    once, bagged, gains = [], [], []
    for seed in range(20):
        dev = rare_techniques(seed, n=400)
        once.append(tune_thresholds(*dev))
        bagged.append(bagged_thresholds(*dev))
        scored = [
            compute_metrics(decide(fresh[0], th), fresh[1], fresh[2], TECHS)["macro_f1"]
            for th in (once[-1], bagged[-1])
        ]
        gains.append(scored[1] - scored[0])
    assert (np.std(bagged, axis=0) < np.std(once, axis=0)).all()
    assert np.mean(gains) > 0.005
    np.testing.assert_array_equal(bagged[-1], bagged_thresholds(*dev))  # reproducible


def test_a_switched_off_technique_stays_off_even_at_probability_one():
    probs = np.array([[1.0, 1.0]], dtype=np.float32)  # a saturated sigmoid
    gold = np.array([[1, 0]], dtype=np.float32)
    m = compute_metrics(decide(probs, np.array([0.5, 1.0])), gold, np.ones_like(gold), ["x", "y"])
    assert m["precision/x"] == 1.0 and m["micro_precision"] == 1.0  # y never fires


def test_a_technique_without_dev_positives_keeps_the_global_threshold():
    probs, gold, mask = synthetic()
    gold[:, 2] = 0  # no dev example of technique c: no evidence to switch it off
    th = tune_thresholds(probs, gold, mask)
    assert th[2] < 1.0 and th[3] == 1.0


def test_the_top_technique_rule_reports_one_technique_and_never_a_switched_off_one():
    thresholds = np.array([0.8, 0.8, 1.0])
    probs = np.array(
        [
            [0.5, 0.6, 0.1],  # nothing over its threshold, top 0.6: report b
            [0.9, 0.6, 0.1],  # a over its threshold; b is not the top, so only a
            [0.3, 0.2, 0.1],  # top under any_threshold: nothing
            [0.1, 0.2, 0.99],  # c is off: its 0.99 reports nothing, the live top is 0.2
        ]
    )
    assert decide(probs, thresholds, 0.5).tolist() == [
        [False, True, False],
        [True, False, False],
        [False, False, False],
        [False, False, False],
    ]
    np.testing.assert_array_equal(decide(probs, thresholds), probs >= [0.8, 0.8, 2.0])


def one_technique_each(seed: int, n: int = 2000):
    """A sentence in three carries one technique; every probability runs low, so each
    technique's own threshold misses many sentences that the top probability still finds."""
    rng = np.random.default_rng(seed)
    carries = rng.random(n) < 0.3
    gold = np.zeros((n, 4), dtype=np.float32)
    gold[carries, rng.integers(0, 4, carries.sum())] = 1
    probs = np.clip(
        gold * rng.normal(0.45, 0.15, gold.shape) + rng.normal(0.15, 0.1, gold.shape), 0, 1
    )
    return probs, gold, np.ones_like(gold)


def test_the_top_technique_threshold_tuned_on_dev_helps_on_fresh_data_or_stays_off():
    dev = one_technique_each(seed=0)
    th = tune_thresholds(*dev)
    value = tune_any_threshold(*dev, th)
    assert value < 1.0
    probs, gold, mask = one_technique_each(seed=1)
    with_rule = compute_metrics(decide(probs, th, value), gold, mask, TECHS)
    without = compute_metrics(decide(probs, th), gold, mask, TECHS)
    assert with_rule["any_f1"] > without["any_f1"]
    assert with_rule["micro_f1"] >= without["micro_f1"]
    # Where the techniques' own thresholds already find every sentence that carries one,
    # the rule could only add false alarms, and it stays off.
    _, gold, mask = dev
    clear = np.where(gold > 0, 0.9, np.random.default_rng(2).uniform(0, 0.6, gold.shape))
    assert tune_any_threshold(clear, gold, mask, np.full(4, 0.7)) == 1.0


def test_bootstrap_sees_a_real_difference_and_no_difference():
    rng = np.random.default_rng(0)
    docs = np.repeat(np.arange(60).astype(str), 20)
    gold = (rng.random((1200, 3)) < 0.2).astype(np.int8)
    mask = np.ones_like(gold)
    good = np.where(rng.random(gold.shape) < 0.9, gold, 1 - gold).astype(np.int8)
    bad = np.where(rng.random(gold.shape) < 0.7, gold, 1 - gold).astype(np.int8)
    a = Evaluation("a", {}, docs, bad, gold, mask)
    b = Evaluation("b", {}, docs, good, gold, mask)
    boot = paired_bootstrap(a, b)
    assert boot["low"] > 0 and boot["p_not_better"] < 0.01
    same = paired_bootstrap(a, Evaluation("c", {}, docs, bad, gold, mask))
    assert same["low"] <= 0 <= same["high"]
