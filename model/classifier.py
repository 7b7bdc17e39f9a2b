"""The transformer family's network: an encoder, mean pooling and a multi-label head,
and a span head that gives every token one probability per technique.

Mean pooling rather than the [CLS] pooler: sentence encoders such as all-MiniLM-L6-v2
were trained to put a sentence's meaning in the mean of its token vectors, and their
[CLS] output is not trained at all. Measured on PTC + the corpus with the same 1,500
steps: dev micro-F1 0.470 with mean pooling against 0.292 through the [CLS] pooler.

The span head reads the same forward pass (one linear layer on each token's vector), so
spans cost almost nothing at scoring time; it is trained on the technique spans PTC and
the corpus annotate, and it teaches the shared encoder which words carry a technique.

On disk: the encoder as a transformers folder (config + safetensors), the sentence head
in `head.safetensors`, the span head in `span_head.safetensors` (absent in folders made
before it existed: those score with empty spans), the technique head that names the
technique of a given span in `technique_head.safetensors` (absent before it existed: TC
then takes the span head's highest token probability); no pickle anywhere.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from transformers import AutoModel
from transformers.utils import ModelOutput

from model.technique_head import N_FACTS

HEAD_FILE = "head.safetensors"
SPAN_HEAD_FILE = "span_head.safetensors"
TECHNIQUE_HEAD_FILE = "technique_head.safetensors"  # see model.technique_head


@dataclass
class PropscanOutput(ModelOutput):
    logits: torch.Tensor | None = None  # (batch, techniques): the sentence head
    token_logits: torch.Tensor | None = None  # (batch, tokens, techniques): the span head


def mean_pool(hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """The mean of each sentence's real token vectors."""
    weights = attention_mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * weights).sum(1) / weights.sum(1).clamp(min=1.0)


class _GivenStates(torch.nn.Module):
    """Stands in for the embeddings when the encoder starts from hidden states given to it
    (the frozen layers' output, computed once)."""

    def forward(self, inputs_embeds: torch.Tensor, **_) -> torch.Tensor:
        return inputs_embeds


