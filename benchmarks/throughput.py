"""Sentences per second: propscan's Predictor against plain per-sentence scoring.

    python benchmarks/throughput.py [--model FOLDER_OR_URI] [--articles DIR] [--limit N]

Both score the same sentences (the 400 unlabeled OpenWebText articles, segmented by
propscan) with the same fine-tuned MiniLM weights, side by side in one run. The plain
side does what `pipeline("text-classification")` does by default: one sentence per
forward pass, truncated at the encoder's limit. (The pipeline itself cannot load the
mean-pooling network, so its loop is written out here, minus its Python overhead: the
comparison is, if anything, generous to it.) Without --model, a MiniLM is fine-tuned for
a few steps on the corpus first (speed does not depend on how well the weights were
trained). Target: >= 2x the plain loop and >= 120 sentences per second on 2 cores; int8
(model.quantize) >= 1.6x fp32, measured in the same run; bf16 (fastest on CPUs with AMX)
scored end to end, with spans, >= 3x the plain loop (the decisions of both are compared
with fp32's in benchmarks/precision_guard.py).

Then Spark (`propscan score --engine spark`, JSONL in, Parquet out) on local[1] and
local[2] (--spark), warm: a second run in the same session, its Python workers holding
the model, as a long job runs; the first run's rate, with the session start and model
loads, is shown too. Target on 2 cores: local[2] >= 0.8x Predictor.score.

Then long lines: segmenting and scoring (same model), in characters per second, of a
~5 MB text on one line (words of the first article in random order), with and without
punctuation, next to the news articles. Linear time keeps the rates of the same order;
pysbd on the whole line would take hours. --long-mb sets the size (0 skips it).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_ARTICLES = ROOT.parent / "shared" / "data" / "unlabeled" / "openwebtext-articles"


def quick_model(folder: Path) -> Path:
    from data.hf import build_dataset_dict
    from data.sources import load_specs
    from data.techniques import technique_ids
    from training.config import TransformerConfig
    from training.recipes import SHIPPED_ENCODER
    from training.transformer import fine_tune

    config = TransformerConfig(base_model=SHIPPED_ENCODER, max_steps=30)
    dataset = build_dataset_dict(load_specs(["corpus"]))
    fine_tune(dataset, config, list(technique_ids()), folder)
    return folder


def plain_scoring(predictor, sentences: list[str]) -> None:
    """One sentence per forward pass, truncated: the pipeline's default behaviour."""
    import torch

    tokenizer, model = predictor.scorer.tokenizer, predictor.scorer.model
    with torch.inference_mode():
        for sentence in sentences:
            encoded = tokenizer(sentence, truncation=True, return_tensors="pt")
            torch.sigmoid(model(**encoded).logits)


def one_line(text: str, size: int, punctuation: bool) -> str:
    """`size` characters of words drawn from `text` on one line, in random order (so that
    sentences rarely repeat), with or without a full stop every 17 words on average."""
    import random

    rng = random.Random(0)
    words = [w.strip(".!?") for w in text.split() if w.strip(".!?")]
    tokens, total = [], 0
    while total < size:
        word = rng.choice(words) + ("." if punctuation and rng.random() < 1 / 17 else "")
        tokens.append(word)
        total += len(word) + 1
    return " ".join(tokens)[:size]


def long_lines(predictor, texts: list[str], size: int) -> None:
    """Characters per second, segmenting and scoring, of long one-line texts and news."""
    from model.segment import segment

    cases = [
        ("news articles", texts),
        (f"{size / 1e6:g} MB one line, punctuated", [one_line(texts[0], size, True)]),
        (f"{size / 1e6:g} MB one line, no punctuation", [one_line(texts[0], size, False)]),
    ]
    for name, docs in cases:
        chars = sum(map(len, docs))
        started = time.perf_counter()
        for doc in docs:
            segment(doc)
        seg_rate = chars / (time.perf_counter() - started)
        started = time.perf_counter()
        predictor.score(docs)
        score_rate = chars / (time.perf_counter() - started)
        print(f"{name:36s} segment {seg_rate:12,.0f} chars/s   score {score_rate:10,.0f} chars/s")


