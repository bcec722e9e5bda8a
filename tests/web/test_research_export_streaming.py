"""Research exports written a chunk of cases at a time: the same files as the tables built
in memory; a large export is prepared by the worker and only its requester downloads it."""

from __future__ import annotations

import io
import zipfile

import pandas as pd
import pytest
from django.urls import reverse

from alliance.web.audit.models import Event
from alliance.web.checkins.models import Administration
from alliance.web.interop import exports, history, research
from alliance.web.interop.models import ExportJob


@pytest.fixture
def year(clinic, therapist, other_therapist, tmp_path):
    path = tmp_path / "year.csv"
    history.write_simulated_year(path, [therapist.user.email, other_therapist.user.email],
                                 clients=12)
    history.import_history(path, clinic, recompute=False)
    form = Administration.objects.filter(instrument_id="alliance-client").first()
    form.answers = {"more_helpful": "=cmd|' /C calc'!A0"}
    form.save()
    return clinic


@pytest.fixture
def export_dir(settings, tmp_path):
    settings.EXPORT_DIR = tmp_path / "exports"
    return settings.EXPORT_DIR


def read_zip(content: bytes) -> dict[str, bytes]:
    archive = zipfile.ZipFile(io.BytesIO(content))
    return {name: archive.read(name) for name in archive.namelist()}


@pytest.mark.parametrize("chunk", [1, 5, 1000])
def test_files_written_in_chunks_are_those_of_the_tables_in_memory(year, tmp_path,
                                                                   monkeypatch, chunk):
    monkeypatch.setattr(research, "CHUNK_CASES", chunk)
    out = io.BytesIO()
    written = research.write_zip(out, year, "both", include_text=True, description="d")
    streamed = read_zip(out.getvalue())
    export = research.build_export(year, include_text=True)
    in_memory = research.export_files(export, "both", description="d")
    assert list(streamed) == list(in_memory)
    for name in in_memory:
        if name.endswith(".parquet"):
            pd.testing.assert_frame_equal(pd.read_parquet(io.BytesIO(streamed[name])),
                                          pd.read_parquet(io.BytesIO(in_memory[name])),
                                          check_dtype=False)
        else:
            assert streamed[name] == in_memory[name], name
    assert written.rows == {name: len(frame) for name, frame in export.tables().items()}
    assert b"'=cmd" in streamed["answers.csv"]


def test_an_empty_clinic_exports_files_with_their_headers_only(clinic, tmp_path):
    written = research.write_files(tmp_path / "empty", clinic, "both")
    assert written.rows == {"sessions": 0, "items": 0, "intake": 0}
    assert (tmp_path / "empty" / "sessions.csv").read_text().startswith("client,case,")
    assert len(pd.read_parquet(tmp_path / "empty" / "items.parquet")) == 0


def test_a_folder_that_cannot_be_written_says_so(clinic, tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("")
    with pytest.raises(research.InputError, match="cannot write the file"):
        research.write_files(blocked / "export", clinic)


def test_a_large_export_is_prepared_by_the_worker_and_only_its_requester_downloads_it(
        year, admin, other_admin, supervisor, login, client, settings, export_dir):
    settings.EXPORT_IN_WORKER_SESSIONS = 10
    response = login(admin).post(reverse("interop:research_export"),
                                 {"format": "csv", "key": "research"})
    job = ExportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("interop:export_job", args=[job.pk])
    # The tests run the worker's tasks at once: the file is there already.
    assert job.status == ExportJob.Status.DONE and exports.path_of(job).exists()
    assert oct(exports.path_of(job).stat().st_mode & 0o777) == "0o600"
    page = client.get(response["Location"]).content.decode()
    download = reverse("interop:export_download", args=[job.pk])
    assert download in page
    assert not Event.objects.filter(action="export").exists()  # nothing has left yet

    got = client.get(download)
    assert got.status_code == 200 and got["Content-Type"] == "application/zip"
    assert got["Cache-Control"] == "private, no-store"
    files = read_zip(b"".join(got.streaming_content))
    assert set(files) == {"sessions.csv", "items.csv", "intake.csv", "dictionary.csv",
                          "dictionary.md"}
    sessions = pd.read_csv(io.BytesIO(files["sessions.csv"]))
    assert len(sessions) == job.sessions and sessions["therapist"].nunique() == 2
    event = Event.objects.get(action="export")
    assert f"{job.sessions} sessions" in event.detail and event.actor_id == admin.user.pk

    for other in (other_admin, supervisor):
        client.logout()
        login(other)
        assert client.get(download).status_code == 404
        assert client.get(reverse("interop:export_job", args=[job.pk])).status_code == 404
    assert Event.objects.filter(action="export").count() == 1


def test_a_failed_export_says_why_and_offers_no_download(year, admin, login, settings,
                                                         export_dir, monkeypatch):
    settings.EXPORT_IN_WORKER_SESSIONS = 10

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(research, "write_files", broken)
    response = login(admin).post(reverse("interop:research_export"),
                                 {"format": "csv", "key": "research"}, follow=True)
    job = ExportJob.objects.get()
    assert job.status == ExportJob.Status.FAILED
    page = response.content.decode()
    assert "The export could not be written: [Errno 28] No space left on device" in page
    assert reverse("interop:export_download", args=[job.pk]) not in page
    assert list(export_dir.iterdir()) == []
    assert login(admin).get(reverse("interop:export_download",
                                    args=[job.pk])).status_code == 404


def test_old_exports_are_deleted_by_the_periodic_job(year, admin, export_dir):
    from datetime import timedelta

    from django.utils import timezone

    job = exports.new_job(admin, research.Selection(), key="research", fmt="csv",
                          include_text=False, description="")
    assert exports.run(job.pk) == "done"
    job.refresh_from_db()
    path = exports.path_of(job)
    assert exports.expire(timezone.now()) == "0 old research exports removed"
    assert exports.expire(timezone.now() + timedelta(days=8)) == "1 old research exports removed"
    assert not path.exists() and not ExportJob.objects.exists()