class MeanPoolingClassifier(torch.nn.Module):
    def __init__(
        self, encoder: torch.nn.Module, num_labels: int, spans: bool = True, dropout: float = 0.1
    ):
        super().__init__()
        self.encoder = encoder
        self.dropout = torch.nn.Dropout(dropout)
        hidden = encoder.config.hidden_size
        self.classifier = torch.nn.Linear(hidden, num_labels)
        self.span_classifier = torch.nn.Linear(hidden, num_labels) if spans else None
        self.technique_classifier: torch.nn.Linear | None = None  # fitted after training
        self.frozen: list[torch.nn.Module] = []  # kept as pretrained, see freeze_bottom

    @property
    def num_labels(self) -> int:
        return self.classifier.out_features

    @property
    def frozen_layers(self) -> int:
        return max(len(self.frozen) - 1, 0)

    @classmethod
    def from_encoder(
        cls, name_or_path: str, num_labels: int, spans: bool = True
    ) -> MeanPoolingClassifier:
        """New heads on a pretrained encoder, ready to fine-tune."""
        return cls(AutoModel.from_pretrained(name_or_path), num_labels, spans)

    @classmethod
    def load(cls, folder: str | Path) -> MeanPoolingClassifier:
        head_path = Path(folder) / HEAD_FILE
        if not head_path.is_file():
            raise FileNotFoundError(
                f"{folder}: no {HEAD_FILE}; this transformer was saved by an older propscan "
                "([CLS] pooling); train it again"
            )
        head = load_file(head_path)
        span_path = Path(folder) / SPAN_HEAD_FILE
        spans = span_path.is_file()
        model = cls(AutoModel.from_pretrained(folder), head["weight"].shape[0], spans)
        model.classifier.load_state_dict(head)
        if spans:
            try:
                model.span_classifier.load_state_dict(load_file(span_path))
            except (RuntimeError, KeyError) as err:
                raise ValueError(f"{span_path}: not a span head for this model ({err})") from None
        technique_path = Path(folder) / TECHNIQUE_HEAD_FILE
        if technique_path.is_file():
            model.technique_classifier = load_technique_head(technique_path, model)
        return model

    def freeze_bottom(self, layers: int) -> None:
        """Keep the embeddings and the bottom `layers` encoder layers as pretrained: no
        gradients (the backward pass stops above them) and no dropout, so they compute
        the same vectors at every epoch."""
        try:
            stack = self.encoder.encoder.layer
            embeddings = self.encoder.embeddings
        except AttributeError:
            raise ValueError(
                f"cannot freeze layers of a {type(self.encoder).__name__}: it has no "
                "encoder.layer stack (BERT-like encoders do)"
            ) from None
        if not 0 < layers < len(stack):
            raise ValueError(
                f"--frozen-layers: this encoder has {len(stack)} layers, so between 1 and "
                f"{len(stack) - 1} can be frozen, not {layers}"
            )
        self.frozen = [embeddings, *stack[:layers]]
        for module in self.frozen:
            module.requires_grad_(False)
        self.train(self.training)

    def train(self, mode: bool = True) -> MeanPoolingClassifier:
        super().train(mode)
        for module in self.frozen:
            module.eval()
        return self

    def save(self, folder: str | Path) -> None:
        self.encoder.save_pretrained(folder, safe_serialization=True)
        save_file(self.classifier.state_dict(), str(Path(folder) / HEAD_FILE))
        if self.span_classifier is not None:
            save_file(self.span_classifier.state_dict(), str(Path(folder) / SPAN_HEAD_FILE))
        if self.technique_classifier is not None:
            save_file(
                self.technique_classifier.state_dict(), str(Path(folder) / TECHNIQUE_HEAD_FILE)
            )

    @contextmanager
    def _only(self, layers: slice, given_states: bool = False):
        """The encoder with only `layers` of its stack (from given states instead of the
        embeddings): its own forward then handles masks and positions for any BERT-like
        architecture."""
        encoder = self.encoder
        embeddings, stack = encoder.embeddings, encoder.encoder.layer
        encoder.encoder.layer = stack[layers]
        if given_states:
            encoder.embeddings = _GivenStates()
        try:
            yield encoder
        finally:
            encoder.embeddings, encoder.encoder.layer = embeddings, stack

    def frozen_states(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """What the frozen layers (see freeze_bottom) give: the same at every step, so
        training computes them once and passes them back as `frozen_states`."""
        with self._only(slice(0, self.frozen_layers)) as bottom:
            return bottom(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    def encode(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        token_type_ids: torch.Tensor | None = None,
        frozen_states: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Each token's vector from the last layer; from `frozen_states`, only the layers
        above the frozen ones run."""
        if frozen_states is not None:
            with self._only(slice(self.frozen_layers, None), given_states=True) as top:
                return top(
                    inputs_embeds=frozen_states, attention_mask=attention_mask
                ).last_hidden_state
        extra = {} if token_type_ids is None else {"token_type_ids": token_type_ids}
        return self.encoder(
            input_ids=input_ids, attention_mask=attention_mask, **extra
        ).last_hidden_state

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        token_type_ids: torch.Tensor | None = None,
        frozen_states: torch.Tensor | None = None,
    ) -> PropscanOutput:
        hidden = self.encode(input_ids, attention_mask, token_type_ids, frozen_states)
        pooled = mean_pool(hidden, attention_mask)
        return PropscanOutput(
            logits=self.classifier(self.dropout(pooled)),
            token_logits=(
                self.span_classifier(self.dropout(hidden)) if self.span_classifier else None
            ),
        )


def load_technique_head(path: Path, model: MeanPoolingClassifier) -> torch.nn.Linear:
    """The technique head in `path`: it reads the mean vector and its facts, or (fitted
    before the facts existed) the mean vector alone."""
    hidden = model.encoder.config.hidden_size
    try:
        state = load_file(path)
        inputs = state["weight"].shape[-1]
        if inputs not in (hidden, hidden + N_FACTS):
            raise RuntimeError(f"{inputs} inputs, not {hidden} or {hidden + N_FACTS}")
        head = torch.nn.Linear(inputs, model.num_labels)
        head.load_state_dict(state)
    except (RuntimeError, KeyError, SafetensorError) as err:
        raise ValueError(f"{path}: not a technique head for this model ({err})") from None
    return head
