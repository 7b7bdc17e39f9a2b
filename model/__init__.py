"""Everything needed at prediction time: segmentation, the predictor, writers.

    from model import Predictor
    Predictor.load("champion").score(["Some article text."])

Names are imported on first use, so `import model` stays light.
"""

from data.lazy import lazy_exports

EXPORTS = {
    "Predictor": "model.predictor",
    "Sentence": "model.segment",
    "score_inputs": "model.batch",
}
__all__ = list(EXPORTS)
__getattr__ = lazy_exports(__name__, EXPORTS)
