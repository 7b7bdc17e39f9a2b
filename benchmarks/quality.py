"""Train both model families and print held-out quality per source, and wall time.

    python benchmarks/quality.py [--ptc DIR] [--epochs 3] [--no-corpus] [--families ...]

By default both families train on PTC plus the project's corpus (the transformer for 3
epochs, which is also the timing check), and each is scored on the held-out test split
of each source separately. Splits are by document (hash of doc_id, 80/10/10): test
articles are never seen in training or threshold tuning. Runs go to a throwaway MLflow
store unless MLFLOW_TRACKING_URI is set.

Targets for the fine-tuned MiniLM on held-out PTC sentences: micro-F1 >= 0.38,
macro-F1 >= 0.25, any_f1 >= 0.65; 3 epochs on PTC + corpus within 25 minutes.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PTC = ROOT.parent / "shared" / "data" / "ptc-2020-train"


def held_out_metrics(folder: Path, records: list[dict]) -> dict[str, float]:
    from data.hf import build_dataset
    from data.splits import split_records
    from model.predictor import Predictor
    from training.evaluation import compute_metrics

    test = build_dataset(split_records(records)["test"])
    predictor = Predictor(folder)
    probs = predictor.predict_proba(list(test["text"]))
    gold = np.array(test["labels"], dtype=np.float32)
    mask = np.array(test["label_mask"], dtype=np.float32)
    return compute_metrics(probs, gold, mask, predictor.thresholds, predictor.techniques)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ptc", type=Path, default=DEFAULT_PTC)
    parser.add_argument("--epochs", type=float, default=3.0)
    parser.add_argument("--no-corpus", action="store_true", help="train on PTC alone")
    parser.add_argument("--families", nargs="+", default=["baseline", "transformer"])
    parser.add_argument(
        "--set",
        nargs="+",
        default=[],
        metavar="OPTION=VALUE",
        help="transformer options to override, e.g. learning_rate=1e-4 batch_size=16",
    )
    args = parser.parse_args()

    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    store = tempfile.mkdtemp(prefix="propscan-bench-")
    os.environ.setdefault("MLFLOW_TRACKING_URI", f"sqlite:///{store}/mlflow.db")
    os.chdir(store)  # artifacts of the throwaway store land here

    from data.sources import load_specs_by_spec
    from training.config import BaselineConfig, TransformerConfig
    from training.train import train

    data = [f"ptc:{args.ptc}"] + ([] if args.no_corpus else ["corpus"])
    by_spec = load_specs_by_spec(data)
    rows = []
    for family in args.families:
        if family == "baseline":
            config = BaselineConfig(data=data)
        else:
            overrides = dict(item.split("=", 1) for item in args.set)
            config = TransformerConfig(data=data, epochs=args.epochs)
            for key, value in overrides.items():
                setattr(config, key, type(getattr(config, key))(value))
        started = time.perf_counter()
        result = train(config)
        wall = time.perf_counter() - started
        for spec, records in by_spec.items():
            m = held_out_metrics(result.folder, records)
            name = "ptc" if spec.startswith("ptc:") else spec
            rows.append((family, name, m, result.train_seconds, wall))
            print(
                f"{family} on {name} test: micro-F1 {m['micro_f1']:.3f}  macro-F1 "
                f"{m['macro_f1']:.3f}  any_f1 {m['any_f1']:.3f}  (train {result.train_seconds:.0f}"
                f" s, wall {wall:.0f} s)",
                flush=True,
            )

    print(f"\ntrained on {' + '.join(data)}; scored on each source's held-out test split")
    print(
        f"{'family':12s} {'test set':9s} {'micro-F1':>9s} {'macro-F1':>9s} {'any_f1':>7s} "
        f"{'train s':>8s} {'wall s':>7s}"
    )
    for family, name, m, train_s, wall in rows:
        print(
            f"{family:12s} {name:9s} {m['micro_f1']:9.3f} {m['macro_f1']:9.3f} "
            f"{m['any_f1']:7.3f} {train_s:8.0f} {wall:7.0f}"
        )


if __name__ == "__main__":
    main()
