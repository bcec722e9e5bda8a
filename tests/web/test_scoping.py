"""The scoping layer: who sees which client records (out of scope → 404, never 403)."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from alliance.web import scoping


def test_a_therapist_sees_their_own_cases_only(therapist, case, other_therapist_case,
                                                other_clinic_case):
    assert list(scoping.cases_for(therapist.user)) == [case]
    assert list(scoping.clients_for(therapist.user)) == [case.client]


def test_a_therapist_gets_404_for_another_therapists_case(therapist, other_therapist_case):
    with pytest.raises(Http404):
        scoping.get_case_or_404(therapist.user, other_therapist_case.pk)
    with pytest.raises(Http404):
        scoping.get_session_or_404(therapist.user, other_therapist_case.pk, 1)
    with pytest.raises(Http404):
        scoping.get_client_or_404(therapist.user, other_therapist_case.client.pk)


def test_a_therapist_gets_404_for_another_clinics_case(therapist, other_clinic_case):
    with pytest.raises(Http404):
        scoping.get_case_or_404(therapist.user, other_clinic_case.pk)


def test_a_supervisor_sees_their_supervisees_cases_and_their_own(supervisor, case, open_case,
                                                                  other_therapist_case):
    own = open_case(supervisor, "C-SUPV1")
    assert set(scoping.cases_for(supervisor.user)) == {case, own}
    assert scoping.get_case_or_404(supervisor.user, case.pk) == case


def test_a_supervisor_reads_but_does_not_change_a_supervisees_case(supervisor, case):
    with pytest.raises(PermissionDenied):
        scoping.get_case_or_404(supervisor.user, case.pk, for_change=True)
    with pytest.raises(PermissionDenied):
        scoping.get_session_or_404(supervisor.user, case.pk, 1, for_change=True)


def test_a_supervisor_does_not_see_cases_of_therapists_they_do_not_supervise(
        supervisor, other_therapist_case):
    with pytest.raises(Http404):
        scoping.get_case_or_404(supervisor.user, other_therapist_case.pk)


def test_a_supervision_link_across_clinics_grants_nothing(supervisor, other_clinic_case):
    # Even a (wrong) link to a therapist of another clinic does not open that clinic's cases.
    supervisor.supervisees.add(other_clinic_case.therapist)
    assert other_clinic_case not in scoping.cases_for(supervisor.user)


def test_an_admin_cannot_open_a_case_record(admin, case):
    assert not scoping.cases_for(admin.user).exists()
    assert not scoping.clients_for(admin.user).exists()
    with pytest.raises(Http404):
        scoping.get_case_or_404(admin.user, case.pk)


def test_a_deactivated_therapist_sees_nothing(therapist, case, admin):
    from alliance.web.clinics import services
    services.deactivate(therapist, by=admin)
    therapist.user.refresh_from_db()
    assert not scoping.cases_for(therapist.user).exists()


def test_anonymous_users_see_nothing(case):
    from django.contrib.auth.models import AnonymousUser
    assert not scoping.cases_for(AnonymousUser()).exists()
    assert not scoping.administrations_for(AnonymousUser()).exists()


@pytest.mark.parametrize("bad_pk", ["abc", None, -1, 10**12])
def test_malformed_or_unknown_ids_are_404(therapist, case, bad_pk):
    with pytest.raises(Http404):
        scoping.get_case_or_404(therapist.user, bad_pk)


def test_case_pages_answer_404_out_of_scope(login, therapist, other_therapist_case,
                                             other_clinic_case):
    client = login(therapist)
    for case in (other_therapist_case, other_clinic_case):
        assert client.get(f"/cases/{case.pk}/").status_code == 404
        assert client.get(f"/cases/{case.pk}/sessions/1/").status_code == 404
        assert client.post(f"/cases/{case.pk}/sessions/1/link/",
                           {"instrument": "alliance-client"}).status_code == 404
