"""`propscan score`: outputs, bad input, resume after a kill, and serving over HTTP."""

import csv
import io
import json
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request

import pytest

from model.predictor import Predictor
from tests.conftest import ROOT, SHARED, mlflow_service
from training.cli import main

SEEDS = ROOT / "seeds"
PROPSCAN = [sys.executable, "-m", "training.cli"]


def test_score_seeds_writes_every_format(trained, tmp_path, capsys):
    out = tmp_path / "out"
    code = main(
        [
            "score",
            str(SEEDS),
            "--out",
            str(out / "s.jsonl"),
            "--out",
            str(out / "s.csv"),
            "--html",
            str(out / "s.html"),
            "--quiet",
        ]
    )
    assert code == 0
    table = capsys.readouterr().out
    assert "documents scored" in table and "sentences with any technique" in table
    # the summary names the version the alias stands for, and its family
    assert re.search(
        r"model +models:/propscan@champion = version \d+ \((baseline|transformer)\)\n", table
    )
    seed = next(SEEDS.glob("*.txt"))
    text = seed.read_text(encoding="utf-8")
    docs = [json.loads(line) for line in (out / "s.jsonl").read_text().splitlines()]
    assert [d["id"] for d in docs] == [seed.name]
    assert len(docs[0]["sentences"]) > 20
    techniques = set(Predictor.load("models:/propscan@champion").techniques)
    for s in docs[0]["sentences"]:
        assert text[s["start"] : s["end"]] == s["text"]
        assert set(s["probabilities"]) == techniques
    rows = list(csv.DictReader((out / "s.csv").open(encoding="utf-8")))
    assert len(rows) == len(docs[0]["sentences"])
    assert all(text[int(r["start"]) : int(r["end"])] == r["text"] for r in rows)
    html = (out / "s.html").read_text(encoding="utf-8")
    assert seed.name in html and "Lukashenko" in html


def test_bad_inputs_are_reported_and_the_rest_scored(trained, tmp_path, capsys):
    good = tmp_path / "in" / "good.txt"
    good.parent.mkdir()
    good.write_text("The minister said the figures were wrong. Nobody believed him.\n")
    (tmp_path / "in" / "empty.txt").write_text("  \n")
    (tmp_path / "in" / "latin1.txt").write_bytes(b"Caf\xe9 owners protest.\n")
    (tmp_path / "in" / "binary.txt").write_bytes(b"\x00\x01\x02PNG")
    jsonl = tmp_path / "in" / "batch.jsonl"
    jsonl.write_text('{"id": "a", "text": "A fine report."}\n{broken\n{"id": "c"}\n')
    table = tmp_path / "in" / "rows.csv"
    table.write_text('id,text\nr1,"One row, scored."\nr2,\n')
    errors = tmp_path / "errors.jsonl"
    code = main(
        [
            "score",
            str(tmp_path / "in"),
            "--out",
            str(tmp_path / "o.jsonl"),
            "--errors",
            str(errors),
            "--quiet",
        ]
    )
    assert code == 1
    reasons = {
        json.loads(line)["origin"]: json.loads(line)["reason"]
        for line in errors.read_text().splitlines()
    }
    assert reasons[str(tmp_path / "in" / "empty.txt")] == "empty document"
    assert reasons[str(tmp_path / "in" / "latin1.txt")].startswith("not UTF-8")
    assert reasons[str(tmp_path / "in" / "binary.txt")].startswith("binary file")
    assert reasons[f"{jsonl}:2"].startswith("malformed JSON line")
    assert "missing or non-string 'text'" in reasons[f"{jsonl}:3"]
    assert reasons[f"{table}:3"] == "empty document"
    scored = {json.loads(line)["id"] for line in (tmp_path / "o.jsonl").read_text().splitlines()}
    assert scored == {"good.txt", "a", "r1"}
    assert "failed: " in capsys.readouterr().out


