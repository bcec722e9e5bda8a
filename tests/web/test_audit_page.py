"""The administrator's audit page: their own clinic's events, filtered, newest first."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse

from alliance.web.audit.models import Event
from alliance.web.audit.services import record
from alliance.web.audit.views import PER_PAGE


def page(browser, **query):
    response = browser.get(reverse("audit:list"), query)
    assert response.status_code == 200
    return response


def shown(response):
    return [row.id for row in response.context["rows"]]


def test_the_admin_sees_their_clinics_events_in_plain_words_newest_first(login, admin,
                                                                         therapist, case):
    first = record(None, "read", case, actor=therapist.user, clinic=therapist.clinic)
    second = record(None, "update", case, actor=therapist.user, clinic=therapist.clinic,
                    detail="case closed")
    response = page(login(admin))
    assert shown(response)[:2] == [second.id, first.id]
    html = response.content.decode()
    assert "Changed" in html and "Viewed" in html and "case closed" in html
    assert therapist.display_name in html and case.client.code in html


def test_another_clinics_events_are_never_shown(login, admin, other_admin, case, therapist,
                                                other_clinic_case, other_clinic_therapist):
    ours = record(None, "read", case, actor=therapist.user, clinic=therapist.clinic)
    theirs = record(None, "read", other_clinic_case, actor=other_clinic_therapist.user,
                    clinic=other_clinic_therapist.clinic)
    assert theirs.id not in shown(page(login(admin)))
    other = page(login(other_admin))
    assert ours.id not in shown(other) and theirs.id in shown(other)
    # Not even by naming the other clinic's client or staff member in the filter.
    response = login(admin).get(reverse("audit:list"),
                                {"client": other_clinic_case.client.code,
                                 "person": other_clinic_therapist.pk})
    assert response.context["rows"] == []
    assert "no client with the code" in response.content.decode()


def test_the_admin_filters_by_staff_member_client_and_days(login, admin, therapist,
                                                           other_therapist, case,
                                                           other_therapist_case):
    by_therapist = record(None, "read", case, actor=therapist.user, clinic=therapist.clinic)
    by_other = record(None, "read", other_therapist_case, actor=other_therapist.user,
                      clinic=other_therapist.clinic)
    browser = login(admin)
    assert shown(page(browser, person=therapist.pk)) == [by_therapist.id]
    assert shown(page(browser, client=other_therapist_case.client.code.lower())) == [by_other.id]
    today = by_other.at.date()
    assert by_other.id in shown(page(browser, since=today.isoformat(), until=today.isoformat()))
    assert shown(page(browser, until=(today - dt.timedelta(days=1)).isoformat())) == []


def test_a_backwards_date_range_is_explained_and_shows_nothing(login, admin, therapist, case):
    record(None, "read", case, actor=therapist.user, clinic=therapist.clinic)
    response = page(login(admin), since="2026-03-01", until="2026-02-01")
    assert response.context["rows"] == []
    assert "The last day is before the first day." in response.content.decode()


def test_the_trail_is_paginated(login, admin, therapist, case):
    events = [record(None, "read", case, actor=therapist.user, clinic=therapist.clinic)
              for _ in range(PER_PAGE + 1)]
    client = login(admin)
    first = page(client)
    assert len(first.context["rows"]) == PER_PAGE
    assert 'rel="next"' in first.content.decode()
    assert events[0].id in shown(page(client, page=2))


def test_the_admin_navigation_links_to_the_audit_trail(login, admin):
    html = login(admin).get(reverse("clinics:staff")).content.decode()
    assert f'href="{reverse("audit:list")}"' in html


def test_every_event_on_the_page_is_the_admins_clinics(login, admin, therapist, case):
    record(None, "read", case, actor=therapist.user, clinic=therapist.clinic)
    rows = page(login(admin)).context["rows"]
    assert rows and {Event.objects.get(pk=r.id).clinic_id for r in rows} == {admin.clinic_id}


def test_every_action_of_the_vocabulary_has_words_on_the_page():
    from alliance.web.audit.services import ACTIONS
    from alliance.web.audit.words import ACTION_WORDS

    assert set(ACTION_WORDS) == ACTIONS


def test_people_and_records_are_named_in_words(login, admin, supervisor, case, issued,
                                               client_answers):
    from alliance.web.checkins import services as checkins
    # A supervisor's page view, and the client answering through the check-in link.
    login(supervisor).get(reverse("care:case", args=[case.pk]))
    checkins.submit_link(issued.token, client_answers, {"more_helpful": ""},
                         also=lambda stored: record(None, "update", stored, actor=issued.link,
                                                    clinic=case.client.clinic))
    rows = page(login(admin)).context["rows"]
    said = {(row.who, row.what, row.record_name) for row in rows}
    code = case.client.code
    assert (f"{supervisor.display_name} (supervisor)", "Viewed", f"case {code}") in said
    assert (f"client {code} (check-in link)", "Changed",
            f"check-in for session 1 of case {code}") in said
    assert not any(row.record_name.startswith("administration") for row in rows)


def test_the_filter_narrows_by_what_happened(login, admin, therapist, case):
    read = record(None, "read", case, actor=therapist.user, clinic=therapist.clinic)
    changed = record(None, "update", case, actor=therapist.user, clinic=therapist.clinic)
    ids = shown(page(login(admin), action="update"))
    assert changed.id in ids and read.id not in ids


def test_the_export_is_the_filtered_trail_in_words_with_formulas_neutralised(
        login, admin, therapist, case, client):
    import csv
    import io

    record(None, "read", case, actor=therapist.user, clinic=therapist.clinic)
    record(None, "update", case, actor=therapist.user, clinic=therapist.clinic,
           detail="=HYPERLINK(\"http://evil.example\")")
    # Someone typed a formula as the e-mail address at the sign-in page.
    record(None, "login_failed", actor="@SUM(1+1)*cmd|' /C calc'!A0", clinic=therapist.clinic)
    browser = login(admin)
    response = browser.get(reverse("audit:export"), {"person": therapist.pk})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith('attachment; filename="audit-')
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["When (UTC)", "Who", "What", "Outcome", "Record", "Client", "Note",
                       "From address"]
    body = rows[1:]
    assert {r[2] for r in body} == {"Viewed", "Changed"}
    assert all(r[1] == f"{therapist.display_name} (therapist)" for r in body)
    assert all(r[4] == f"case {case.client.code}" for r in body)
    assert "'=HYPERLINK(\"http://evil.example\")" in [r[6] for r in body]
    everything = list(csv.reader(io.StringIO(
        browser.get(reverse("audit:export")).content.decode())))
    who = [r[1] for r in everything[1:]]
    assert "'@SUM(1+1)*cmd|' /C calc'!A0" in who
    assert not any(cell.startswith(("=", "@", "+")) for r in everything[1:] for cell in r)
    # The export itself is in the trail.
    assert Event.objects.filter(action="export", detail__startswith="audit trail CSV").count() == 2
