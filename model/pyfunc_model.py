"""The MLflow pyfunc for propscan models, logged as models-from-code (no pickle).

`predict` takes a DataFrame with a `text` column and returns one row per input row:
`n_sentences`, `techniques` (the techniques found anywhere in the text, sorted) and
`sentences` (exactly what `Predictor.score` returns for that text, the shape of
`propscan score`'s JSONL), as real lists and objects: a REST client gets plain JSON.
"""

from __future__ import annotations

import mlflow
import pandas as pd
from mlflow.pyfunc import PythonModel

from model.predictor import MODEL_DIR_ARTIFACT, Predictor


class PropscanModel(PythonModel):
    def load_context(self, context) -> None:
        self.predictor = Predictor(context.artifacts[MODEL_DIR_ARTIFACT])

    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        if isinstance(model_input, dict):
            model_input = pd.DataFrame(model_input)
        if "text" not in model_input.columns:
            raise ValueError("propscan expects a DataFrame with a 'text' column")
        texts = ["" if pd.isna(t) else str(t) for t in model_input["text"]]
        documents = self.predictor.score(texts)
        return pd.DataFrame(
            {
                "n_sentences": [len(doc) for doc in documents],
                "techniques": [
                    sorted({t for s in doc for t in s["techniques"]}) for doc in documents
                ],
                "sentences": documents,
            }
        )


mlflow.models.set_model(PropscanModel())
