"""Train both model families and print held-out quality per source, and wall time.

    python benchmarks/quality.py [--ptc DIR] [--epochs N] [--no-corpus] [--families ...]
                                 [--folds K [--only-folds K ...]] [--save-probs DIR]
                                 [--set OPTION=VALUE ...]

By default both families train on PTC plus the project's corpus (the transformer with
the options `propscan train transformer` would use, its encoder's recipe: see
`training/recipes.py`; its training time is also the timing check), and each is scored
on the held-out test split of each source separately. Splits are by document (hash of
doc_id, 80/10/10): test articles are never seen in training or threshold tuning. Runs go
to a throwaway MLflow store unless MLFLOW_TRACKING_URI is set.

One test split of PTC is about 40 articles, and a few articles carry a large share of
its labels, so its figures move by several points from one split to another. `--folds K`
cross-validates by document instead: K runs per family, each holding out a different
1/K of the documents (dev stays 10%, train gets the rest), and the figures are computed
over every document's held-out predictions pooled together. `--only-folds` runs some of
them; `benchmarks/pool_folds.py` pools the folds several such runs saved.

Beside the F1s of the decisions it prints how well the probabilities rank, which the
thresholds (tuned on a few dev articles) do not move: each technique's average precision,
averaged (mean AP), and that of "any technique" (any AP). With a span head (the
transformer's default) it also prints the span metrics of each test set: SI and TC of
SemEval-2020 task 11 and FLC of NLP4IF-2019.

Targets for the default transformer on held-out PTC, 5 folds: micro-F1 >= 0.41, macro-F1
>= 0.28, any_f1 >= 0.64 (issue #16); SI F1 >= 0.42, FLC F1 >= 0.22, TC micro-F1 >= 0.55
(issue #15); its training on PTC + corpus within 25 minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PTC = ROOT.parent / "shared" / "data" / "ptc-2020-train"


def split_probs(predictor, records: list[dict]):
    """The model's probabilities, gold labels and mask on the records of one split, and
    the per-token probabilities where the model has a span head."""
    from data.hf import build_dataset

    part = build_dataset(records)
    probs, tokens = predictor.predict(list(part["text"]))
    gold = np.array(part["labels"], dtype=np.float32)
    mask = np.array(part["label_mask"], dtype=np.float32)
    return probs, gold, mask, tokens


def pooled_span_metrics(outcomes: list[tuple]) -> dict[str, float]:
    """Span metrics over the (gold, predicted, TC guesses) of several folds pooled."""
    from training.span_scores import score_outcomes

    gold, predicted, guesses = (
        [x for part in column for x in part] for column in zip(*outcomes, strict=True)
    )
    return score_outcomes(gold, predicted, guesses)


def metrics_of(parts: list[tuple[np.ndarray, ...]]) -> dict[str, float]:
    """Metrics over the (decisions, probabilities, gold, mask) of one or more test splits
    pooled together: F1s of the decisions and how well the probabilities rank."""
    from data.techniques import technique_ids
    from training.metrics import compute_metrics, ranking_metrics

    decisions, probs, gold, mask = (np.concatenate(arrays) for arrays in zip(*parts, strict=True))
    metrics = compute_metrics(decisions, gold, mask, list(technique_ids()))
    return metrics | ranking_metrics(probs, gold, mask)


def family_config(family: str, data: list[str], epochs: float | None, overrides: list[str]):
    """The options `propscan train FAMILY` would build, with each OPTION=VALUE of --set
    given to the transformer as its flag, so values are typed and checked the same way."""
    from training.config import FAMILIES, add_arguments, build_config

    flags = ["--data", *data]
    if family == "transformer":
        flags += ["--epochs", str(epochs)] if epochs else []
        for item in overrides:
            key, value = item.split("=", 1)
            flags += [f"--{key.replace('_', '-')}", value]
    parser = argparse.ArgumentParser(prog=f"quality.py --set ({family})")
    add_arguments(parser, FAMILIES[family])
    return build_config(FAMILIES[family], parser.parse_args(flags))


def add_set_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--set",
        nargs="+",
        default=[],
        metavar="OPTION=VALUE",
        help="transformer options to override, e.g. learning_rate=1e-4 probe_epochs=0",
    )


def use_throwaway_store(prefix: str) -> None:
    """Track runs in a new temporary MLflow store (unless MLFLOW_TRACKING_URI is set) and
    work in its folder, where the runs' artifacts land."""
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    store = tempfile.mkdtemp(prefix=prefix)
    os.environ.setdefault("MLFLOW_TRACKING_URI", f"sqlite:///{store}/mlflow.db")
    os.chdir(store)


