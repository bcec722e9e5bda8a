"""CSV reading points at the bad cell: file, line as an editor shows it, column."""

import pandas as pd
import pytest

from alliance.core.errors import InputError
from alliance.core.tables import file_line, read_csv, neutralise_cell, neutralise_formulas


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


def test_a_byte_order_mark_and_windows_line_endings_change_nothing(tmp_path):
    # Excel's "CSV UTF-8" starts with a byte order mark; Windows ends lines with \r\n.
    path = tmp_path / "excel.csv"
    path.write_bytes("\ufeffclient,session,score\r\n007,1,5.5\r\n008,2,\r\n".encode())
    frame = read_csv(path, required=["client"], numeric=["score"], integer=["session"])
    assert list(frame.columns) == ["client", "session", "score"]
    assert list(frame["client"]) == ["007", "008"]
    assert frame["score"].iloc[0] == 5.5


def test_a_semicolon_separated_file_gets_a_hint(tmp_path):
    path = write(tmp_path, "client;session;score\n007;1;5,5\n", "export.csv")
    with pytest.raises(InputError) as info:
        read_csv(path, required=["client", "score"], numeric=["score"])
    assert info.value.line == 1
    assert "export.csv, line 1: the file seems to use ';' as separator" in str(info.value)


def test_a_decimal_comma_gets_a_hint(tmp_path):
    path = write(tmp_path, 'client,score\na,"5,5"\n')
    with pytest.raises(InputError, match=r"line 2, column 'score': '5,5' is not a number "
                                         r"\(a decimal comma\? write 5.5\)"):
        read_csv(path, numeric=["score"])


