"""`propscan score --engine spark`: score a table of documents on any Spark master.

Each partition is scored by `Predictor.score`, the very code of `propscan score`, inside a
`mapInPandas` function: the model is loaded once per executor Python process (Spark reuses
its Python workers, and `_PREDICTORS` keeps the model between tasks) and the Predictor
batches the sentences of a whole Arrow batch of documents (length-sorted, padded to the
longest, de-duplicated). `mlflow.pyfunc.spark_udf` over the registered pyfunc was the
other way (not measured): it caches the model per executor and batches per Arrow batch
too, but the pyfunc answers one row per document with its sentences nested (to be
exploded after), scores a number or a null as text, and one failing document fails the
whole batch, so the bad-row handling below would have to wrap it anyway.

The model reaches executors by name: the driver pins an alias to its version
(`models:/propscan@champion` -> `models:/propscan/3`, so all executors load the same
weights even if the alias moves) and each executor downloads it through MLflow with the
driver's tracking URI. Nothing is pickled by hand.

Each Spark task gets `spark.task.cpus` cores (default 1), and torch uses as many threads,
so that task slots do not fight over cores.

Bad rows never fail the job: a row whose text is missing, not a string, empty, longer
than `max_chars`, or whose id is missing, and a document the model fails on, becomes a row
of the errors output (id, origin, reason); every other row is scored.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from model.inputs import Columns, Document, InputError, row_document
from model.resolve import model_uri, registered_version

LOG4J2 = """\
rootLogger.level = error
rootLogger.appenderRef.console.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = spark %p %c{1}: %m%n
"""  # Spark's own log: errors only, so that the command's output stays readable
MAX_CHARS = 5_000_000  # per document; a few MB of text: far beyond any article
DOCS_PER_CALL = 64  # documents per Arrow batch, so per Predictor.score call
FORMATS = {".parquet": "parquet", ".csv": "csv", ".jsonl": "jsonl", ".json": "jsonl"}

SENTENCE_SCHEMA = (
    "id string, sent_idx int, start int, end int, text string, techniques array<string>, "
    "probabilities map<string, double>, "
    "spans array<struct<technique: string, start: int, end: int, text: string, "
    "probability: double>>, cut boolean"
)
ROW_SCHEMA = SENTENCE_SCHEMA + ", origin string, reason string"  # reason: only on errors
SENTENCE_COLUMNS = [
    "id",
    "sent_idx",
    "start",
    "end",
    "text",
    "techniques",
    "probabilities",
    "spans",
    "cut",
]
ROW_COLUMNS = [*SENTENCE_COLUMNS, "origin", "reason"]


@dataclass(frozen=True)
class Settings:
    """What each executor needs to check and score rows (pickled by Spark, by reference)."""

    model: str  # a models:/ or runs:/ URI or a model folder
    tracking_uri: str
    id_column: str
    text_column: str
    max_chars: int
    torch_threads: int
    precision: str = "fp32"  # or bf16, int8: see model.scorers.TransformerScorer.load


@dataclass(frozen=True)
class SparkSummary:
    documents: int
    sentences: int
    flagged_sentences: int
    errors: list[dict]  # the first ones: id, origin, reason
    error_count: int
    seconds: float
    out: str
    errors_out: str

    def table(self) -> str:
        share = self.flagged_sentences / self.sentences if self.sentences else 0.0
        rate = self.sentences / self.seconds if self.seconds else 0.0
        lines = [
            f"{'documents scored':32s} {self.documents:>8,}",
            f"{'rows failed':32s} {self.error_count:>8,}",
            f"{'sentences':32s} {self.sentences:>8,}",
            f"{'sentences with any technique':32s} {share:>8.1%}",
            f"{'sentences per second':32s} {rate:>8.1f}",
            f"results (Parquet): {self.out}",
            f"failed rows (Parquet): {self.errors_out}",
        ]
        lines += [f"failed: {e['id'] or e['origin']}: {e['reason']}" for e in self.errors]
        if self.error_count > len(self.errors):
            lines.append(f"... and {self.error_count - len(self.errors)} more")
        return "\n".join(lines)


# --- on the executors -------------------------------------------------------------------

_PREDICTORS: dict[str, object] = {}  # "URI precision" -> Predictor, for the life of the process


def load_predictor(settings: Settings):
    """The Predictor of this Python worker, loaded on its first task only."""
    key = f"{settings.model} {settings.precision}"
    if key not in _PREDICTORS:
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")  # its own thread pool
        import mlflow
        import torch

        torch.set_num_threads(settings.torch_threads)
        mlflow.set_tracking_uri(settings.tracking_uri)
        mlflow.set_registry_uri(settings.tracking_uri)
        from model.predictor import Predictor

        _PREDICTORS[key] = Predictor.load(settings.model, settings.precision)
    return _PREDICTORS[key]


def check_row(row: dict, settings: Settings) -> Document | tuple[str | None, str, str]:
    """The row's document, or (id, origin, reason) why it cannot be scored. A JSONL row
    comes as its `line`, parsed here so that a number where text should be is seen as one;
    the checks are `propscan score`'s own (`row_document`)."""
    origin = row["origin"]
    if isinstance(row["line"], str):
        try:
            fields = json.loads(row["line"])
        except (json.JSONDecodeError, RecursionError) as err:
            return None, origin, f"malformed JSON line ({type(err).__name__})"
    else:
        fields = {settings.id_column: row["id"], settings.text_column: row["text"]}
    found = row_document(fields, origin, "", Columns(settings.id_column, settings.text_column))
    raw_id = fields.get(settings.id_column) if isinstance(fields, dict) else None
    doc_id = None if raw_id in (None, "") else str(raw_id)
    if isinstance(found, InputError):
        return doc_id, origin, found.reason
    if doc_id is None:
        return None, origin, f"missing {settings.id_column!r} field (the Spark engine needs ids)"
    if len(found.text) > settings.max_chars:
        limit = f"the limit is {settings.max_chars:,}"
        return doc_id, origin, f"over-long text ({len(found.text):,} characters; {limit})"
    return found