def fold_splits(folds: int) -> list[tuple[tuple[float, float, float], float]]:
    """(ratios, offset) per run: the standard split, or K folds with 10% dev."""
    from data.splits import DEFAULT_RATIOS

    if folds <= 1:
        return [(DEFAULT_RATIOS, 0.0)]
    test = 1 / folds
    return [((1 - 0.1 - test, 0.1, test), k * test) for k in range(folds)]


def source_name(spec: str) -> str:
    return "ptc" if spec.startswith("ptc:") else spec


def save_fold(directory: Path, family: str, fold: int, saved: dict, spans: dict) -> None:
    """FAMILY-foldK.npz (probabilities, labels, thresholds, seconds) and, with a span head,
    FAMILY-foldK-spans.json (each source's span outcomes): what pool_folds.py reads."""
    directory.mkdir(parents=True, exist_ok=True)
    np.savez(directory / f"{family}-fold{fold}.npz", **saved)
    if spans:
        (directory / f"{family}-fold{fold}-spans.json").write_text(json.dumps(spans, default=int))


def summary_rows(family: str, folds: list[dict]) -> tuple[list, list]:
    """The table rows of one family from its folds: each source's test parts pooled, and
    its span outcomes pooled."""
    rows, span_rows = [], []
    for source in folds[0]["parts"]:
        parts = [fold["parts"][source] for fold in folds]
        rows.append(
            (
                family,
                source,
                metrics_of(parts),
                sum(len(p[0]) for p in parts),
                np.mean([fold["train_seconds"] for fold in folds]),
                np.mean([fold["wall_seconds"] for fold in folds]),
            )
        )
        for kind in ("shown", "all runs"):
            outcomes = [fold["spans"][source][kind] for fold in folds if source in fold["spans"]]
            if len(outcomes) == len(folds):
                span_rows.append((family, source, kind, pooled_span_metrics(outcomes)))
    return rows, span_rows


