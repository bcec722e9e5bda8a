"""Clinic administration: staff accounts, invitations, deactivation, supervision, settings."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.utils.html import escape

from alliance.web.clinics import services
from alliance.web.clinics.models import Clinic, StaffMember


def test_an_admin_creates_a_staff_account_with_a_set_password_link(login, admin, mailoutbox):
    client = login(admin)
    response = client.post("/clinic/staff/new/", {"display_name": "Dana Reyes",
                                                  "email": "Dana.Reyes@Riverside.example",
                                                  "role": "therapist", "send_email": "on"})
    assert response.status_code == 200
    member = StaffMember.objects.get(display_name="Dana Reyes")
    assert member.clinic == admin.clinic and member.role == "therapist"
    assert member.user.email == "dana.reyes@riverside.example"
    assert not member.user.has_usable_password()
    link = re.search(r"http://testserver(/password/set/[^\"<\s]+)", response.content.decode())
    assert link and link.group(1) in mailoutbox[0].body

    # The new colleague follows the link, chooses a password and signs in.
    anonymous = client.__class__()
    form = anonymous.get(link.group(1), follow=True)
    assert form.status_code == 200 and "Choose your password" in form.content.decode()
    done = anonymous.post(form.redirect_chain[-1][0],
                          {"new_password1": "river stones in spring",
                           "new_password2": "river stones in spring"})
    assert done.status_code == 302
    signed_in = anonymous.post("/login/", {"username": "DANA.REYES@riverside.example",
                                           "password": "river stones in spring"})
    assert signed_in.status_code == 302
    # The link works only once.
    assert "no longer works" in anonymous.get(link.group(1), follow=True).content.decode()


def test_an_email_address_can_have_only_one_account(admin):
    with pytest.raises(services.StaffError, match="already exists"):
        services.add_staff(admin.clinic, email="ADMIN@riverside.example", display_name="X",
                           role="therapist")


def test_a_deactivated_staff_member_cannot_sign_in(client, admin, therapist):
    services.deactivate(therapist, by=admin)
    response = client.post("/login/", {"username": therapist.user.email,
                                       "password": "a long test password"})
    assert response.status_code == 200
    assert not response.wsgi_request.user.is_authenticated


def test_a_signed_in_user_is_out_as_soon_as_they_are_deactivated(login, admin, therapist, case):
    client = login(therapist)
    services.deactivate(therapist, by=admin)
    response = client.get(f"/cases/{case.pk}/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_the_last_admin_cannot_be_deactivated_nor_deactivate_themselves(admin, therapist):
    with pytest.raises(services.StaffError, match="your own"):
        services.deactivate(admin, by=admin)
    second = services.add_staff(admin.clinic, email="second@riverside.example",
                                display_name="Second", role="admin")
    services.deactivate(admin, by=second)
    with pytest.raises(services.StaffError, match="at least one active administrator"):
        services.change_role(second, "therapist", by=therapist)


def test_an_admin_links_a_supervisor_to_supervisees(login, admin, supervisor, other_therapist):
    client = login(admin)
    response = client.post(f"/clinic/staff/{supervisor.pk}/",
                           {"role": "supervisor", "supervisees": [other_therapist.pk]})
    assert response.status_code == 302
    assert list(supervisor.supervisees.all()) == [other_therapist]


def test_supervisees_must_be_in_the_same_clinic(supervisor, other_clinic_therapist):
    with pytest.raises(services.StaffError, match="same clinic"):
        services.set_supervisees(supervisor, [other_clinic_therapist])


def test_an_admin_of_another_clinic_cannot_touch_our_staff(login, other_admin, therapist):
    client = login(other_admin)
    assert client.post(f"/clinic/staff/{therapist.pk}/deactivate/").status_code == 404
    therapist.refresh_from_db()
    assert therapist.is_active


def test_an_admin_changes_the_rupture_rule_and_link_expiry(login, admin):
    client = login(admin)
    page = client.get("/clinic/settings/")
    assert page.status_code == 200
    form = page.context["form"]
    data = {name: value for name, value in form.initial.items() if value is not None}
    data.update({"rupture_rule": "sd2", "checkin_link_expiry_hours": 24,
                 "instruments_in_use": ["alliance-client", "alliance-therapist", "wellbeing"],
                 "clients_see_alliance_scores": "on"})
    data.pop("client_portal_enabled", None)
    response = client.post("/clinic/settings/", data)
    assert response.status_code == 302, response.context["form"].errors
    clinic = Clinic.objects.get(pk=admin.clinic.pk)
    assert clinic.rupture_rule == "sd2" and clinic.rupture_m == 2
    assert clinic.checkin_link_expiry_hours == 24
    assert clinic.clients_see_alliance_scores is True


def test_the_reliable_change_rule_needs_sd_and_reliability(login, admin):
    client = login(admin)
    form = client.get("/clinic/settings/").context["form"]
    data = {name: value for name, value in form.initial.items() if value is not None}
    data.update({"rupture_rule": "rci", "instruments_in_use": ["alliance-client"]})
    data.pop("client_portal_enabled", None)
    data.pop("clients_see_alliance_scores", None)
    response = client.post("/clinic/settings/", data)
    assert response.status_code == 200
    assert "needs the score" in response.content.decode()


def test_a_new_clinic_uses_the_projects_own_check_ins(db):
    admin = services.create_clinic("Lakeside", "first@lakeside.example")
    assert admin.role == "admin"
    assert set(admin.clinic.instruments_in_use) == {"alliance-brief", "alliance-therapist",
                                                   "wellbeing"}
    assert get_user_model().objects.get(email="first@lakeside.example").has_usable_password() \
        is False


def test_a_new_clinic_starts_with_the_rule_chosen_on_the_evaluation(db):
    from alliance.core.signals import DEFAULT_RULE

    admin = services.create_clinic("Brookside", "first@brookside.example")
    assert admin.clinic.rupture_rule == DEFAULT_RULE == "sd2"
    assert admin.clinic.rupture_m == 2


def test_the_settings_page_shows_each_rule_in_the_cores_words(login, admin):
    from alliance.core.signals import RUPTURE_RULES

    html = login(admin).get("/clinic/settings/").content.decode()
    for rule in RUPTURE_RULES.values():
        assert escape(rule.label) in html
    assert "more than 1 SD" not in html and "more than 2 SD" not in html


@pytest.mark.django_db(transaction=True)
def test_the_new_default_leaves_a_clinics_stored_rule_alone():
    """The real migration, on a clinic stored before it with the old default."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    executor.migrate([("clinics", "0002_goal_and_task_settings")])
    try:
        old = executor.loader.project_state(("clinics", "0002_goal_and_task_settings")).apps
        stored = old.get_model("clinics", "Clinic").objects.create(name="Old Clinic")
        assert stored.rupture_rule == "sd1"                       # the default it was made with
        executor = MigrationExecutor(connection)
        executor.migrate([("clinics", "0003_new_clinics_default_rule_sd2")])
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
    assert Clinic.objects.get(pk=stored.pk).rupture_rule == "sd1"
    assert Clinic.objects.create(name="New Clinic").rupture_rule == "sd2"