def score_documents(predictor, docs: list[Document]) -> list[tuple[Document, list | str]]:
    """Each document with its sentences, or with why scoring it failed; if a batch fails,
    its documents are scored one by one so that only the culprit is lost."""
    try:
        return list(zip(docs, predictor.score([d.text for d in docs]), strict=True))
    except Exception:  # which document broke it is found below
        pass
    results = []
    for doc in docs:
        try:
            results.append((doc, predictor.score([doc.text])[0]))
        except Exception as err:  # an error row, not a failed job
            results.append((doc, f"scoring failed: {err!r}"))
    return results


def error_row(doc_id: str | None, origin: str, reason: str) -> dict:
    return dict.fromkeys(ROW_COLUMNS) | {"id": doc_id, "origin": origin, "reason": reason}


def sentence_rows(doc: Document, sentences: list[dict]) -> list[dict]:
    return [
        s | {"id": doc.id, "origin": doc.origin, "cut": s.get("cut", False), "reason": None}
        for s in sentences
    ]


def score_batches(settings: Settings, batches: Iterator) -> Iterator:
    """mapInPandas: input rows (origin, id, text, line) -> sentence rows and error rows."""
    import pandas as pd

    for batch in batches:
        rows, docs = [], []
        records = batch.astype(object).where(batch.notna(), None).to_dict("records")  # NaN: null
        for found in (check_row(r, settings) for r in records):
            if isinstance(found, Document):
                docs.append(found)
            else:
                rows.append(error_row(*found))
        for doc, result in score_documents(load_predictor(settings), docs) if docs else []:
            failed = isinstance(result, str)
            rows += (
                [error_row(doc.id, doc.origin, result)] if failed else sentence_rows(doc, result)
            )
        yield pd.DataFrame(rows, columns=ROW_COLUMNS, dtype=object)  # None stays None


# --- on the driver ----------------------------------------------------------------------


def input_format(inputs: list[str]) -> str:
    """parquet, csv or jsonl, from the inputs' suffixes or, for a local folder, from the
    suffixes of the files in it (Spark writes folders of part files)."""
    found = set()
    for item in inputs:
        path = Path(item)
        suffixes = (
            {p.suffix.lower() for p in path.rglob("*") if p.is_file() and p.name[0] not in "._"}
            if "://" not in item and path.is_dir()
            else {path.suffix.lower()}
        )
        found |= {FORMATS.get(s, s or "no suffix") for s in suffixes}
    if len(found) != 1 or not found <= set(FORMATS.values()):
        raise ValueError(
            f"--engine spark reads .parquet, .csv or .jsonl (one kind per run); got {sorted(found)}"
        )
    return found.pop()


def pinned_model(model: str) -> str:
    """The model's URI, an alias replaced by its version and a folder made absolute, so
    that every executor loads the same model."""
    uri = model_uri(model)
    if Path(uri).exists():
        return str(Path(uri).resolve())
    registered = registered_version(uri)
    return f"models:/{registered[0]}/{registered[1]}" if registered else uri


