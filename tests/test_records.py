"""Reading sentence records: every kind of bad line is named by file and line."""

import json

import pytest

from data.records import RecordError, read_records, write_records

GOOD = {
    "id": "d1:0",
    "doc_id": "d1",
    "sent_idx": 0,
    "start": 10,
    "end": 31,
    "text": "A reckless, bad plan.",
    "labels": ["loaded_language"],
    "spans": [{"technique": "loaded_language", "start": 12, "end": 20}],
    "source": "test",
}


def write_lines(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def test_round_trip(tmp_path):
    path = tmp_path / "r.jsonl"
    assert write_records(path, [GOOD, {**GOOD, "id": "d1:1"}]) == 2
    assert list(read_records(path))[0] == GOOD


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"labels": ["gaslighting"], "spans": []}, "unknown technique 'gaslighting'"),
        (
            {"spans": [{"technique": "loaded_language", "start": 5, "end": 20}]},
            "span loaded_language 5-20 lies outside the sentence 10-31",
        ),
        ({"end": 40}, "offsets 10-40 do not match the text's length 21"),
        (
            {"labels": [], "spans": [{"technique": "doubt", "start": 12, "end": 20}]},
            "span technique doubt is not in labels",
        ),
        ({"labels": [["doubt"]], "spans": []}, "unknown technique ['doubt']"),
        (
            {"spans": [{"technique": "loaded_language", "start": "12", "end": 20}]},
            "span offsets '12'-20 must be integers",
        ),
        ({"sent_idx": True}, "sent_idx must be a non-negative integer"),
    ],
)
def test_invalid_record_names_file_and_line(tmp_path, change, message):
    path = tmp_path / "bad.jsonl"
    write_lines(path, [GOOD, {**GOOD, **change}])
    with pytest.raises(RecordError) as err:
        list(read_records(path))
    assert str(err.value).startswith(f"{path}:2: ")
    assert message in str(err.value)


def test_missing_field_and_bad_json(tmp_path):
    path = tmp_path / "bad.jsonl"
    row = dict(GOOD)
    del row["source"]
    write_lines(path, [row])
    with pytest.raises(RecordError, match=r"bad.jsonl:1: missing field source"):
        list(read_records(path))
    path.write_text(json.dumps(GOOD) + "\n{not json\n")
    with pytest.raises(RecordError, match=r"bad.jsonl:2: not valid JSON"):
        list(read_records(path))
