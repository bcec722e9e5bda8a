"""Research exports: pseudonymised, stable codes per key, a dictionary, usable by the
research commands and by R."""

from __future__ import annotations

import io
import shutil
import subprocess
import zipfile

import pandas as pd
import pytest
from click.testing import CliRunner

from alliance.cli.main import cli
from alliance.web.audit.models import Event
from alliance.web.care.models import Client
from alliance.web.checkins.models import Administration
from alliance.web.interop import history, research



@pytest.fixture
def year(clinic, therapist, other_therapist, tmp_path):
    """A simulated year of the clinic's history, imported, with a free-text answer."""
    path = tmp_path / "year.csv"
    sessions = history.write_simulated_year(
        path, [therapist.user.email, other_therapist.user.email], clients=30)
    history.import_history(path, clinic)
    form = Administration.objects.filter(instrument_id="alliance-client").first()
    form.answers = {"more_helpful": "Talk about my sister Anna more."}
    form.save()
    return sessions


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_the_export_is_pseudonymised_and_its_codes_stay_the_same_for_the_same_key(clinic,
                                                                                 year):
    first = research.build_export(clinic)
    codes = set(Client.objects.values_list("code", flat=True))
    assert not codes & set(first.sessions["client"])
    assert first.sessions["client"].str.fullmatch(r"C[A-Z2-9]{8}").all()
    assert "date" not in first.sessions.columns and first.answers is None
    assert len(first.sessions) == len(year)

    again = research.build_export(clinic)
    pd.testing.assert_frame_equal(first.sessions, again.sessions)
    other_key = research.build_export(clinic, key="study-2")
    assert not set(other_key.sessions["client"]) & set(first.sessions["client"])


def test_the_scores_are_those_stored_and_the_dictionary_describes_every_column(clinic, year):
    export = research.build_export(clinic)
    answered = year.dropna(subset=["alliance"])
    assert export.sessions["alliance_client_bond"].dropna().sort_values().tolist() == \
        sorted(answered["bond"].tolist())
    described = export.dictionary.groupby("table")["column"].apply(set)
    assert described["sessions"] == set(export.sessions.columns)
    assert described["items"] == set(export.items.columns)
    bond = export.dictionary.set_index("column").loc["alliance_client_bond"]
    assert bond["range"] == "0–10" and bond["versions"] == "1.0"


def test_a_selection_narrows_the_export(clinic, therapist, year):
    only = research.build_export(clinic, selection=research.Selection(
        therapist_ids=(therapist.pk,), instrument_ids=("wellbeing",)))
    everything = research.build_export(clinic)
    assert only.sessions["therapist"].nunique() == 1
    assert 0 < len(only.sessions) < len(everything.sessions)
    assert not any(c.startswith("alliance_client") for c in only.sessions.columns)


def test_the_command_writes_files_that_the_analysis_commands_read(clinic, year, tmp_path):
    out = tmp_path / "export"
    result = run("export", "research", "--clinic", "riverside-counselling", "--out", out,
                 "--format", "both")
    assert result.exit_code == 0, result.output
    assert {p.name for p in out.iterdir()} == {
        "sessions.csv", "sessions.parquet", "items.csv", "items.parquet", "intake.csv",
        "intake.parquet", "dictionary.csv", "dictionary.md"}
    assert pd.read_parquet(out / "sessions.parquet").shape == \
        pd.read_csv(out / "sessions.csv").shape
    within = run("analyze", "within-between", out / "sessions.csv", "--outcome",
                 "wellbeing_total", "--predictor", "alliance_client_total", "--client",
                 "client", "--session", "session", "--json")
    assert within.exit_code == 0, within.output
    expected = run("analyze", "expected", out / "sessions.csv", "--client", "case",
                   "--session", "session", "--outcome", "wellbeing_total", "--min-cases", "5",
                   "--json")
    assert expected.exit_code == 0, expected.output
    event = Event.objects.get(action="export")
    assert "research export" in event.detail and "free text" not in event.detail


def test_free_text_is_exported_only_when_asked_and_that_is_audited(clinic, year, tmp_path):
    plain = run("export", "research", "--clinic", clinic.pk, "--out", tmp_path / "a")
    assert plain.exit_code == 0 and not (tmp_path / "a" / "answers.csv").exists()
    assert "Anna" not in "".join(p.read_text() for p in (tmp_path / "a").glob("*.csv"))
    text = run("export", "research", "--clinic", clinic.pk, "--out", tmp_path / "b",
               "--include-text")
    assert text.exit_code == 0
    assert "Anna" in (tmp_path / "b" / "answers.csv").read_text()
    assert Event.objects.filter(action="export", detail__contains="with free text").count() == 1