def test_an_excel_workbook_renamed_to_csv_is_named_as_such(tmp_path):
    path = tmp_path / "book.csv"
    path.write_bytes(b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00\xb5U\x8c\x9e" + bytes(200))
    with pytest.raises(InputError, match=r"book.csv: an Excel workbook"):
        read_csv(path)


def test_a_file_that_is_not_utf8_names_the_line(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes("client,note\na,ok\nb,caf\u00e9\n".encode("latin-1"))
    with pytest.raises(InputError, match=r"latin1.csv, line 3: not a UTF-8 text file"):
        read_csv(path)


def test_a_value_too_large_to_compute_with_is_rejected(tmp_path):
    # Squares of 1e200 overflow: every variance downstream would be inf or nan.
    path = write(tmp_path, "client,score\na,5\nb,1e200\n")
    with pytest.raises(InputError, match=r"line 3, column 'score': 1e\+200 is too large"):
        read_csv(path, numeric=["score"])


def test_the_row_names_column_of_r_write_csv_is_dropped(tmp_path):
    # write.csv(x, "x.csv") in R: quoted header with an empty first name, NA for missing.
    path = write(tmp_path, '"","client","score"\n"1","007",NA\n"2","008",5\n')
    frame = read_csv(path, required=["client"], numeric=["score"])
    assert list(frame.columns) == ["client", "score"]
    assert list(frame["client"]) == ["007", "008"]
    assert frame["score"].isna().iloc[0] and frame["score"].iloc[1] == 5


def test_infinity_is_shown_as_written(tmp_path):
    path = write(tmp_path, "client,score\na,5\nb,inf\n")
    with pytest.raises(InputError, match=r"line 3, column 'score': inf is not a finite number"):
        read_csv(path, numeric=["score"])


def test_a_file_that_cannot_be_written_is_a_clear_error(tmp_path):
    import pandas as pd

    from alliance.core.tables import write_csv

    (tmp_path / "taken").write_text("")
    with pytest.raises(InputError, match=r"taken/out.csv: cannot write the file"):
        write_csv(pd.DataFrame({"a": [1]}), tmp_path / "taken" / "out.csv")


def test_lines_are_counted_as_an_editor_shows_them_past_blank_lines_and_quoted_line_breaks(
        tmp_path):
    # An open answer with a line break inside quotes, and a blank line, come before the bad cell.
    path = write(tmp_path, 'client,note,score\na,"line one\nline two",1\n\nb,,2\nc,,high\n')
    with pytest.raises(InputError, match="line 6, column 'score': 'high' is not a number"):
        read_csv(path, numeric=["score"])
    frame = read_csv(path)
    assert [file_line(frame, row) for row in range(len(frame))] == [2, 5, 6]
    plain = read_csv(write(tmp_path, "client,score\na,1\nb,2\n", "plain.csv"))
    assert [file_line(plain, row) for row in range(len(plain))] == [2, 3]


def test_a_row_with_too_many_fields_names_its_line_and_suggests_why(tmp_path):
    # An unquoted decimal comma splits one cell in two.
    path = write(tmp_path, "client,session,score\na,1,5\nb,2,5,5\n")
    with pytest.raises(InputError) as info:
        read_csv(path, numeric=["score"])
    assert info.value.line == 3
    assert str(info.value).endswith("line 3: 4 fields where the header has 3 (a decimal "
                                    "comma, or a comma inside a cell that is not quoted?)")


# Spreadsheet formulas in CSV files written for people (OWASP "CSV Injection").

FORMULAS = ["=HYPERLINK(\"http://x.example\",\"click\")", "+cmd|' /C calc'!A0", "@SUM(A1:A9)",
            "-2+3+cmd|' /C calc'!A0", "\t=1+1", "\r=1+1", "=1", "-", "+"]


@pytest.mark.parametrize("text", FORMULAS)
def test_a_text_cell_that_could_run_as_a_formula_gets_a_quote(text):
    assert neutralise_cell(text) == "'" + text


@pytest.mark.parametrize("value", ["-2", "+3", "-0.5", "-1e3", "Talk about my sister.",
                                   "a=b", "", "'=already text", -2, -2.5, 3, None])
def test_numbers_plain_text_and_values_that_are_not_text_stay_as_they_are(value):
    assert neutralise_cell(value) == value


def test_a_frame_keeps_its_numeric_columns_numbers_and_neutralises_text(tmp_path):
    frame = pd.DataFrame({"score": [-2.0, 3.0, None], "code": ["C-1", "=1+1", None],
                          "answer": ["-2+3+cmd|' /C calc'!A0", "fine", "@SUM(A1)"]})
    safe = neutralise_formulas(frame)
    assert frame.loc[1, "code"] == "=1+1"  # the caller's frame is not changed
    assert safe["code"].tolist()[:2] == ["C-1", "'=1+1"]
    assert safe["answer"].tolist() == ["'-2+3+cmd|' /C calc'!A0", "fine", "'@SUM(A1)"]
    path = tmp_path / "out.csv"
    safe.to_csv(path, index=False)
    assert path.read_text().splitlines()[1].startswith("-2.0,")
    assert pd.read_csv(path)["score"].dtype.kind == "f"


def test_a_column_name_written_twice_is_refused(tmp_path):
    for header in ("a,b,a", "a,b, a "):
        with pytest.raises(InputError, match="duplicate column names: a") as caught:
            read_csv(write(tmp_path, f"{header}\n1,2,3\n"))
        assert caught.value.line == 1


def test_a_file_wider_than_allowed_is_refused_after_its_header(tmp_path):
    path = write(tmp_path, ",".join(f"c{k}" for k in range(101)) + "\n" + "1," * 100 + "1\n")
    with pytest.raises(InputError, match="the file has 101 columns; at most 100 are accepted") as caught:
        read_csv(path, max_columns=100)
    assert caught.value.line == 1
    assert len(read_csv(path, max_columns=101).columns) == 101


# Plain files are read by pyarrow (and the numeric columns of small ones without pandas);
# the result must be what pandas reads, and every other file goes to pandas.

PLAIN = "client,session,score,note\n007,1,5.5,\n007,2,NA,ok\nc2,1,,x\nc2,2,3,y\n"


def test_a_plain_file_read_by_pyarrow_is_the_frame_pandas_reads(tmp_path, monkeypatch):
    import alliance.core.tables as tables

    path = write(tmp_path, PLAIN)
    used = []
    plain = tables._read_plain_csv
    monkeypatch.setattr(tables, "_read_plain_csv", lambda *a: used.append(1) or plain(*a))
    fast = read_csv(path, required=["client"], numeric=["score"], integer=["session"])
    assert used and fast["note"].isna().iloc[0] and list(fast["client"]) == ["007"] * 2 + ["c2"] * 2
    monkeypatch.setattr(tables, "_read_plain_csv", lambda *a: None)
    slow = read_csv(path, required=["client"], numeric=["score"], integer=["session"])
    pd.testing.assert_frame_equal(fast, slow, check_exact=True)


@pytest.mark.parametrize("text", ["client,score\n a,1\n", "client,score\na,NAN\n",
                                  "client,score\na,inf\n", "client,score\na,1,2\n"])
def test_a_file_that_is_not_plain_is_left_to_pandas(tmp_path, text):
    from alliance.core.tables import _header, _read_plain_csv

    path = write(tmp_path, text)
    assert _read_plain_csv(path, _header(path), {"score"}, ["", "NA", "NaN", "nan"], None) is None


def test_columns_keeps_only_those_and_a_missing_one_is_named_with_the_whole_header(tmp_path):
    path = write(tmp_path, PLAIN)
    frame = read_csv(path, required=["client"], numeric=["score"], columns=["score", "client"])
    assert list(frame.columns) == ["client", "score"]
    with pytest.raises(InputError, match=r"missing column 'rating' \(the file has: client, "
                                         r"session, score, note\)"):
        read_csv(path, required=["rating"], columns=["client", "rating"])


def test_numeric_columns_of_a_plain_file_are_read_without_pandas(tmp_path):
    import numpy as np

    from alliance.core.columns import read_numeric_columns

    path = write(tmp_path, "id,a,b\np1,1,2.5\np2,,NA\np3,-3,1e2\n")
    columns = read_numeric_columns(path, ["b", "a"])
    assert list(columns) == ["b", "a"]
    np.testing.assert_array_equal(columns["a"], [1, np.nan, -3])
    np.testing.assert_array_equal(columns["b"], [2.5, np.nan, 100])
    for text in ['id,a\n"p1",1\n', "id,a\np1,1\n\np2,2\n", "id,a\np1,1_0\n", "id,a\np1,inf\n",
                 "id,a\np1,1e200\n", "id,a\np1, 1\n", "id,a\np1,1,2\n", "id,a,a\np1,1,2\n",
                 "id,b\np1,1\n", "id,a\n"]:
        assert read_numeric_columns(write(tmp_path, text, "other.csv"), ["a"]) is None, text
