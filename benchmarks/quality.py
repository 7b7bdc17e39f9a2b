"""Train both model families on PTC and print held-out quality and wall time.

    python benchmarks/quality.py [--ptc DIR] [--epochs 3] [--with-corpus] [--families ...]

Splits are by document (hash of doc_id, 80/10/10): the test articles are never seen in
training or threshold tuning. Runs go to a throwaway MLflow store unless
MLFLOW_TRACKING_URI is set. Targets for the fine-tuned MiniLM on held-out PTC sentences:
micro-F1 >= 0.38, macro-F1 >= 0.25, any_f1 >= 0.65.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PTC = ROOT.parent / "shared" / "data" / "ptc-2020-train"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ptc", type=Path, default=DEFAULT_PTC)
    parser.add_argument("--epochs", type=float, default=3.0)
    parser.add_argument("--with-corpus", action="store_true", help="train on PTC + corpus")
    parser.add_argument("--families", nargs="+", default=["baseline", "transformer"])
    parser.add_argument("--threads", type=int, default=0)
    args = parser.parse_args()

    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    store = tempfile.mkdtemp(prefix="propscan-bench-")
    os.environ.setdefault("MLFLOW_TRACKING_URI", f"sqlite:///{store}/mlflow.db")
    os.chdir(store)  # artifacts of the throwaway store land here

    from training.config import BaselineConfig, TransformerConfig
    from training.train import train

    data = [f"ptc:{args.ptc}"] + (["corpus"] if args.with_corpus else [])
    rows = []
    for family in args.families:
        if family == "baseline":
            config = BaselineConfig(data=data)
        else:
            config = TransformerConfig(data=data, epochs=args.epochs, threads=args.threads)
        started = time.perf_counter()
        result = train(config)
        wall = time.perf_counter() - started
        m = result.test_metrics
        rows.append((family, m["micro_f1"], m["macro_f1"], m["any_f1"], result.train_seconds, wall))
        print(
            f"{family}: micro-F1 {m['micro_f1']:.3f}  macro-F1 {m['macro_f1']:.3f}  "
            f"any_f1 {m['any_f1']:.3f}  train {result.train_seconds:.0f} s  wall {wall:.0f} s",
            flush=True,
        )

    print(f"\nheld-out test split of {' + '.join(data)}")
    print(
        f"{'family':12s} {'micro-F1':>9s} {'macro-F1':>9s} {'any_f1':>7s} {'train s':>8s} "
        f"{'wall s':>7s}"
    )
    for family, micro, macro, anyf, train_s, wall in rows:
        print(f"{family:12s} {micro:9.3f} {macro:9.3f} {anyf:7.3f} {train_s:8.0f} {wall:7.0f}")


if __name__ == "__main__":
    main()
