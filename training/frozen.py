"""Training above frozen layers (`--frozen-layers`): what the frozen bottom of the encoder
gives a sentence is the same at every step (no gradients, no dropout), so it is computed
once and each step runs only the layers above; scoring dev at each epoch end does too.

The output is kept on disk (`FrozenStore`), so a later training on the same sentences
(another seed, other options, another fold of a cross-validation) reads it instead of
computing it again: the preparation is paid once per encoder, frozen depth and sentence.

Measured on all-mpnet-base-v2 with 8 of its 12 layers frozen, batch 8 of 24-56 tokens,
side by side: a step costs 0.453 s with the frozen layers in it and 0.220 s from their
stored output (fine-tuning all 12 layers: 0.725 s). The stored output takes the hidden
size x 4 bytes per token, about 1.7 GB for PTC + the corpus with mpnet.
"""

from __future__ import annotations

import fcntl
import hashlib

import numpy as np
import torch
from torch.nn.utils.rnn import pad_sequence

from model.classifier import MeanPoolingClassifier
from training.encoders import cache_root
from training.probe import FEATURE_BATCH


class FrozenStore:
    """The frozen layers' output per token sequence, in one folder per encoder and frozen
    depth (named by a hash of the frozen weights, so an adapted encoder gets its own):
    `states.f32` holds the vectors end to end, `index.tsv` one line per sequence (its key,
    where its vectors start, how many tokens). Vectors are written before their index
    line, under a lock, so an interrupted write leaves only unindexed bytes."""

    def __init__(self, model: MeanPoolingClassifier, pad_id: int):
        self.model = model
        self.pad_id = pad_id
        self.hidden = model.encoder.config.hidden_size
        self.folder = cache_root() / "frozen" / frozen_fingerprint(model)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.data = self.folder / "states.f32"
        self.index_file = self.folder / "index.tsv"
        self.index = self.read_index()
        self.computed = 0  # sequences this store computed rather than read

    def read_index(self) -> dict[str, tuple[int, int]]:
        index = {}
        if not self.index_file.exists():
            return index
        with self.index_file.open() as lines:
            for number, line in enumerate(lines, 1):
                fields = line.rstrip("\n").split("\t")
                if len(fields) != 3 or not fields[1].isdigit() or not fields[2].isdigit():
                    raise ValueError(
                        f"{self.index_file}:{number}: not KEY<TAB>OFFSET<TAB>TOKENS; delete "
                        f"{self.folder} and the next training computes it again"
                    )
                index[fields[0]] = (int(fields[1]), int(fields[2]))
        return index

    def states(self, sequences: list[list[int]]) -> list[torch.Tensor]:
        """Each token sequence's frozen-layer output (tokens x hidden), read from disk;
        those not there yet are computed first, in batches of similar length, and stored."""
        if not sequences:
            return []
        keys = [sequence_key(ids) for ids in sequences]
        todo = {key: ids for key, ids in zip(keys, sequences, strict=True) if key not in self.index}
        if todo:
            self.compute(sorted(todo.items(), key=lambda item: len(item[1])))
        vectors = np.memmap(self.data, dtype=np.float32, mode="c")
        places = [self.index[key] for key in keys]
        if max(start + tokens * self.hidden for start, tokens in places) > len(vectors):
            raise ValueError(
                f"{self.data}: shorter than {self.index_file} says; delete {self.folder} and "
                "the next training computes it again"
            )
        return [
            torch.from_numpy(vectors[start : start + tokens * self.hidden].reshape(tokens, -1))
            for start, tokens in places
        ]

    def compute(self, todo: list[tuple[str, list[int]]]) -> None:
        was_training = self.model.training
        self.model.eval()
        for begin in range(0, len(todo), FEATURE_BATCH):
            batch = todo[begin : begin + FEATURE_BATCH]
            longest = max(len(ids) for _, ids in batch)
            input_ids = torch.full((len(batch), longest), self.pad_id)
            attention_mask = torch.zeros((len(batch), longest), dtype=torch.long)
            for row, (_, ids) in enumerate(batch):
                input_ids[row, : len(ids)] = torch.tensor(ids)
                attention_mask[row, : len(ids)] = 1
            with torch.no_grad():
                hidden = self.model.frozen_states(input_ids, attention_mask)
            self.write([(key, hidden[row, : len(ids)]) for row, (key, ids) in enumerate(batch)])
        self.model.train(was_training)
        self.computed += len(todo)

    def write(self, items: list[tuple[str, torch.Tensor]]) -> None:
        with (self.folder / "lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            added = {}
            with self.data.open("ab") as out:
                start = out.seek(0, 2) // 4  # after what other trainings wrote meanwhile
                for key, vectors in items:
                    array = vectors.float().contiguous().numpy()
                    out.write(array.tobytes())
                    added[key] = (start, len(array))
                    start += array.size
            with self.index_file.open("a") as index:  # one write of a few KB
                index.write("".join(f"{k}\t{o}\t{n}\n" for k, (o, n) in added.items()))
            self.index |= added


def sequence_key(ids: list[int]) -> str:
    return hashlib.sha256(np.asarray(ids, dtype=np.int64).tobytes()).hexdigest()[:32]


def frozen_fingerprint(model: MeanPoolingClassifier) -> str:
    """The frozen modules' class, depth and weights, hashed: equal only where the frozen
    layers compute the same output."""
    digest = hashlib.sha256()
    for module in model.frozen:
        for name, tensor in module.state_dict().items():
            digest.update(name.encode())
            digest.update(tensor.contiguous().numpy())
    return f"{type(model.encoder).__name__}-{model.frozen_layers}-{digest.hexdigest()[:16]}"


def with_frozen_states(collate, states: list):
    """`collate` that also hands the model its sentences' frozen-layer output, padded as
    the tokens are; the dataset's `row` column says which sentence is which."""

    def collate_with_states(features: list[dict]) -> dict:
        rows = [f.pop("row") for f in features]
        batch = collate(features)
        batch["frozen_states"] = pad_sequence([states[r] for r in rows], batch_first=True)
        return batch

    return collate_with_states
