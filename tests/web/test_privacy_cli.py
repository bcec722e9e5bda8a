"""`alliance client export|erase`: the operator's way to a client's data, audited."""

from __future__ import annotations

import json

from click.testing import CliRunner

from alliance.cli.main import cli
from alliance.web.audit.models import Event
from alliance.web.care.models import Client
from alliance.web.goals import services as goals


def test_export_writes_the_clients_document_and_is_audited(tmp_path, case, therapist, clinic):
    goals.propose_goal(case, "Swim on Saturdays", by=therapist)
    out = tmp_path / "client.json"
    result = CliRunner().invoke(cli, ["client", "export", "C-AAAA1", "--clinic", str(clinic.pk),
                                      "--out", str(out)])
    assert result.exit_code == 0, result.output
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["format"] == "alliance-client-export"
    assert document["cases"][0]["goals"][0]["text"] == "Swim on Saturdays"
    event = Event.objects.get(action="export")
    assert event.actor_name.startswith("command line (client export")
    assert (event.target_type, event.target_id, event.clinic_id) == (
        "care.client", str(case.client_id), clinic.pk)


def test_the_clinic_can_be_named(case, clinic):
    result = CliRunner().invoke(cli, ["client", "export", "C-AAAA1", "--clinic", clinic.name])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["client"]["code"] == "C-AAAA1"


def test_an_unknown_client_or_clinic_is_a_one_line_error(case, clinic, other_clinic):
    result = CliRunner().invoke(cli, ["client", "export", "C-NONE", "--clinic", str(clinic.pk)])
    assert result.exit_code == 1 and "No client with the code 'C-NONE'" in result.output
    # The client's code in another clinic is another client (or none).
    result = CliRunner().invoke(cli, ["client", "export", "C-AAAA1", "--clinic",
                                      str(other_clinic.pk)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    result = CliRunner().invoke(cli, ["client", "export", "C-AAAA1", "--clinic", "Nowhere"])
    assert result.exit_code == 1 and "no clinic 'Nowhere'" in result.output
    assert not Event.objects.filter(action="export").exists()


def test_erase_asks_for_the_code_and_refuses_a_wrong_one(case, clinic):
    result = CliRunner().invoke(cli, ["client", "erase", "C-AAAA1", "--clinic", str(clinic.pk)],
                                input="C-AAAA9\n")
    assert result.exit_code == 1 and "Type the client's code" in result.output
    assert Client.objects.get(pk=case.client_id).erased_at is None


def test_erase_with_the_code_pseudonymises_and_is_audited(case, clinic):
    result = CliRunner().invoke(cli, ["client", "erase", "C-AAAA1", "--clinic", str(clinic.pk)],
                                input="C-AAAA1\n")
    assert result.exit_code == 0, result.output
    client = Client.objects.get(pk=case.client_id)
    assert client.erased_at is not None and client.code in result.output
    assert "1 active case closed" in result.output
    assert Event.objects.get(action="erase").actor_name.startswith("command line (client erase")