def print_tables(heading: str, rows: list, span_rows: list, per_fold: bool) -> None:
    print(f"\n{heading}")
    print(
        f"{'family':12s} {'test set':9s} {'sentences':>9s} {'micro-F1':>9s} {'macro-F1':>9s} "
        f"{'any_f1':>7s} {'mean AP':>8s} {'any AP':>7s} {'train s':>8s} {'wall s':>7s}"
    )
    for family, name, m, sentences, train_s, wall in rows:
        print(
            f"{family:12s} {name:9s} {sentences:9d} {m['micro_f1']:9.3f} {m['macro_f1']:9.3f} "
            f"{m['any_f1']:7.3f} {m['mean_ap']:8.3f} {m['any_ap']:7.3f} {train_s:8.0f} "
            f"{wall:7.0f}"
        )
    print(
        "(mean AP: average precision per technique, averaged; any AP: for 'any technique'. "
        "They measure the ranking, which thresholds do not move)"
    )
    if per_fold:
        print("(train s and wall s: mean per fold)")
    if span_rows:
        print("\nspans (SemEval-2020 task 11 SI and TC, NLP4IF-2019 FLC), on the same test sets:")
        print(
            f"{'family':12s} {'test set':9s} {'spans':9s} {'SI P':>6s} {'SI R':>6s} {'SI F1':>6s} "
            f"{'FLC P':>6s} {'FLC R':>6s} {'FLC F1':>6s} {'TC F1':>6s}"
        )
        for family, name, kind, s in span_rows:
            print(
                f"{family:12s} {name:9s} {kind:9s} {s['si_precision']:6.3f} {s['si_recall']:6.3f} "
                f"{s['si_f1']:6.3f} {s['flc_precision']:6.3f} {s['flc_recall']:6.3f} "
                f"{s['flc_f1']:6.3f} {s['tc_micro_f1']:6.3f}"
            )
        print(
            "(shown: spans of the techniques a sentence reports, as users see them; "
            "all runs: every technique's runs over its span threshold, reported or not)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ptc", type=Path, default=DEFAULT_PTC)
    parser.add_argument(
        "--epochs", type=float, help="transformer epochs (default: the encoder's recipe)"
    )
    parser.add_argument("--no-corpus", action="store_true", help="train on PTC alone")
    parser.add_argument("--families", nargs="+", default=["baseline", "transformer"])
    parser.add_argument(
        "--folds", type=int, default=1, help="cross-validate by document over K folds"
    )
    parser.add_argument(
        "--only-folds",
        type=int,
        nargs="+",
        metavar="K",
        help="run only these of the folds (1 to --folds), e.g. to spread a slow encoder's "
        "cross-validation over several machines; benchmarks/pool_folds.py pools what "
        "--save-probs kept of each",
    )
    parser.add_argument(
        "--save-probs",
        type=Path,
        metavar="DIR",
        help="keep each run's dev and test probabilities, labels, thresholds and span "
        "outcomes here (FAMILY-foldK.npz, FAMILY-foldK-spans.json), to study decision rules "
        "or pool folds without training again",
    )
    add_set_option(parser)
    args = parser.parse_args()
    splits = fold_splits(args.folds)
    chosen = args.only_folds or range(1, len(splits) + 1)
    if not set(chosen) <= set(range(1, len(splits) + 1)):
        parser.error(f"--only-folds: folds are numbered 1 to {len(splits)}")
    args.ptc = args.ptc.resolve()  # before the chdir below
    args.save_probs = args.save_probs and args.save_probs.resolve()
    use_throwaway_store("propscan-bench-")

    from data.sources import load_specs_by_spec
    from data.splits import split_records
    from model.predictor import Predictor
    from training.run import train
    from training.span_scores import span_outcomes

    data = [f"ptc:{args.ptc}"] + ([] if args.no_corpus else ["corpus"])
    by_spec = load_specs_by_spec(data)
    rows, span_rows = [], []
    for family in args.families:
        config = family_config(family, data, args.epochs, args.set)
        folds = []
        for fold in chosen:
            ratios, offset = splits[fold - 1]
            started = time.perf_counter()
            result = train(
                replace(config, split_ratios=list(ratios), split_offset=offset),
                keep_dir=Path(tempfile.mkdtemp(prefix="propscan-bench-model-")),
            )
            wall_seconds = time.perf_counter() - started
            predictor = Predictor(result.folder)
            saved = {
                "techniques": np.array(predictor.techniques),
                "thresholds": predictor.thresholds,
                "any_threshold": predictor.meta.any_threshold,
                "train_seconds": result.train_seconds,
                "wall_seconds": wall_seconds,
            }
            found = {"parts": {}, "spans": {}} | {
                "train_seconds": result.train_seconds,
                "wall_seconds": wall_seconds,
            }
            for spec, records in by_spec.items():
                name = source_name(spec)
                parts = split_records(records, ratios, offset)
                probs, gold, mask, tokens = split_probs(predictor, parts["test"])
                found["parts"][name] = part = (predictor.decide(probs), probs, gold, mask)
                spans = ""
                if tokens is not None:
                    found["spans"][name] = {
                        kind: span_outcomes(predictor, parts["test"], probs, tokens, gated)
                        for kind, gated in (("shown", True), ("all runs", False))
                    }
                    s = pooled_span_metrics([found["spans"][name]["shown"]])
                    spans = (
                        f"  SI {s['si_f1']:.3f}  FLC {s['flc_f1']:.3f}  TC {s['tc_micro_f1']:.3f}"
                    )
                if args.save_probs:
                    dev = split_probs(predictor, parts["dev"])[:3]
                    for split, arrays in (("dev", dev), ("test", (probs, gold, mask))):
                        for kind, array in zip(("probs", "gold", "mask"), arrays, strict=True):
                            saved[f"{name}_{split}_{kind}"] = array
                m = metrics_of([part])
                print(
                    f"{family} fold {fold}/{len(splits)} on {name} "
                    f"test: micro-F1 {m['micro_f1']:.3f}  macro-F1 {m['macro_f1']:.3f}  "
                    f"any_f1 {m['any_f1']:.3f}  mean AP {m['mean_ap']:.3f}{spans}  "
                    f"({len(part[0])} sentences; train "
                    f"{result.train_seconds:.0f} s, wall {wall_seconds:.0f} s)",
                    flush=True,
                )
            if args.save_probs:
                save_fold(args.save_probs, family, fold, saved, found["spans"])
            folds.append(found)
        family_rows, family_span_rows = summary_rows(family, folds)
        rows += family_rows
        span_rows += family_span_rows

    scheme = (
        f"{args.folds}-fold cross-validation by document, held-out predictions pooled"
        if args.folds > 1
        else "each source's held-out test split"
    )
    if args.only_folds:
        scheme += f" (folds {', '.join(map(str, chosen))} only)"
    print_tables(
        f"trained on {' + '.join(data)}; scored on {scheme}", rows, span_rows, len(chosen) > 1
    )


if __name__ == "__main__":
    main()
