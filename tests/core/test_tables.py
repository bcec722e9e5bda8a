"""CSV reading points at the bad cell: file, line as an editor shows it, column."""

import pytest

from alliance.core.errors import InputError
from alliance.core.tables import read_csv


def write(tmp_path, text, name="data.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_numeric_columns_are_parsed_and_identifiers_stay_text(tmp_path):
    path = write(tmp_path, "client,session,score\n007,1,5.5\n007,2,\n")
    frame = read_csv(path, required=["client"], numeric=["score"], integer=["session"])
    assert list(frame["client"]) == ["007", "007"]
    assert frame["score"].iloc[0] == 5.5
    assert frame["score"].isna().iloc[1]


def test_text_in_a_numeric_column_names_file_line_and_column(tmp_path):
    path = write(tmp_path, "client,score\na,1\nb,2\nc,high\n")
    with pytest.raises(InputError) as info:
        read_csv(path, numeric=["score"])
    assert info.value.line == 4
    assert info.value.column == "score"
    assert "data.csv, line 4, column 'score': 'high' is not a number" in str(info.value)


def test_missing_column_lists_what_the_file_has(tmp_path):
    path = write(tmp_path, "client,score\na,1\n")
    with pytest.raises(InputError, match=r"missing column 'session' \(the file has: client, score\)"):
        read_csv(path, required=["client", "session"])


def test_empty_file_and_header_only_file_are_clear_errors(tmp_path):
    with pytest.raises(InputError, match="empty"):
        read_csv(write(tmp_path, ""))
    with pytest.raises(InputError, match="no data rows"):
        read_csv(write(tmp_path, "client,score\n", "header.csv"))


def test_malformed_row_reports_its_line(tmp_path):
    path = write(tmp_path, "a,b\n1,2\n3,4,5\n")
    with pytest.raises(InputError, match="line 3"):
        read_csv(path)


def test_fractional_value_in_integer_column_is_rejected(tmp_path):
    path = write(tmp_path, "session\n1\n2.5\n")
    with pytest.raises(InputError, match="line 3, column 'session': 2.5 is not a whole number"):
        read_csv(path, integer=["session"])


def test_required_value_may_not_be_empty(tmp_path):
    path = write(tmp_path, "id,session\na,1\nb,\n", "gaps.csv")
    with pytest.raises(InputError, match="line 3, column 'session': empty cell"):
        read_csv(path, integer=["session"], allow_missing=False)


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        read_csv(tmp_path / "nope.csv")
