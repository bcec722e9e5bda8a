"""A course of therapy for the browser tests of goals, tasks and repair.

Weekly sessions with the client's check-ins, the last one today, so that what the
therapist and the client agree in the browser (today) comes before the next session's
check-in (a week from today): a task is reported on from the session after it was agreed.
Everything is built through the services staff and clients use.
"""

from __future__ import annotations

import datetime as dt
import re

from browser_steps import ITEMS, WELLBEING_ITEMS, choose, scale


def answers(bond: int, goals: int, tasks: int) -> dict:
    """The client alliance check-in's six items: two each for the bond, goals and tasks."""
    values = {"bond": bond, "goals": goals, "tasks": tasks}
    return {item: values[item[:-1]] for item in ITEMS}


def weekly_case(riverside, code: str, check_ins, *, last: dt.date | None = None,
                email: str | None = None):
    """A case of the therapist with one attended session a week, the last one on `last`
    (default today).

    `check_ins`: per session, the client's alliance answers (a number for all six items,
    or a dict from `answers`); each session also has a wellbeing check-in. `email`: the
    client's contact address (for the portal).
    """
    from django.utils import timezone

    from alliance.web.care import services as care
    from alliance.web.care.models import Client, Session
    from alliance.web.checkins import services as checkins

    last = last or timezone.localdate()
    first = last - dt.timedelta(days=7 * (len(check_ins) - 1))
    case = care.admit_client(riverside.therapist, code=code, modality="cbt", start_date=first)
    if email:
        Client.objects.filter(pk=case.client_id).update(contact_email=email)
        case.refresh_from_db()
    for i, given in enumerate(check_ins):
        session = care.record_session(case, date=first + dt.timedelta(days=7 * i),
                                      status=Session.Status.ATTENDED)
        responses = given if isinstance(given, dict) else dict.fromkeys(ITEMS, given)
        issued = checkins.issue_link(session, "alliance-client", by=riverside.therapist)
        checkins.submit_link(issued.token, responses, {"more_helpful": ""})
        issued = checkins.issue_link(session, "wellbeing", by=riverside.therapist)
        checkins.submit_link(issued.token, dict.fromkeys(WELLBEING_ITEMS, min(9, 5 + i)), {})
    return case


def next_check_in(riverside, case, *, date: dt.date) -> str:
    """The case's next session (attended, on `date`) and the token of its unanswered client
    alliance check-in link, as the therapist issues it at the end of the session."""
    from alliance.web.care import services as care
    from alliance.web.care.models import Session
    from alliance.web.checkins import services as checkins

    session = care.record_session(case, date=date, status=Session.Status.ATTENDED)
    return checkins.issue_link(session, "alliance-client", by=riverside.therapist).token


def emailed_path(path_part: str) -> str:
    """The path of the newest e-mailed link under `path_part`.

    Only the path: the services, called here without a request, build the address from
    the configured site address (http://testserver in the test settings), not from the
    live server's.
    """
    from django.core import mail

    for message in reversed(mail.outbox):
        found = re.search(r"https?://[^/\s]+(" + re.escape(path_part) + r"[^\s/]+/)",
                          message.body)
        if found:
            return found.group(1)
    raise AssertionError(f"no e-mail with a {path_part}… link")


def client_signs_in(riverside, case, page) -> None:
    """The clinic opens its client portal, the therapist invites the client, and the client
    signs in on `page` with a sign-in link sent to their contact address."""
    from alliance.web.portal import services as portal

    clinic = case.client.clinic
    clinic.client_portal_enabled = True
    clinic.save(update_fields=["client_portal_enabled"])
    riverside.clinic.refresh_from_db()
    portal.invite(case, by=riverside.therapist)
    assert portal.request_sign_in_link(case.client.contact_email) == 1
    page.goto(emailed_path("/portal/sign-in/"))
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Welcome").wait_for()


def rate_alliance(page, value: int, *, wellbeing: int = 7) -> None:
    """Choose `value` on the six alliance questions of the open check-in, and `wellbeing`
    on the wellbeing part's questions."""
    from alliance.web import instruments

    form = instruments.form_spec(instruments.get_instrument("alliance-client"))
    for item in form.items:
        choose(scale(page, item.text), value)
    for item in instruments.form_spec(instruments.get_instrument("wellbeing")).items:
        choose(scale(page, item.text), wellbeing)