def start_session(master: str, conf: dict[str, str]):
    """A quiet session; on a local master its Python workers run this Python (on a cluster
    PYSPARK_PYTHON names the executors' Python, which needs propscan installed)."""
    from pyspark.sql import SparkSession

    if master.startswith("local"):
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    log_config = Path(tempfile.mkdtemp(prefix="propscan-spark-")) / "log4j2.properties"
    log_config.write_text(LOG4J2, encoding="utf-8")
    warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas")

    builder = (
        SparkSession.builder.master(master)
        .appName("propscan score")
        .config("spark.sql.execution.arrow.maxRecordsPerBatch", str(DOCS_PER_CALL))
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile={log_config}")
    )
    for key, value in conf.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def read_rows(spark, inputs: list[str], kind: str, id_column: str, text_column: str):
    """The inputs as rows (origin, id, text, line): a JSONL line is kept whole and parsed
    on the executors; a Parquet or CSV table gives its id and text columns."""
    from pyspark.sql import functions as F

    origin = F.col("_metadata.file_path").alias("origin")
    if kind == "jsonl":
        lines = spark.read.text(inputs)
        return lines.where(F.trim("value") != "").select(
            origin,
            F.lit(None).cast("string").alias("id"),
            F.lit(None).cast("string").alias("text"),
            F.col("value").alias("line"),
        )
    if kind == "csv":
        options = {"header": "true", "multiLine": "true", "escape": '"'}
        table = spark.read.options(**options).csv(inputs)
    else:
        table = spark.read.parquet(*inputs)
    types = dict(table.dtypes)
    for column, role in ((text_column, "--text-column"), (id_column, "--id-column")):
        if column not in types:
            raise ValueError(f"{inputs[0]}: no {column!r} column ({role}); columns: {list(types)}")
    if types[text_column] != "string":
        raise ValueError(f"{inputs[0]}: column {text_column!r} is {types[text_column]}, not text")
    return table.select(
        origin,
        F.col(id_column).cast("string").alias("id"),
        F.col(text_column).alias("text"),
        F.lit(None).cast("string").alias("line"),
    )


def score_spark(
    inputs: list[str],
    model: str,
    out: str,
    *,
    errors_out: str | None = None,
    tracking_uri: str,
    master: str = "local[*]",
    conf: dict[str, str] | None = None,
    id_column: str = "id",
    text_column: str = "text",
    max_chars: int = MAX_CHARS,
    partitions: int | None = None,
    precision: str = "fp32",
    session=None,
) -> SparkSummary:
    """Score `inputs` on `master`; write sentences to `out` and failed rows to
    `errors_out` (default `OUT/_errors`), both Parquet folders, replaced if they exist.
    A `session` given is used and left running (its executors keep their models loaded);
    otherwise one is started and stopped."""
    from pyspark import StorageLevel

    kind = input_format(inputs)
    errors_out = errors_out or f"{out.rstrip('/')}/_errors"
    started = time.perf_counter()
    spark = session or start_session(master, conf or {})
    try:
        settings = Settings(
            model=pinned_model(model),
            tracking_uri=tracking_uri,
            id_column=id_column,
            text_column=text_column,
            max_chars=max_chars,
            torch_threads=int(spark.conf.get("spark.task.cpus", "1")),
            precision=precision,
        )
        rows = read_rows(spark, inputs, kind, id_column, text_column)
        slots = spark.sparkContext.defaultParallelism
        wanted = partitions or max(rows.rdd.getNumPartitions(), 4 * slots)
        scored = (
            rows.repartition(wanted)
            .mapInPandas(partial(score_batches, settings), ROW_SCHEMA)
            .persist(StorageLevel.MEMORY_AND_DISK)  # two outputs, one scoring
        )
        good = scored.where("reason is null").select(*SENTENCE_COLUMNS)
        good.write.mode("overwrite").parquet(out)
        scored.where("reason is not null").select("id", "origin", "reason").write.mode(
            "overwrite"
        ).parquet(errors_out)
        scored.unpersist()
        return summarize(spark, out, errors_out, time.perf_counter() - started)
    finally:
        if session is None:
            spark.stop()


def summarize(spark, out: str, errors_out: str, seconds: float) -> SparkSummary:
    """Counts read back from what was written."""
    from pyspark.sql import functions as F

    written = spark.read.parquet(out)
    counts = written.agg(
        F.countDistinct("id").alias("documents"),
        F.count("*").alias("sentences"),
        F.sum((F.size("techniques") > 0).cast("int")).alias("flagged"),
    ).first()
    errors = spark.read.parquet(errors_out)
    return SparkSummary(
        documents=counts["documents"],
        sentences=counts["sentences"],
        flagged_sentences=counts["flagged"] or 0,
        errors=[r.asDict() for r in errors.limit(20).collect()],
        error_count=errors.count(),
        seconds=seconds,
        out=out,
        errors_out=errors_out,
    )
