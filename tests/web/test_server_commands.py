"""`alliance createclinic` and `alliance manage` against the test database."""

from __future__ import annotations

import re

from click.testing import CliRunner

from alliance.cli.main import cli
from alliance.web.clinics.models import StaffMember


def test_createclinic_creates_the_clinic_and_admin_and_prints_a_working_link(db, client):
    result = CliRunner().invoke(cli, ["createclinic", "Riverside Counselling",
                                      "--admin-email", "Admin@Riverside.example",
                                      "--admin-name", "Sam Admin"])
    assert result.exit_code == 0, result.output
    admin = StaffMember.objects.get()
    assert admin.role == "admin" and admin.clinic.name == "Riverside Counselling"
    assert admin.user.email == "admin@riverside.example"
    url = re.search(r"http://testserver(/password/set/\S+)", result.output)
    assert url, result.output
    page = client.get(url.group(1), follow=True)
    assert "Choose your password" in page.content.decode()


def test_createclinic_refuses_an_address_already_in_use(db):
    runner = CliRunner()
    runner.invoke(cli, ["createclinic", "One", "--admin-email", "a@one.example"])
    result = runner.invoke(cli, ["createclinic", "Two", "--admin-email", "a@one.example"])
    assert result.exit_code == 1
    assert "already exists" in result.output
    assert "Traceback" not in result.output


def test_createclinic_refuses_a_malformed_address(db):
    result = CliRunner().invoke(cli, ["createclinic", "One", "--admin-email", "not-an-address"])
    assert result.exit_code == 2
    assert "is not an e-mail address" in result.output


def test_manage_passes_arguments_to_django(db):
    result = CliRunner().invoke(cli, ["manage", "check", "--database", "default"])
    assert result.exit_code == 0, result.output
    assert "no issues" in result.output
