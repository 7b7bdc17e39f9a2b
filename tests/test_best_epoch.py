"""Best-epoch selection and early stopping, which replace the Trainer's checkpoints."""

import torch
from transformers import TrainerControl

from training.transformer import BestEpoch


def test_best_epoch_weights_come_back_and_training_stops_after_patience():
    model = torch.nn.Linear(3, 2)
    keeper = BestEpoch(patience=2)
    control = TrainerControl()

    def epoch(score: float, weight: float) -> None:
        with torch.no_grad():
            model.weight.fill_(weight)
        keeper.on_evaluate(None, None, control, metrics={"eval_micro_f1": score}, model=model)

    epoch(0.40, 1.0)
    epoch(0.55, 2.0)  # the best epoch
    epoch(0.50, 3.0)
    assert not control.should_training_stop
    epoch(0.52, 4.0)
    assert control.should_training_stop  # two epochs without beating 0.55
    keeper.on_train_end(None, None, control, model=model)
    assert torch.all(model.weight == 2.0)
