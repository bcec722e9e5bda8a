"""Importing history from another system: checked row by row, all or nothing, idempotent."""

from __future__ import annotations

import datetime as dt

import pytest

from alliance.web.audit.models import Event
from alliance.web.care.models import Case, Client, Session
from alliance.web.checkins.models import Administration
from alliance.web.interop import history
from alliance.web.monitoring.models import Signal

HEADER = "client,therapist,case_status,session,date,session_status,instrument,item,value\n"


def write(tmp_path, text: str, name: str = "history.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def good_file(tmp_path, therapist):
    email = therapist.user.email
    rows = [f"OLD-1,{email},closed,1,2025-03-03,attended,alliance-client,{item},{value}"
            for item, value in (("bond1", 8), ("bond2", 9), ("goals1", 6), ("goals2", 7),
                                ("tasks1", 5), ("tasks2", 7))]
    rows += [f"OLD-1,{email},closed,2,2025-03-10,no_show,,,",
             f"OLD-1,{email},closed,3,2025-03-17,attended,wellbeing,total,6.5",
             f"OLD-2,{email},,1,2025-04-01,attended,phq-9,total,14"]
    return write(tmp_path, HEADER + "\n".join(rows) + "\n")


def test_a_good_file_becomes_clients_cases_sessions_and_scored_forms(clinic, therapist,
                                                                      tmp_path):
    result = history.import_history(good_file(tmp_path, therapist), clinic)

    assert (result.clients, result.cases, result.sessions, result.administrations) == \
        (2, 2, 4, 3)
    case = Case.objects.get(client__code="OLD-1")
    assert case.status == Case.Status.CLOSED and case.end_date == dt.date(2025, 3, 17)
    assert case.start_date == dt.date(2025, 3, 3) and case.therapist == therapist
    assert case.sessions.get(number=2).status == Session.Status.NO_SHOW
    checkin = Administration.objects.get(session__case=case, instrument_id="alliance-client")
    # Scored by the core engine: bond = mean(8, 9).
    assert checkin.scores["subscales"]["bond"] == 8.5
    assert checkin.scores["total"] == pytest.approx(42 / 6)
    # Scores given as scores are kept, with their POMP from the instrument's range.
    phq = Administration.objects.get(instrument_id="phq-9")
    assert phq.responses is None and phq.scores["total"] == 14
    assert phq.scores["pomp"]["total"] == pytest.approx(14 / 27 * 100)
    assert Case.objects.get(client__code="OLD-2").status == Case.Status.ACTIVE


def test_importing_the_same_file_again_adds_nothing(clinic, therapist, tmp_path):
    path = good_file(tmp_path, therapist)
    history.import_history(path, clinic)
    again = history.import_history(path, clinic)
    assert (again.clients, again.cases, again.sessions, again.administrations) == (0, 0, 0, 0)
    assert again.unchanged == 3
    assert Administration.objects.count() == 3 and Session.objects.count() == 4


def test_every_bad_row_is_listed_with_its_line_and_column_and_nothing_is_imported(
        clinic, therapist, admin, tmp_path):
    email = therapist.user.email
    text = HEADER + "\n".join([
        f"OLD-1,{email},,1,2025-03-03,attended,alliance-client,bond1,8",
        f"OLD-1,nobody@example.org,,1,2025-03-03,attended,alliance-client,bond2,8",
        f"OLD-1,{email},,1,03/03/2025,attended,alliance-client,bond2,8",
        f"OLD-1,{email},,1,2025-03-03,attended,alliance-client,bond2,11",
        f"OLD-1,{email},,1,2025-03-03,attended,alliance-client,bond9,5",
        f"OLD-1,{email},,1,2025-03-03,attended,alliance-client,goals1,\"7,5\"",
        f"OLD-1,{email},,2,2025-03-10,maybe,,,",
        f"OLD-1,{email},,1,2025-03-04,attended,wellbeing,total,5",
        f"OLD-1,{admin.user.email},,1,2025-03-03,attended,alliance-client,bond2,8",
        f"OLD-1,{email},,1,2025-03-03,attended,alliance-client,bond1,7",
    ]) + "\n"
    with pytest.raises(history.HistoryImportError) as caught:
        history.import_history(write(tmp_path, text), clinic)
    found = [(p.line, p.column) for p in caught.value.problems]
    assert found == [(3, "therapist"), (4, "date"), (5, "value"), (6, "item"), (7, "value"),
                     (8, "session_status"), (9, "date"), (10, "therapist"), (11, "item")]
    assert "history.csv, line 7, column 'value': '7,5' is not a number (a decimal comma?)" in \
        [str(p) for p in caught.value.problems]
    assert not Client.objects.exists() and not Session.objects.exists()


def test_different_answers_for_a_form_already_there_are_refused_and_change_nothing(
        clinic, therapist, tmp_path):
    history.import_history(good_file(tmp_path, therapist), clinic)
    email = therapist.user.email
    changed = write(tmp_path, HEADER + f"OLD-1,{email},closed,3,2025-03-17,attended,wellbeing,"
                    "total,3\nOLD-9,{email},,1,2025-05-01,,,,\n".replace("{email}", email),
                    name="changed.csv")
    with pytest.raises(history.HistoryImportError, match="already has different answers"):
        history.import_history(changed, clinic)
    assert not Client.objects.filter(code="OLD-9").exists()
    assert Administration.objects.get(instrument_id="wellbeing").scores["total"] == 6.5


def test_a_dry_run_counts_what_would_be_added_and_writes_nothing(clinic, therapist, tmp_path):
    result = history.import_history(good_file(tmp_path, therapist), clinic, dry_run=True)
    assert result.dry_run and result.sessions == 4
    assert "would add 2 clients" in result.summary()
    assert not Client.objects.exists()


def test_a_file_without_the_required_columns_names_them(clinic, tmp_path):
    with pytest.raises(history.InputError, match="missing columns 'instrument', 'item'"):
        history.import_history(write(tmp_path, "client,therapist,session,date,value\n"
                                               "A,b@example.org,1,2025-01-01,3\n"), clinic)


def simulated_year(tmp_path, staff, *, clients: int):
    path = tmp_path / "year.csv"
    sessions = history.write_simulated_year(path, [m.user.email for m in staff], clients=clients)
    return path, sessions


def test_a_simulated_year_imports_and_its_signals_are_computed(clinic, therapist,
                                                               other_therapist, tmp_path):
    path, sessions = simulated_year(tmp_path, [therapist, other_therapist], clients=24)
    result = history.import_history(path, clinic)
    assert result.sessions == len(sessions)
    assert result.clients == sessions["client_id"].nunique()
    # The subscale scores survive the trip through item answers and the core's scoring.
    first = sessions.dropna(subset=["alliance"]).iloc[0]
    stored = Administration.objects.get(
        session__case__client__code=first.client_id, session__number=first.session,
        instrument_id="alliance-client")
    assert stored.scores["subscales"]["bond"] == first.bond
    assert Signal.objects.filter(case__client__clinic=clinic).exists()


def test_the_command_imports_and_records_it_in_the_audit_trail(clinic, therapist, tmp_path):
    from click.testing import CliRunner

    from alliance.cli.main import cli

    path = good_file(tmp_path, therapist)
    dry = CliRunner().invoke(cli, ["import", "history", str(path), "--clinic",
                                   "riverside-counselling", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "Dry run:" in dry.output and not Client.objects.exists()
    done = CliRunner().invoke(cli, ["import", "history", str(path), "--clinic", str(clinic.pk)])
    assert done.exit_code == 0, done.output
    assert Client.objects.count() == 2
    event = Event.objects.get(action="import")
    assert event.clinic_id == clinic.pk and "2 clients" in event.detail


def test_the_command_lists_every_problem_and_fails(clinic, therapist, tmp_path):
    from click.testing import CliRunner

    from alliance.cli.main import cli

    bad = write(tmp_path, HEADER + "A,x@example.org,,0,2025-01-01,,,,\n"
                                   "B,y@example.org,,1,2025-01-01,,,,\n")
    result = CliRunner().invoke(cli, ["import", "history", str(bad), "--clinic",
                                      "riverside-counselling"])
    assert result.exit_code == 1
    assert "line 2, column 'therapist'" in result.output
    assert "line 3, column 'therapist'" in result.output
    assert "nothing was imported" in result.output
    assert Event.objects.get(action="import").outcome == "failure"


def test_an_admin_uploads_a_file_sees_its_problems_then_imports_it(clinic, therapist, admin,
                                                                   login, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    page = login(admin)
    bad = SimpleUploadedFile("old.csv", (HEADER + "A,nobody@example.org,,1,2025-01-01,,,,\n")
                             .encode())
    response = page.post("/clinic/import/", {"file": bad})
    text = response.content.decode()
    assert response.status_code == 200
    assert "Nothing was imported: 1 problem to fix" in text
    assert "nobody@example.org" in text and not Client.objects.exists()

    good = good_file(tmp_path, therapist).read_bytes()
    checked = page.post("/clinic/import/", {"file": SimpleUploadedFile("old.csv", good),
                                            "dry_run": "on"})
    assert "The file is good" in checked.content.decode() and not Client.objects.exists()
    done = page.post("/clinic/import/", {"file": SimpleUploadedFile("old.csv", good)})
    assert "added 2 clients" in done.content.decode()
    assert Client.objects.count() == 2
    outcomes = list(Event.objects.filter(action="import").order_by("id")
                    .values_list("outcome", flat=True))
    assert outcomes == ["failure", "success", "success"]


def test_the_example_file_in_the_documentation_imports(clinic, therapist, tmp_path):
    from pathlib import Path

    docs = (Path(__file__).parents[2] / "docs" / "interop.md").read_text(encoding="utf-8")
    example = docs.split("<!-- history-example -->")[1].split("```csv\n")[1].split("```")[0]
    assert example == history.EXAMPLE  # the import page's help shows the same file
    result = history.import_history(write(tmp_path, example), clinic)
    assert (result.clients, result.cases, result.sessions, result.administrations) == \
        (2, 2, 4, 4)
    wai = Administration.objects.get(instrument_id="wai-sr")
    assert wai.scores["subscales"]["bond"] == 4.25 and wai.responses is None


def test_two_cases_of_one_client_told_apart_by_the_case_column_stay_two(clinic, therapist,
                                                                         tmp_path):
    email = therapist.user.email
    text = ("client,therapist,case,session,date,instrument,item,value\n"
            f"OLD-1,{email},A,1,2024-01-08,wellbeing,total,4\n"
            f"OLD-1,{email},B,1,2025-02-03,wellbeing,total,6\n")
    path = write(tmp_path, text)
    assert history.import_history(path, clinic).cases == 2
    assert history.import_history(path, clinic).unchanged == 2
    assert sorted(Case.objects.values_list("start_date", flat=True)) == \
        [dt.date(2024, 1, 8), dt.date(2025, 2, 3)]


def test_an_upload_with_too_many_columns_is_refused_at_once_with_a_clear_message(
        clinic, therapist, admin, login):
    from django.core.files.uploadedfile import SimpleUploadedFile

    # 20,000 columns in about 140 KB: refused after the header line, nothing imported.
    header = HEADER.strip() + "," + ",".join(f"x{k}" for k in range(20_000))
    wide = SimpleUploadedFile("wide.csv", (header + "\n" + "A," + "," * 20_010 + "\n").encode())
    response = login(admin).post("/clinic/import/", {"file": wide, "dry_run": "on"})
    text = response.content.decode()
    assert response.status_code == 200
    assert f"the file has 20,{len(HEADER.split(',')):03d} columns; at most " \
           f"{history.MAX_COLUMNS} are accepted" in text
    assert not Client.objects.exists()


def test_extra_columns_up_to_the_limit_are_left_alone(clinic, therapist, tmp_path):
    path = good_file(tmp_path, therapist)
    lines = path.read_text().splitlines()
    extra = history.MAX_COLUMNS - len(lines[0].split(","))
    widened = [lines[0] + "".join(f",old{k}" for k in range(extra))]
    widened += [line + "," * extra for line in lines[1:]]
    path.write_text("\n".join(widened) + "\n")
    assert history.import_history(path, clinic).clients == 2


def test_optional_format_and_language_columns_are_stored_and_checked(clinic, therapist,
                                                                    tmp_path):
    email = therapist.user.email
    header = ("client,therapist,session,date,session_status,format,instrument,item,value,"
              "language\n")
    rows = [f"FMT-1,{email},1,2025-03-03,attended,video,alliance-client,{item},{value},de"
            for item, value in (("bond1", 8), ("bond2", 9), ("goals1", 6), ("goals2", 7),
                                ("tasks1", 5), ("tasks2", 7))]
    rows += [f"FMT-1,{email},1,2025-03-03,attended,,wellbeing,total,6.5,",
             f"FMT-1,{email},2,2025-03-10,no_show,,,,,"]
    result = history.import_history(write(tmp_path, header + "\n".join(rows) + "\n"), clinic)
    assert result.sessions == 2
    case = Case.objects.get(client__code="FMT-1")
    # A blank cell on one row of the session does not undo the format given on another.
    assert case.sessions.get(number=1).format == Session.Format.VIDEO
    assert case.sessions.get(number=2).format == ""                 # not recorded
    forms = Administration.objects.filter(session__case=case)
    assert forms.get(instrument_id="alliance-client").language == "de"
    assert forms.get(instrument_id="wellbeing").language == ""

    bad = [f"FMT-2,{email},1,2025-03-03,attended,fax,wellbeing,total,6.5,en",
           f"FMT-3,{email},1,2025-03-03,attended,phone,wellbeing,total,6.5,english!",
           f"FMT-4,{email},1,2025-03-03,attended,phone,wellbeing,total,6.5,en",
           f"FMT-4,{email},1,2025-03-03,attended,video,phq-9,total,10,en"]
    with pytest.raises(history.HistoryImportError) as caught:
        history.import_history(write(tmp_path, header + "\n".join(bad) + "\n"), clinic)
    problems = [str(p) for p in caught.value.problems]
    assert problems == [
        "history.csv, line 2, column 'format': 'fax' is not one of in_person, phone, text, "
        "video (or blank: not recorded)",
        "history.csv, line 3, column 'language': 'english!' is not a language tag such as "
        "en, de or pt-BR",
        "history.csv, line 5, column 'format': session 1 of this case is 'phone' on line 4"]
    assert not Client.objects.filter(code__in=["FMT-2", "FMT-3", "FMT-4"]).exists()


def test_a_format_given_later_fills_in_sessions_without_one_and_never_overwrites(
        clinic, therapist, tmp_path):
    history.import_history(good_file(tmp_path, therapist), clinic)
    email = therapist.user.email
    header = "client,therapist,session,date,session_status,format,instrument,item,value\n"
    text = header + f"OLD-2,{email},1,2025-04-01,attended,phone,phq-9,total,14\n"
    result = history.import_history(write(tmp_path, text, "formats.csv"), clinic)
    assert (result.sessions, result.administrations, result.unchanged, result.formats) == \
        (0, 0, 1, 1)
    assert "recorded the format of 1 sessions already there" in result.summary()
    assert Session.objects.get(case__client__code="OLD-2", number=1).format == "phone"
    other = header + f"OLD-2,{email},1,2025-04-01,attended,video,phq-9,total,14\n"
    with pytest.raises(history.HistoryImportError, match="already recorded as 'phone'"):
        history.import_history(write(tmp_path, other, "other.csv"), clinic)
    assert Session.objects.get(case__client__code="OLD-2", number=1).format == "phone"
