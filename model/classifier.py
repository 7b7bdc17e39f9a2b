"""The transformer family's network: an encoder, mean pooling and a multi-label head.

Mean pooling rather than the [CLS] pooler: sentence encoders such as all-MiniLM-L6-v2
were trained to put a sentence's meaning in the mean of its token vectors, and their
[CLS] output is not trained at all. Measured on PTC + the corpus with the same 1,500
steps: dev micro-F1 0.470 with mean pooling against 0.292 through the [CLS] pooler.

On disk: the encoder as a transformers folder (config + safetensors), the head in
`head.safetensors`; no pickle anywhere.
"""

from __future__ import annotations

from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from transformers import AutoModel
from transformers.modeling_outputs import SequenceClassifierOutput

HEAD_FILE = "head.safetensors"


class MeanPoolingClassifier(torch.nn.Module):
    def __init__(self, encoder: torch.nn.Module, num_labels: int, dropout: float = 0.1):
        super().__init__()
        self.encoder = encoder
        self.dropout = torch.nn.Dropout(dropout)
        self.classifier = torch.nn.Linear(encoder.config.hidden_size, num_labels)

    @property
    def num_labels(self) -> int:
        return self.classifier.out_features

    @classmethod
    def from_encoder(cls, name_or_path: str, num_labels: int) -> MeanPoolingClassifier:
        """A new head on a pretrained encoder, ready to fine-tune."""
        return cls(AutoModel.from_pretrained(name_or_path), num_labels)

    @classmethod
    def load(cls, folder: str | Path) -> MeanPoolingClassifier:
        head_path = Path(folder) / HEAD_FILE
        if not head_path.is_file():
            raise FileNotFoundError(
                f"{folder}: no {HEAD_FILE}; this transformer was saved by an older propscan "
                "([CLS] pooling); train it again"
            )
        head = load_file(head_path)
        model = cls(AutoModel.from_pretrained(folder), head["weight"].shape[0])
        model.classifier.load_state_dict(head)
        return model

    def save(self, folder: str | Path) -> None:
        self.encoder.save_pretrained(folder, safe_serialization=True)
        save_file(self.classifier.state_dict(), str(Path(folder) / HEAD_FILE))

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        token_type_ids: torch.Tensor | None = None,
    ) -> SequenceClassifierOutput:
        extra = {} if token_type_ids is None else {"token_type_ids": token_type_ids}
        tokens = self.encoder(input_ids=input_ids, attention_mask=attention_mask, **extra)
        weights = attention_mask.unsqueeze(-1).to(tokens.last_hidden_state.dtype)
        pooled = (tokens.last_hidden_state * weights).sum(1) / weights.sum(1).clamp(min=1.0)
        return SequenceClassifierOutput(logits=self.classifier(self.dropout(pooled)))