@pytest.mark.skipif(shutil.which("Rscript") is None, reason="R is not installed")
def test_r_reads_the_export(clinic, year, tmp_path):
    out = tmp_path / "export"
    assert run("export", "research", "--clinic", clinic.pk, "--out", out, "--format",
               "both").exit_code == 0
    script = (f"s <- read.csv('{out / 'sessions.csv'}'); "
              "stopifnot(is.numeric(s$alliance_client_total), nrow(s) > 0); "
              "cat(nrow(s), mean(s$alliance_client_total, na.rm = TRUE), '\\n'); "
              "if (requireNamespace('arrow', quietly = TRUE)) { "
              f"p <- arrow::read_parquet('{out / 'sessions.parquet'}'); "
              "stopifnot(nrow(p) == nrow(s)) }")
    done = subprocess.run(["Rscript", "-e", script], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    rows, mean = done.stdout.split()
    sessions = pd.read_csv(out / "sessions.csv")
    assert int(rows) == len(sessions)
    assert float(mean) == pytest.approx(sessions["alliance_client_total"].mean(), rel=1e-6)


def test_an_admin_downloads_a_zip_and_a_supervisor_only_their_supervisees(
        clinic, year, admin, supervisor, therapist, other_therapist, login, client):
    response = login(admin).post("/clinic/research-export/", {"format": "csv",
                                                             "key": "research"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert set(archive.namelist()) == {"sessions.csv", "items.csv", "intake.csv",
                                       "dictionary.csv", "dictionary.md"}
    everyone = pd.read_csv(archive.open("sessions.csv"))
    assert everyone["therapist"].nunique() == 2

    client.logout()
    response = login(supervisor).post("/clinic/research-export/", {"format": "csv",
                                                                  "key": "research"})
    theirs = pd.read_csv(zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))).open("sessions.csv"))
    assert theirs["therapist"].nunique() == 1
    assert Event.objects.filter(action="export").count() == 2


def test_a_form_with_dates_the_wrong_way_round_says_so(clinic, admin, login):
    response = login(admin).post("/clinic/research-export/", {
        "format": "csv", "key": "research", "date_from": "2025-06-01",
        "date_to": "2025-01-01"})
    assert response.status_code == 200
    assert "The end date is before the start date." in response.content.decode()
    assert not Event.objects.filter(action="export").exists()


def test_open_answers_that_could_run_as_formulas_are_neutralised_in_the_csv(clinic, year,
                                                                            tmp_path):
    formulas = {"more_helpful": "=HYPERLINK(\"http://x.example\",\"help\")",
                "less_helpful": "-2+3+cmd|' /C calc'!A0", "other": "@SUM(A1:A9)"}
    form = Administration.objects.filter(instrument_id="alliance-client").first()
    form.answers = formulas
    form.save()
    result = run("export", "research", "--clinic", clinic.pk, "--out", tmp_path / "x",
                 "--include-text", "--format", "both")
    assert result.exit_code == 0, result.output
    texts = set(pd.read_csv(tmp_path / "x" / "answers.csv")["text"])
    assert {"'" + text for text in formulas.values()} <= texts
    assert not any(str(t).startswith(("=", "+", "-", "@")) for t in texts)
    # Scores stay numbers; Parquet is not for spreadsheets and keeps the text as typed.
    assert pd.read_csv(tmp_path / "x" / "sessions.csv")["alliance_client_total"].dtype.kind == "f"
    assert set(formulas.values()) <= set(pd.read_parquet(tmp_path / "x" / "answers.parquet")["text"])


def test_the_session_format_and_the_form_language_are_exported(clinic, year):
    from alliance.web.care.models import Session

    first = Session.objects.filter(case__client__clinic=clinic).order_by("pk").first()
    first.format = Session.Format.VIDEO
    first.save()
    Administration.objects.filter(session=first).update(language="de")
    export = research.build_export(clinic)
    assert set(export.sessions["session_format"]) == {"video", ""}
    assert (export.sessions["session_format"] == "video").sum() == 1
    assert set(export.items["language"]) == {"de", ""}
    answered = Administration.objects.filter(session=first, responses__isnull=False)
    assert (export.items["language"] == "de").sum() == sum(len(a.responses) for a in answered)
    described = export.dictionary.set_index(["table", "column"])
    assert "not recorded" in described.loc[("sessions", "session_format"), "description"]
    assert "BCP 47" in described.loc[("items", "language"), "description"]
