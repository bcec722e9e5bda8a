"""`alliance report clinic` and `alliance report case` on the test database."""

from __future__ import annotations

import io

import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from alliance.cli.main import cli
from alliance.web.audit.models import Event


def words(path) -> str:
    return " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(
        path.read_bytes())).pages).split())


def test_the_clinic_report_is_written_for_a_clinic_named_by_id_or_name_and_audited(
        clinic, case, tmp_path):
    out = tmp_path / "clinic.pdf"
    for which in (clinic.name, str(clinic.pk)):
        result = CliRunner().invoke(cli, ["report", "clinic", "--clinic", which, "--out",
                                          str(out), "--date", "2026-03-31"])
        assert result.exit_code == 0, result.output
        assert f"Wrote {out}" in result.output
    text = words(out)
    assert "Clinic report" in text and clinic.name in text and "31 Mar 2026" in text
    assert "all therapists of the clinic" in text
    event = Event.objects.order_by("-id").first()
    assert (event.action, event.clinic_id, event.actor_name) == \
        ("export", clinic.pk, "command line (alliance report)")


def test_the_case_report_for_the_client_is_written_and_audited(case, tmp_path):
    out = tmp_path / "summary.pdf"
    result = CliRunner().invoke(cli, ["report", "case", "--case", str(case.pk), "--for-client",
                                      "--out", str(out)])
    assert result.exit_code == 0, result.output
    text = words(out)
    assert "Our work together" in text and case.client.code in text
    event = Event.objects.order_by("-id").first()
    assert (event.action, event.target_type, event.target_id) == \
        ("export", "care.case", str(case.pk))


@pytest.mark.parametrize("arguments, message", [
    (["clinic", "--clinic", "Nowhere", "--out", "x.pdf"], "no clinic with the id or name"),
    (["case", "--case", "999999", "--out", "x.pdf"], "no case with the id 999999"),
    (["clinic", "--clinic", "1", "--date", "31/03/2026", "--out", "x.pdf"], "not a date"),
])
def test_an_unknown_clinic_or_case_or_a_bad_date_is_a_clean_error(db, arguments, message,
                                                                   tmp_path):
    result = CliRunner().invoke(cli, ["report", *arguments])
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "x.pdf").exists()
