"""Reading documents to score: every good row read, every bad one named by file and line."""

import pytest

from model.inputs import Document, InputError, Skipped, check_inputs, count_items, read_inputs


def read(paths, **kwargs):
    items = list(read_inputs([str(p) for p in paths], **kwargs))
    docs = {i.id: i for i in items if isinstance(i, Document)}
    errors = {i.origin: i.reason for i in items if isinstance(i, InputError)}
    return docs, errors


def test_jsonl_with_a_byte_order_mark_keeps_its_first_row(tmp_path):
    path = tmp_path / "rows.jsonl"
    rows = '{"id": "first", "text": "One."}\n{"id": "second", "text": "Two."}\n'
    path.write_bytes(b"\xef\xbb\xbf" + rows.encode())
    docs, errors = read([path])
    assert set(docs) == {"first", "second"} and not errors


def test_csv_keeps_long_articles_and_names_the_right_lines(tmp_path):
    path = tmp_path / "news.csv"
    long_text = "The council met again. " * 10_000  # 230,000 characters in one field
    path.write_text(
        f'id,text\n\na,"{long_text}"\n\nb,"Two\nlines."\nc,\n\nd,Last one.\n', encoding="utf-8"
    )
    docs, errors = read([path])
    assert set(docs) == {"a", "b", "d"}
    assert docs["a"].text == long_text and docs["a"].origin == f"{path}:3"
    assert docs["b"].origin == f"{path}:5" and docs["b"].text == "Two\nlines."
    assert errors == {f"{path}:7": "empty document"}
    assert docs["d"].origin == f"{path}:9"


def test_csv_rows_without_ids_are_named_by_their_line(tmp_path):
    path = tmp_path / "news.csv"
    path.write_text("text\nFirst.\n\nSecond.\n", encoding="utf-8")
    docs, _ = read([path])
    assert set(docs) == {"news:2", "news:4"}


def test_a_folder_leaves_out_the_files_in_skip(tmp_path):
    (tmp_path / "a.txt").write_text("An article.\n")
    (tmp_path / "scores.jsonl").write_text('{"id": "x", "text": "An earlier output."}\n')
    docs, _ = read([tmp_path], skip=frozenset({(tmp_path / "scores.jsonl").resolve()}))
    assert set(docs) == {"a.txt"}


def test_csv_with_a_bad_byte_loses_only_its_row(tmp_path):
    path = tmp_path / "news.csv"
    rows = b'id,text\na,First row.\nb,"Caf\xe9\nowners"\nc,Third row.\n'
    path.write_bytes(b"\xef\xbb\xbf" + rows)
    docs, errors = read([path])
    assert set(docs) == {"a", "c"} and docs["c"].origin == f"{path}:5"
    assert errors == {f"{path}:3": "not UTF-8 text"}


def test_jsonl_with_a_lone_surrogate_escape_is_an_error_not_a_crash(tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_text('{"id": "x", "text": "bad \\ud800"}\n{"id": "y", "text": "Fine."}\n')
    docs, errors = read([path])
    assert set(docs) == {"y"} and errors[f"{path}:1"].startswith("invalid Unicode")


def test_ids_from_several_inputs_are_qualified_so_none_is_lost(tmp_path):
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "x.txt").write_text(f"Story from {name}.\n")
        (tmp_path / f"{name}.csv").write_text(f"id,text\n1,Row one of {name}.\n")
    a, b = tmp_path / "a", tmp_path / "b"
    docs, errors = read([a / "x.txt", b / "x.txt", tmp_path / "a.csv", tmp_path / "b.csv"])
    assert not errors
    assert set(docs) == {f"{a}/x.txt", f"{b}/x.txt", f"{tmp_path}/a.csv/1", f"{tmp_path}/b.csv/1"}
    docs, _ = read([a, b])
    assert set(docs) == {f"{a}/x.txt", f"{b}/x.txt"}
    assert docs[f"{b}/x.txt"].text == "Story from b.\n"
    docs, _ = read([a])  # one input: ids as before
    assert set(docs) == {"x.txt"}


def test_files_of_other_types_are_reported_as_skipped(tmp_path):
    for name in ("a.pdf", "b.PDF", "c.png", "d.html", "notes/e.rst", ".hidden.pdf", ".git/f"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_bytes(b"%PDF")
    items = list(read_inputs([str(tmp_path)]))
    assert all(isinstance(i, Skipped) for i in items)
    assert sorted(i.suffix for i in items) == [".html", ".pdf", ".pdf", ".png", ".rst"]


def test_missing_inputs_are_named_before_anything_is_read(tmp_path):
    (tmp_path / "here.txt").write_text("Present.\n")
    with pytest.raises(ValueError, match=r"no such file or folder: .*gone\.txt"):
        check_inputs([str(tmp_path / "here.txt"), str(tmp_path / "gone.txt"), "-"])
    check_inputs([str(tmp_path / "here.txt"), "-"])


def test_the_progress_total_counts_every_document_and_error(tmp_path):
    (tmp_path / "a.txt").write_text("One.\n")
    (tmp_path / "empty.txt").write_text("")
    (tmp_path / "rows.jsonl").write_text('{"text": "A."}\n\n{broken\n{"text": "B."}\n')
    (tmp_path / "rows.csv").write_text('text\n"Two\nlines."\n\nThree.\n')
    (tmp_path / "skip.pdf").write_bytes(b"%PDF")
    items = [i for i in read_inputs([str(tmp_path)]) if not isinstance(i, Skipped)]
    assert count_items([str(tmp_path)]) == len(items) == 7