def test_kill_then_resume_loses_and_duplicates_nothing(trained, tmp_path):
    source = SHARED / "data" / "unlabeled" / "openwebtext-articles"
    if not source.is_dir():
        pytest.skip("unlabeled articles not available")
    inputs = tmp_path / "articles"
    inputs.mkdir()
    names = sorted(p.name for p in source.glob("*.txt"))[:150]
    for name in names:
        shutil.copy(source / name, inputs / name)
    out = tmp_path / "scores.jsonl"
    command = [
        *PROPSCAN,
        "score",
        str(inputs),
        "--out",
        str(out),
        "--quiet",
        "--model",
        str(trained["transformer"].folder),
    ]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    while time.time() < deadline and (not out.exists() or out.read_text().count("\n") < 20):
        time.sleep(0.05)
    assert proc.poll() is None, "the run finished before it could be interrupted"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    partial = [json.loads(line)["id"] for line in out.read_text().splitlines() if line.strip()]
    assert 0 < len(partial) < len(names)
    resumed = subprocess.run([*command, "--resume"], capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert f"documents skipped (--resume) {len(partial):>8,}".split() == (
        [line for line in resumed.stdout.splitlines() if "skipped" in line][0].split()
    )
    ids = [json.loads(line)["id"] for line in out.read_text().splitlines()]
    assert sorted(ids) == names  # every document once, none lost, none twice


def test_served_champion_matches_predictor(trained, mlflow_store):
    """`mlflow models serve --env-manager local` returns the seed's techniques over HTTP."""
    args = ["models", "serve", "-m", "models:/propscan@champion", "--env-manager", "local"]
    with mlflow_service(args, mlflow_store, MLFLOW_ALLOW_PICKLE_DESERIALIZATION="false") as base:
        text = next(SEEDS.glob("*.txt")).read_text(encoding="utf-8")
        body = json.dumps({"dataframe_split": {"columns": ["text"], "data": [[text]]}}).encode()
        request = urllib.request.Request(
            f"{base}/invocations", data=body, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            predictions = json.loads(response.read())["predictions"]
        expected = Predictor.load("models:/propscan@champion").score([text])[0]
        # Real JSON lists and objects, the shape of the JSONL output, not JSON in strings.
        assert predictions[0]["sentences"] == expected
        assert predictions[0]["techniques"] == sorted(
            {t for s in expected for t in s["techniques"]}
        )
        assert predictions[0]["n_sentences"] == len(expected)


def test_a_document_that_breaks_the_model_is_reported_not_fatal(trained, tmp_path, capsys):
    """If scoring itself fails on one document, the others of its batch are still scored."""
    from model.batch import score_inputs

    class FailsOnMarker(Predictor):
        def score(self, texts):
            if any("POISON" in t for t in texts):
                raise RuntimeError("model failure")
            return super().score(texts)

    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(5):
        (folder / f"doc{i}.txt").write_text(f"Report number {i}. The council met.\n")
    (folder / "doc2.txt").write_text("POISON text that breaks the model.\n")
    out = tmp_path / "o.jsonl"
    summary = score_inputs(
        [str(folder)], FailsOnMarker(trained["baseline"].folder), [out], progress=False
    )
    assert [e.origin for e in summary.errors] == [str(folder / "doc2.txt")]
    assert "scoring failed" in summary.errors[0].reason
    warnings = [line for line in capsys.readouterr().err.splitlines() if "warning:" in line]
    assert warnings == [
        "warning: scoring a batch of 5 documents failed (RuntimeError('model failure')); "
        "scoring them one at a time"
    ]
    ids = {json.loads(line)["id"] for line in out.read_text().splitlines()}
    assert ids == {"doc0.txt", "doc1.txt", "doc3.txt", "doc4.txt"}


def test_resumed_csv_only_report_says_what_it_leaves_out(trained, tmp_path, capsys):
    from model.batch import score_inputs

    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.txt").write_text("The council met on Monday.\n")
    (folder / "b.txt").write_text("Rain is expected.\n")
    out, html = tmp_path / "o.csv", tmp_path / "r.html"
    predictor = Predictor(trained["baseline"].folder)
    score_inputs([str(folder)], predictor, [out], progress=False)
    (folder / "c.txt").write_text("These traitors want to ruin us all.\n")
    score_inputs([str(folder)], predictor, [out], html_path=html, resume=True, progress=False)
    assert "only the documents scored now" in capsys.readouterr().err
    report = html.read_text()
    # the last document of a CSV is always scored again (its rows may be cut short)
    assert "These traitors" in report and "Rain" in report and "council met" not in report


def test_resume_completes_a_csv_document_cut_between_rows(trained, tmp_path):
    from model.batch import score_inputs

    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.txt").write_text("The council met on Monday.\nIt voted.\n")
    (folder / "b.txt").write_text("One came.\nTwo came.\nThree came.\nFour came.\n")
    out = tmp_path / "o.csv"
    predictor = Predictor(trained["baseline"].folder)
    score_inputs([str(folder)], predictor, [out], progress=False)
    complete = out.read_text()
    rows = list(csv.reader(io.StringIO(complete, newline="")))
    assert [r[0] for r in rows[1:]] == ["a.txt"] * 2 + ["b.txt"] * 4
    # An interrupted run wrote a's rows and only the first two of b's.
    cut = io.StringIO(newline="")
    csv.writer(cut).writerows(rows[:5])
    out.write_text(cut.getvalue(), newline="")
    score_inputs([str(folder)], predictor, [out], resume=True, progress=False)
    assert out.read_text() == complete  # b completed, every row once, in order


def test_outputs_inside_the_input_folder_are_never_scored(trained, tmp_path, capsys):
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "a.txt").write_text("The council met on Monday.\n")
    (folder / "b.txt").write_text("These traitors want to ruin us all.\n")
    args = ["score", str(folder), "--out", str(folder / "scores.jsonl")]
    args += ["--out", str(folder / "scores.csv"), "--errors", str(folder / "errors.jsonl")]
    assert main([*args, "--quiet"]) == 0
    assert main([*args, "--resume", "--quiet"]) == 0
    assert re.search(r"inputs failed +0\n", capsys.readouterr().out)
    ids = [json.loads(line)["id"] for line in (folder / "scores.jsonl").read_text().splitlines()]
    assert ids == ["a.txt", "b.txt"]


def test_refused_outputs_leave_earlier_results_untouched(trained, tmp_path, capsys):
    source = tmp_path / "a.txt"
    source.write_text("The council met on Monday.\n")
    kept = tmp_path / "kept.jsonl"
    assert main(["score", str(source), "--out", str(kept), "--quiet"]) == 0
    before = kept.read_bytes()
    assert main(["score", str(source), "--out", str(kept), "--out", "o.txt", "--quiet"]) == 2
    assert "must end in .jsonl, .csv or .tsv" in capsys.readouterr().err
    assert main(["score", str(kept), "--out", str(kept), "--quiet"]) == 2
    assert "both an input and an output" in capsys.readouterr().err
    assert kept.read_bytes() == before
    assert main(["score", str(source), "--quiet"]) == 2
    assert "nothing to write" in capsys.readouterr().err


def test_resume_names_a_corrupted_earlier_output(trained, tmp_path, capsys):
    source = tmp_path / "a.txt"
    source.write_text("The council met on Monday.\n")
    out = tmp_path / "o.jsonl"
    out.write_text('{"id": "x.txt", "text": "fine"}\n{"id": oops}\n')
    assert main(["score", str(source), "--out", str(out), "--resume", "--quiet"]) == 2
    assert f"{out}:2: not a propscan output line" in capsys.readouterr().err


def test_an_unknown_model_version_is_an_error_message(trained, tmp_path, capsys):
    source = tmp_path / "a.txt"
    source.write_text("The council met on Monday.\n")
    args = ["score", str(source), "--out", str(tmp_path / "o.jsonl"), "--quiet"]
    assert main([*args, "--model", "models:/propscan/999"]) == 2
    assert "propscan: error:" in capsys.readouterr().err


def test_a_folder_with_nothing_to_read_says_so_and_fails(trained, tmp_path, capsys):
    folder = tmp_path / "downloads"
    folder.mkdir()
    for name in ("a.pdf", "b.pdf", "c.png", "d.html", "e.rst"):
        (folder / name).write_bytes(b"not for propscan")
    code = main(["score", str(folder), "--out", str(tmp_path / "o.jsonl"), "--quiet"])
    out = capsys.readouterr().out
    assert code == 1 and "nothing was scored" in out
    assert re.search(
        r"files not read \(other types\) +5  \(\.pdf 2, \.png 1, \.html 1, \.rst 1\)", out
    )


def test_a_missing_input_is_refused_before_the_model_loads(mlflow_store, tmp_path, capsys):
    (tmp_path / "a.txt").write_text("The council met on Monday.\n")
    args = ["score", str(tmp_path / "a.txt"), str(tmp_path / "typo.txt"), "--quiet"]
    code = main([*args, "--out", str(tmp_path / "o.jsonl"), "--model", "models:/nope/1"])
    err = capsys.readouterr().err
    assert code == 2 and f"no such file or folder: {tmp_path / 'typo.txt'}" in err
    assert "nope" not in err and not (tmp_path / "o.jsonl").exists()


def test_two_tables_with_the_same_ids_keep_all_rows_and_resume(trained, tmp_path, capsys):
    for name in ("monday", "tuesday"):
        (tmp_path / f"{name}.csv").write_text(f"id,text\n1,The council met on {name}.\n2,\n")
    inputs = [str(tmp_path / "monday.csv"), str(tmp_path / "tuesday.csv")]
    out, html = tmp_path / "o.jsonl", tmp_path / "r.html"
    assert main(["score", *inputs, "--out", str(out), "--html", str(html), "--quiet"]) == 1
    ids = [json.loads(line)["id"] for line in out.read_text().splitlines()]
    assert ids == [f"{tmp_path}/monday.csv/1", f"{tmp_path}/tuesday.csv/1"]
    report = html.read_text()
    assert f"<td>{tmp_path}/tuesday.csv:3</td><td>empty document</td>" in report
    capsys.readouterr()
    assert main(["score", *inputs, "--out", str(out), "--resume", "--quiet"]) == 1
    assert re.search(r"documents skipped \(--resume\) +2\n", capsys.readouterr().out)
    assert len(out.read_text().splitlines()) == 2


def test_progress_shows_documents_done_of_the_total(trained, tmp_path, capsys):
    from model.batch import score_inputs

    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(3):
        (folder / f"{i}.txt").write_text(f"Report {i}. The council met.\n")
    (folder / "rows.jsonl").write_text('{"text": "One."}\n{broken\n')
    score_inputs([str(folder)], Predictor(trained["baseline"].folder), [tmp_path / "o.jsonl"])
    assert "5/5 [" in capsys.readouterr().err


def test_a_run_on_line_is_scored_with_its_cut_pieces_marked(trained):
    text = "Intro sentence here. " + " ".join(f"word{i}" for i in range(2_000))
    [sentences] = Predictor(trained["baseline"].folder).score([text])
    assert sentences[0]["text"] == "Intro sentence here." and "cut" not in sentences[0]
    assert len(sentences) == 4 and all(s["cut"] is True for s in sentences[1:])
    assert all(text[s["start"] : s["end"]] == s["text"] for s in sentences)
