"""Adapt an encoder to a user's own news before fine-tuning (task-adaptive pretraining).

The encoder continues its masked-language-model training on unlabeled articles: it learns
the vocabulary and phrasing of the news it will score without any labels. The result is an
MLflow run whose `encoder` artifact `propscan train transformer --base-model
runs:/RUN_ID/encoder` fine-tunes. A held-out share of the articles (whole documents) gives
the masked-token loss before and after, so a run shows whether adaptation learned anything.
"""

from __future__ import annotations

import hashlib
import math
import os
import random
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import mlflow
import torch
from transformers import (
    AutoModelForMaskedLM,
    AutoTokenizer,
    DataCollatorForLanguageModeling,
    get_linear_schedule_with_warmup,
)

from data.splits import doc_position
from model.inputs import Document, InputError, Skipped, check_inputs, read_inputs
from training.encoders import cache_root
from training.tracking import connect, git_commit, ui_address

EXPERIMENT = "propscan/encoders"
ARTIFACT = "encoder"


@dataclass
class AdaptConfig:
    inputs: list[str]
    base_model: str = "all-MiniLM-L6-v2"
    epochs: float = 3.0
    batch_size: int = 16
    learning_rate: float = 5e-5
    head_learning_rate: float = 1e-3
    warmup_ratio: float = 0.06
    block_length: int = 128
    mlm_probability: float = 0.15
    heldout_share: float = 0.05
    seed: int = 42
    threads: int = 0
    id_column: str = "id"
    text_column: str = "text"


@dataclass
class AdaptResult:
    run_id: str
    uri: str
    documents: int
    loss_before: float
    loss_after: float
    problems: list[str] = field(default_factory=list)
    ui: str = ""


def read_texts(config: AdaptConfig) -> tuple[list[Document], list[str]]:
    """The inputs' documents, and `ORIGIN: why` for each one that could not be read."""
    documents, problems = [], []
    for item in read_inputs(config.inputs, config.id_column, config.text_column):
        if isinstance(item, Document):
            documents.append(item)
        elif isinstance(item, InputError):
            problems.append(f"{item.origin}: {item.reason}")
        elif isinstance(item, Skipped):
            problems.append(f"{item.origin}: skipped, not a file type propscan reads")
    if not documents:
        raise ValueError(f"no readable documents in {', '.join(config.inputs)}")
    return documents, problems


def split_heldout(documents: list[Document], share: float) -> tuple[list[str], list[str]]:
    """(train texts, held-out texts), chosen by a hash of each document's id so a rerun on
    the same archive holds out the same articles wherever it lies. With two documents or
    more, at least one is held out (and one kept), so the loss before and after is measured
    whenever it can be."""
    ranked = sorted(documents, key=lambda doc: doc_position(doc.id))
    count = sum(doc_position(doc.id) < share for doc in ranked)
    count = min(max(count, 1), len(ranked) - 1)  # one document: nothing held out
    return [d.text for d in ranked[count:]], [d.text for d in ranked[:count]]


def blocks(tokenizer, texts: list[str], length: int) -> list[list[int]]:
    """The texts' tokens end to end, each text closed by [SEP], cut into windows of `length`
    tokens that each start with [CLS]; only the last window is shorter (padded in its
    batch, and padding is never masked), so no text is lost."""
    stream: list[int] = []
    for text in texts:
        ids = tokenizer(text, add_special_tokens=False, verbose=False)["input_ids"]
        stream += [*ids, tokenizer.sep_token_id]
    body = length - 1
    return [
        [tokenizer.cls_token_id, *stream[start : start + body]]
        for start in range(0, len(stream), body)
    ]


def batches(rows: list[list[int]], size: int, collator, shuffle: random.Random | None):
    order = list(range(len(rows)))
    if shuffle:
        shuffle.shuffle(order)
    for start in range(0, len(order), size):
        yield collator([{"input_ids": rows[i]} for i in order[start : start + size]])


def masking(tokenizer, probability: float, seed: int) -> DataCollatorForLanguageModeling:
    return DataCollatorForLanguageModeling(
        tokenizer, mlm_probability=probability, seed=seed, return_tensors="pt"
    )


@torch.no_grad()
def masked_loss(model, rows: list[list[int]], size: int, tokenizer, probability: float) -> float:
    """Mean masked-token loss with the same masks every time (a fresh seeded draw), so before
    and after compare the model, not the draw; NaN without held-out text (one document)."""
    if not rows:
        return float("nan")
    model.eval()
    collator = masking(tokenizer, probability, seed=0)
    total, count = 0.0, 0
    for batch in batches(rows, size, collator, None):
        masked = int((batch["labels"] != -100).sum())
        total += model(**batch).loss.item() * masked
        count += masked
    model.train()
    return total / max(count, 1)


