"""Comparing and promoting versions (the MLflow server and UI are in test_ui.py)."""

import pytest
from mlflow.tracking import MlflowClient

from training.cli import main
from training.evaluate import eval_set, evaluate
from training.registry import move_champion


@pytest.fixture(scope="module")
def evaluated(trained, small_data):
    """Both versions evaluated on one shared set."""
    data = eval_set(small_data, "test")
    return data, {
        family: evaluate(f"models:/propscan/{result.version}", data)
        for family, result in trained.items()
    }


def test_evaluations_share_set_and_metric_names(evaluated):
    data, results = evaluated
    client = MlflowClient()
    runs = [client.get_run(r.run_id) for r in results.values()]
    assert len({run.info.experiment_id for run in runs}) == 1
    digests = {run.data.tags["eval_digest"] for run in runs}
    assert len(digests) == 1
    assert all(i.dataset.digest in digests for run in runs for i in run.inputs.dataset_inputs)
    # Every family logs the same sentence metrics; the span metrics come with a span head.
    spans = {f"{kind}_{m}" for kind in ("si", "flc") for m in ("precision", "recall", "f1")}
    spans.add("tc_micro_f1")
    baseline, transformer = (set(run.data.metrics) for run in runs)
    assert baseline == transformer - spans and "f1/denial" in baseline
    assert spans <= transformer
    # Re-evaluating the same version on the same set reuses the logged run.
    version = runs[0].data.tags["model_version"]
    assert evaluate(f"models:/propscan/{version}", data).run_id == runs[0].info.run_id


def test_compare_reports_both_with_an_interval(trained, small_data, evaluated, capsys, tmp_path):
    a, b = trained["baseline"].version, trained["transformer"].version
    plot = tmp_path / "compare.png"
    assert main(["models", "compare", a, b, "--data", *small_data, "--plot", str(plot)]) == 0
    out = capsys.readouterr().out
    assert f"{'metric':32s} {a:>12s} {b:>12s}" in out
    assert "f1/loaded_language" in out and "95% CI" in out
    assert plot.stat().st_size > 10_000


def test_promote_refuses_worse_then_moves_aliases(trained, small_data, evaluated, capsys):
    _, results = evaluated
    base, tuned = trained["baseline"].version, trained["transformer"].version
    worse, better = (
        (tuned, base)
        if (results["transformer"].metrics["micro_f1"] < results["baseline"].metrics["micro_f1"])
        else (base, tuned)
    )
    client = MlflowClient()
    client.set_registered_model_alias("propscan", "champion", better)
    assert main(["models", "promote", worse, "--data", *small_data]) == 1
    assert "refused" in capsys.readouterr().out
    assert str(client.get_registered_model("propscan").aliases["champion"]) == better

    assert (
        main(["models", "promote", worse, "--data", *small_data, "--force", "--reason", "test run"])
        == 0
    )
    aliases = client.get_registered_model("propscan").aliases
    assert (str(aliases["champion"]), str(aliases["previous"])) == (worse, better)
    tags = client.get_model_version("propscan", worse).tags
    assert tags["promotion_reason"] == "test run" and tags["promoted_by"]
    assert tags["replaced_champion"] == better

    assert main(["models", "promote", better, "--data", *small_data]) == 0
    assert str(client.get_registered_model("propscan").aliases["champion"]) == better

    assert main(["models", "list"]) == 0
    listing = capsys.readouterr().out
    assert "champion" in listing and "previous" in listing and "transformer" in listing

    # A champion promoted by someone else while this one was evaluated is not replaced.
    with pytest.raises(ValueError, match="the champion changed from 99 to"):
        move_champion(client, "propscan", worse, "late", "stale evidence", expected="99")
    assert str(client.get_registered_model("propscan").aliases["champion"]) == better


def test_a_version_trained_on_another_split_is_flagged_and_kept_apart(
    trained, small_data, evaluated, capsys
):
    """A cross-validation fold's model (offset 0.2) trained on some of this test split; and
    its version 1 of another registered model is not confused with propscan's version 1."""
    from training.config import BaselineConfig
    from training.run import train

    data, results = evaluated
    config = BaselineConfig(
        data=small_data, experiment="propscan/test", registered_model="fold2", split_offset=0.2
    )
    assert train(config).version == trained["baseline"].version == "1"
    fold = evaluate("models:/fold2/1", data)
    assert fold.run_id != results["baseline"].run_id
    assert "may be in its training data" in fold.caveat
    assert results["baseline"].caveat is None
    assert main(["evaluate", "models:/fold2/1", "--data", *small_data]) == 0
    assert "warning: version 1 was trained with split ratios" in capsys.readouterr().out