def spark_rates(folder: Path, paths: list[Path], slots: int) -> tuple[float, float]:
    """Sentences per second of `propscan score --engine spark` on local[slots], end to end
    from JSONL to Parquet: cold (session start and model loads included) and warm (a
    second run, the executors' Python workers holding the model)."""
    import json

    from model.spark_scoring import score_spark, start_session

    work = Path(tempfile.mkdtemp(prefix="propscan-spark-bench-"))
    source = work / "articles.jsonl"
    with source.open("w", encoding="utf-8") as handle:
        for path in paths:
            handle.write(json.dumps({"id": path.name, "text": path.read_text("utf-8")}) + "\n")
    uri = f"sqlite:///{work / 'mlflow.db'}"  # unused: the model is a folder
    started = time.perf_counter()
    session = start_session(f"local[{slots}]", {})
    try:
        cold = score_spark(
            [str(source)], str(folder), str(work / "cold"), tracking_uri=uri, session=session
        )
        cold_seconds = time.perf_counter() - started
        warm = score_spark(
            [str(source)], str(folder), str(work / "warm"), tracking_uri=uri, session=session
        )
    finally:
        session.stop()
    return cold.sentences / cold_seconds, warm.sentences / warm.seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="fine-tuned propscan transformer folder or URI")
    parser.add_argument("--articles", type=Path, default=DEFAULT_ARTICLES)
    parser.add_argument("--limit", type=int, default=400, help="number of articles")
    parser.add_argument("--long-mb", type=float, default=5.0, help="size of the long lines")
    parser.add_argument(
        "--spark",
        type=int,
        nargs="*",
        default=[1, 2],
        metavar="SLOTS",
        help="Spark local[N] runs (none: skip)",
    )
    args = parser.parse_args()
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")

    import torch

    from model.predictor import Predictor
    from model.resolve import resolve_model_folder
    from model.scorers import PRECISIONS
    from model.segment import segment

    folder = (
        resolve_model_folder(args.model)
        if args.model
        else quick_model(Path(tempfile.mkdtemp(prefix="propscan-speed-")))
    )
    paths = sorted(args.articles.glob("*.txt"))[: args.limit]
    texts = [p.read_text(encoding="utf-8") for p in paths]
    started = time.perf_counter()
    sentences = [s.text for text in texts for s in segment(text)]
    segment_seconds = time.perf_counter() - started
    predictor = Predictor(folder)
    tokens = predictor.scorer.tokenizer(sentences, add_special_tokens=True)["input_ids"]
    print(
        f"{len(texts)} articles, {len(sentences):,} sentences "
        f"({len(set(sentences)):,} distinct), mean {sum(map(len, tokens)) / len(tokens):.1f} "
        f"tokens; torch threads {torch.get_num_threads()}; segmentation "
        f"{len(sentences) / segment_seconds:,.0f} sentences/s"
    )

    def per_second(work, items) -> float:
        """Sentences per second of `work(items)`: the sentences, or the articles they
        come from (`Predictor.score`), so every rate counts the same sentences."""
        started = time.perf_counter()
        work(items)
        return len(sentences) / (time.perf_counter() - started)

    plain_scoring(predictor, sentences[:8])  # warm-up, as for ours below
    plain_rate = per_second(partial(plain_scoring, predictor), sentences)
    print(f"plain, one sentence per pass: {plain_rate:7.1f} sentences/s")
    rates = {}  # precision -> (Predictor.predict_proba, Predictor.score) sentences/s
    for precision in PRECISIONS:
        ours = predictor if precision == "fp32" else Predictor(folder, precision)
        ours.predict_proba(sentences[:8])
        rates[precision] = per_second(ours.predict_proba, sentences), per_second(ours.score, texts)
        proba, score = rates[precision]
        print(
            f"propscan {precision}: Predictor.predict_proba {proba:7.1f} sentences/s "
            f"({proba / plain_rate:.2f}x plain, {proba / rates['fp32'][0]:.2f}x fp32); "
            f"Predictor.score (segmenting, spans) {score:7.1f} ({score / plain_rate:.2f}x plain)"
        )
    end_to_end = rates["fp32"][1]
    for slots in args.spark:
        cold, warm = spark_rates(folder, paths, slots)
        print(
            f"Spark local[{slots}], JSONL to Parquet:      {warm:7.1f} sentences/s "
            f"({warm / end_to_end:.2f}x Predictor.score; {cold:.1f} with session start)"
        )
    if args.long_mb > 0:
        long_lines(predictor, texts, int(args.long_mb * 1e6))


if __name__ == "__main__":
    main()
