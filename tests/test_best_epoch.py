"""Best-epoch selection and early stopping, which replace the Trainer's checkpoints."""

import numpy as np
import torch

from training.transformer import BestEpoch


def test_best_epoch_weights_and_dev_probabilities_are_kept_and_patience_stops():
    model = torch.nn.Linear(3, 2)
    best = BestEpoch(patience=2)

    def epoch(score: float, weight: float) -> bool:
        with torch.no_grad():
            model.weight.fill_(weight)
        return best.update(score, model, np.full((1, 2), weight))

    assert not epoch(0.40, 1.0)
    assert not epoch(0.55, 2.0)  # the best epoch
    assert not epoch(0.50, 3.0)
    assert epoch(0.52, 4.0)  # two epochs without beating 0.55: stop
    model.load_state_dict(best.state)
    assert torch.all(model.weight == 2.0)
    assert best.probs[0, 0] == 2.0 and best.score == 0.55