def train_mlm(model, rows, config: AdaptConfig, collator, log) -> None:
    steps_per_epoch = math.ceil(len(rows) / config.batch_size)
    total = max(1, round(steps_per_epoch * config.epochs))
    # The masked-LM head may start untrained (sentence encoders ship without one): it learns
    # at a higher rate, so its early noise reaches the encoder only briefly.
    encoder = {id(p) for p in model.base_model.parameters()}
    head = [p for p in model.parameters() if id(p) not in encoder]
    optimizer = torch.optim.AdamW(
        [
            {"params": list(model.base_model.parameters()), "lr": config.learning_rate},
            {"params": head, "lr": config.head_learning_rate},
        ],
        weight_decay=0.01,
    )
    schedule = get_linear_schedule_with_warmup(optimizer, round(total * config.warmup_ratio), total)
    shuffle = random.Random(config.seed)
    step, running = 0, []
    model.train()
    while step < total:
        for batch in batches(rows, config.batch_size, collator, shuffle):
            loss = model(**batch).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad()
            running.append(loss.item())
            step += 1
            if step % steps_per_epoch == 0 or step == total:
                log({"train_mlm_loss": sum(running) / len(running)}, step)
                running = []
            if step == total:
                return


def adapt(config: AdaptConfig, progress=print) -> AdaptResult:
    """Continue masked-language-model training of `config.base_model` on the inputs' text and
    log the adapted encoder as an MLflow run."""
    from training.transformer import resolve_base_model

    check_inputs(config.inputs)  # a mistyped path stops here, not after the training
    if config.threads > 0:
        torch.set_num_threads(config.threads)
    torch.manual_seed(config.seed)
    documents, problems = read_texts(config)
    for problem in problems:
        progress(problem)
    base = resolve_base_model(config.base_model)
    tokenizer = AutoTokenizer.from_pretrained(base)
    model = AutoModelForMaskedLM.from_pretrained(base)
    train_texts, heldout = split_heldout(documents, config.heldout_share)
    train_rows = blocks(tokenizer, train_texts, config.block_length)
    heldout_rows = blocks(tokenizer, heldout, config.block_length)
    progress(
        f"adapting {config.base_model} on {len(train_texts):,} documents "
        f"({len(train_rows):,} windows of {config.block_length} tokens); "
        f"{len(heldout):,} held out"
    )
    client = connect()
    mlflow.set_experiment(EXPERIMENT)
    with mlflow.start_run() as run:
        mlflow.set_tags({"propscan.kind": "adapted-encoder", "git_commit": git_commit() or ""})
        mlflow.log_params(
            {
                **{k: v for k, v in vars(config).items() if k not in ("inputs", "threads")},
                "inputs": " ".join(config.inputs)[:500],
                "documents": len(documents),
                "train_windows": len(train_rows),
                "heldout_windows": len(heldout_rows),
            }
        )
        before = masked_loss(
            model, heldout_rows, config.batch_size, tokenizer, config.mlm_probability
        )
        mlflow.log_metric("heldout_mlm_loss_before", before)
        progress(f"held-out masked-token loss before: {before:.3f}")

        def log(metrics, step):
            mlflow.log_metrics(metrics, step=step)
            progress(f"step {step}: " + ", ".join(f"{k} {v:.3f}" for k, v in metrics.items()))

        collator = masking(tokenizer, config.mlm_probability, config.seed)
        train_mlm(model, train_rows, config, collator, log)
        after = masked_loss(
            model, heldout_rows, config.batch_size, tokenizer, config.mlm_probability
        )
        mlflow.log_metric("heldout_mlm_loss_after", after)
        progress(f"held-out masked-token loss after: {after:.3f}")
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp) / ARTIFACT
            model.base_model.save_pretrained(folder)
            tokenizer.save_pretrained(folder)
            mlflow.log_artifacts(str(folder), ARTIFACT)
        run_id = run.info.run_id
    return AdaptResult(
        run_id=run_id,
        uri=f"runs:/{run_id}/{ARTIFACT}",
        documents=len(documents),
        loss_before=before,
        loss_after=after,
        problems=problems,
        ui=ui_address(client, run_id),
    )


def download_encoder(uri: str) -> str:
    """A local copy of an adapted encoder logged in MLflow, cached by its URI and store."""
    connect()
    key = hashlib.sha256(f"{mlflow.get_tracking_uri()} {uri}".encode()).hexdigest()[:16]
    target = cache_root() / "adapted" / key
    if (target / "config.json").is_file():
        return str(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        local = Path(mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=tmp))
        if not (local / "config.json").is_file():
            raise ValueError(
                f"{uri} holds no encoder (no config.json); adapted encoders are "
                f"runs:/RUN_ID/{ARTIFACT}"
            )
        try:
            os.replace(local, target)
        except OSError:
            if not (target / "config.json").is_file():  # not another process's finished copy
                raise
    return str(target)
