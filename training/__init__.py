"""Learning and comparing: training runs, evaluation, the MLflow registry, the CLI.

    from training import TransformerConfig, train
    result = train(TransformerConfig(data=["corpus"], epochs=1))

Names are imported on first use, so the CLI starts without torch or MLflow.
"""

from data.lazy import lazy_exports

EXPORTS = {
    "train": "training.run",
    "BaselineConfig": "training.config",
    "TransformerConfig": "training.config",
}
__all__ = list(EXPORTS)
__getattr__ = lazy_exports(__name__, EXPORTS)