def test_a_clinic_chooses_what_needs_attention_and_the_settings_read_in_plain_words(
        login, admin):
    from alliance.web.clinics.models import default_attention_types

    assert admin.clinic.attention_types == default_attention_types() == [
        "rupture", "not_on_track", "low_alliance", "disengagement"]
    client = login(admin)
    page = client.get("/clinic/settings/")
    html = page.content.decode()
    assert "Count as needing attention" in html and "(exploratory)" in html
    plain = re.sub(r'<details class="technical-details">.*?</details>', "", html, flags=re.S)
    plain = re.sub(r"<[^>]+>", " ", plain)  # what a reader sees, not the form's values
    for word in ("sd1", "sd2", "Multiplier", "pooled", "S_diff", "POMP", "1.96", " SD "):
        assert word not in plain, word
    assert "<summary>Technical details</summary>" in html and "<code>sd2</code>" in html
    form = page.context["form"]
    data = {name: value for name, value in form.initial.items() if value is not None}
    data.update({"attention_types": ["discrepancy", "rupture"],
                 "instruments_in_use": ["alliance-client", "alliance-therapist", "wellbeing"]})
    data.pop("client_portal_enabled", None)
    data.pop("clients_see_alliance_scores", None)
    response = client.post("/clinic/settings/", data)
    assert response.status_code == 302, response.context["form"].errors
    # Kept in the order of the choices.
    assert Clinic.objects.get(pk=admin.clinic.pk).attention_types == ["rupture", "discrepancy"]
    data["attention_types"] = ["rupture", "no_such_kind"]
    response = client.post("/clinic/settings/", data)
    assert response.status_code == 200 and "no_such_kind" in response.content.decode()
