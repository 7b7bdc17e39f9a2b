"""Reading documents to score: every good row read, every bad one named by file and line."""

from model.inputs import Document, InputError, read_inputs


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
