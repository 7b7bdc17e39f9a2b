"""Sentences per second: propscan's Predictor against plain per-sentence scoring.

    python benchmarks/throughput.py [--model FOLDER_OR_URI] [--articles DIR] [--limit N]

Both score the same sentences (the 400 unlabeled OpenWebText articles, segmented by
propscan) with the same fine-tuned MiniLM weights, side by side in one run. The plain
side does what `pipeline("text-classification")` does by default: one sentence per
forward pass, truncated at the encoder's limit. (The pipeline itself cannot load the
mean-pooling network, so its loop is written out here, minus its Python overhead: the
comparison is, if anything, generous to it.) Without --model, a MiniLM is fine-tuned for
a few steps on the corpus first (speed does not depend on how well the weights were
trained). Target: >= 2x the plain loop and >= 120 sentences per second on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_ARTICLES = ROOT.parent / "shared" / "data" / "unlabeled" / "openwebtext-articles"


def quick_model(folder: Path) -> Path:
    from data.hf import build_dataset_dict
    from data.sources import load_specs
    from data.techniques import technique_ids
    from training.config import TransformerConfig
    from training.transformer import fine_tune

    config = TransformerConfig(max_steps=30)
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="fine-tuned propscan transformer folder or URI")
    parser.add_argument("--articles", type=Path, default=DEFAULT_ARTICLES)
    parser.add_argument("--limit", type=int, default=400, help="number of articles")
    args = parser.parse_args()
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")

    import torch

    from model.predictor import Predictor
    from model.resolve import resolve_model_folder
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

    plain_scoring(predictor, sentences[:8])  # warm-up, as for ours below
    started = time.perf_counter()
    plain_scoring(predictor, sentences)
    plain_rate = len(sentences) / (time.perf_counter() - started)

    predictor.predict_proba(sentences[:8])
    started = time.perf_counter()
    predictor.predict_proba(sentences)
    ours_rate = len(sentences) / (time.perf_counter() - started)

    started = time.perf_counter()
    predictor.score(texts)
    end_to_end = len(sentences) / (time.perf_counter() - started)

    print(f"plain, one sentence per pass:          {plain_rate:7.1f} sentences/s")
    print(f"propscan Predictor.predict_proba:       {ours_rate:7.1f} sentences/s")
    print(f"propscan Predictor.score (with segmenting): {end_to_end:7.1f} sentences/s")
    print(f"ratio (propscan / plain): {ours_rate / plain_rate:.2f}x")


if __name__ == "__main__":
    main()
