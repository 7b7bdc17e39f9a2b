"""Batch scoring: inputs -> Predictor -> writers, with a progress bar and a summary.

Documents are scored a few at a time (so the predictor batches sentences across them)
and written as soon as they are scored; failures are collected, not raised. The progress
bar's total (and so its ETA) comes from `count_items`: files are counted, JSONL lines
and CSV rows are counted in one quick pass before scoring starts.
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from model.inputs import Document, InputError, Skipped, check_inputs, count_items, read_inputs
from model.predictor import Predictor
from model.report_html import count_flagged, technique_counts
from model.writers import JsonlWriter, check_outputs, open_writer

DOCS_PER_BATCH = 16


@dataclass
class ScoreSummary:
    documents: int = 0
    skipped: int = 0
    sentences: int = 0
    flagged_sentences: int = 0
    techniques: Counter = field(default_factory=Counter)
    errors: list[InputError] = field(default_factory=list)
    other_files: Counter = field(default_factory=Counter)  # suffix -> files not read
    seconds: float = 0.0
    model_name: str = ""

    def add(self, doc: dict) -> None:
        self.documents += 1
        self.sentences += len(doc["sentences"])
        self.flagged_sentences += count_flagged(doc["sentences"])
        self.techniques.update(technique_counts(doc["sentences"]))

    def table(self) -> str:
        share = self.flagged_sentences / self.sentences if self.sentences else 0.0
        rate = self.sentences / self.seconds if self.seconds else 0.0
        lines = [
            f"{'model':32s} {self.model_name or 'not named'}",
            f"{'documents scored':32s} {self.documents:>8,}",
            f"{'documents skipped (--resume)':32s} {self.skipped:>8,}",
            f"{'inputs failed':32s} {len(self.errors):>8,}",
            f"{'files not read (other types)':32s} {sum(self.other_files.values()):>8,}"
            + self.other_types(),
            f"{'sentences':32s} {self.sentences:>8,}",
            f"{'sentences with any technique':32s} {share:>8.1%}",
            f"{'sentences per second':32s} {rate:>8.1f}",
        ]
        if self.techniques:
            lines.append("top techniques (sentences):")
            lines += [f"  {t:30s} {n:>8,}" for t, n in self.techniques.most_common(5)]
        for error in self.errors[:20]:
            lines.append(f"failed: {error.origin}: {error.reason}")
        if len(self.errors) > 20:
            lines.append(f"... and {len(self.errors) - 20} more (see --errors)")
        if self.nothing_scored:
            lines.append("nothing was scored: no document found in the inputs")
        return "\n".join(lines)

    def other_types(self) -> str:
        """`  (.pdf 3, .png 1)`: what the files that were not read are."""
        kinds = ", ".join(f"{s or 'no suffix'} {n:,}" for s, n in self.other_files.most_common())
        return f"  ({kinds})" if kinds else ""

    @property
    def nothing_scored(self) -> bool:
        """No document scored now or before (--resume): the inputs held none."""
        return self.documents + self.skipped == 0


def document_result(doc: Document, sentences: list[dict]) -> dict:
    return {"id": doc.id, "origin": doc.origin, "text": doc.text, "sentences": sentences}


def score_inputs(
    inputs: list[str],
    predictor: Predictor,
    outputs: list[Path],
    *,
    errors_path: Path | None = None,
    html_path: Path | None = None,
    resume: bool = False,
    id_column: str = "id",
    text_column: str = "text",
    progress: bool = True,
    model_name: str = "",
) -> ScoreSummary:
    """Score every document of `inputs`, writing each output as documents finish."""
    from tqdm import tqdm

    check_inputs(inputs)
    check_outputs(outputs, html_path, inputs)
    writers = [open_writer(path, resume, list(predictor.techniques)) for path in outputs]
    held = [w.done for w in writers if w.done is not None]  # a .tsv cannot say what it holds
    done = set.intersection(*held) if held else set()
    error_handle = None
    if errors_path:
        errors_path.parent.mkdir(parents=True, exist_ok=True)
        error_handle = errors_path.open("a" if resume else "w", encoding="utf-8")
    summary = ScoreSummary(model_name=model_name)
    previous = next((w.previous for w in writers if isinstance(w, JsonlWriter)), [])
    scored = [doc for doc in previous if doc["id"] in done] if html_path else []
    if html_path and done and not scored:
        print(
            "note: the HTML report shows only the documents scored now; earlier ones come "
            "back from a .jsonl --out (CSV rows do not hold whole documents)",
            file=sys.stderr,
        )
    seen_ids: set[str] = set()
    own_files = frozenset(p.resolve() for p in [*outputs, errors_path, html_path] if p)
    total = count_items(inputs, own_files) if progress and "-" not in inputs else None
    bar = tqdm(total=total, unit="doc", disable=not progress, file=sys.stderr)
    started = time.perf_counter()
    pending: list[Document] = []

    def record_error(error: InputError) -> None:
        summary.errors.append(error)
        if error_handle:
            error_handle.write(json.dumps({"origin": error.origin, "reason": error.reason}) + "\n")
            error_handle.flush()

    def score_each(docs: list[Document]) -> list[tuple[Document, list[dict]]]:
        """Score a batch; if it fails, score one by one so only the culprit is lost."""
        try:
            return list(zip(docs, predictor.score([d.text for d in docs]), strict=True))
        except Exception as err:  # which document broke it is found below
            print(
                f"warning: scoring a batch of {len(docs)} documents failed ({err!r}); "
                "scoring them one at a time",
                file=sys.stderr,
            )
        scored_docs = []
        for doc in docs:
            try:
                scored_docs.append((doc, predictor.score([doc.text])[0]))
            except Exception as err:  # report it and go on with the rest
                record_error(InputError(doc.origin, f"scoring failed: {err!r}"))
        return scored_docs

    def flush() -> None:
        for doc, sentences in score_each(pending):
            result = document_result(doc, sentences)
            for writer in writers:
                writer.write(result)
            summary.add(result)
            if html_path:
                scored.append(result)
        bar.update(len(pending))
        elapsed = time.perf_counter() - started
        bar.set_postfix(sent_per_s=f"{summary.sentences / max(elapsed, 1e-9):.0f}")
        pending.clear()

    try:
        for item in read_inputs(inputs, id_column, text_column, skip=own_files):
            if isinstance(item, Skipped):
                summary.other_files[item.suffix] += 1
                continue
            if isinstance(item, Document) and item.id in seen_ids:
                item = InputError(item.origin, f"duplicate document id {item.id!r}")
            if isinstance(item, InputError):
                record_error(item)
                bar.update()
            elif item.id in done:
                seen_ids.add(item.id)
                summary.skipped += 1
                bar.update()
            else:
                seen_ids.add(item.id)
                pending.append(item)
                if len(pending) >= DOCS_PER_BATCH:
                    flush()
        if pending:
            flush()
    finally:
        summary.seconds = time.perf_counter() - started
        bar.close()
        for writer in writers:
            writer.close()
        if error_handle:
            error_handle.close()
    if html_path:
        from model.report_html import render_report

        html_path.parent.mkdir(parents=True, exist_ok=True)
        page = render_report(scored, model_name=model_name, errors=summary.errors)
        html_path.write_text(page, encoding="utf-8")
    return summary
