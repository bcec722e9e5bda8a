"""What many web tests share: the client check-in's items, answers to them, and weekly
sessions from a fixed start. (Fixtures shared the same way live in conftest.py.)"""

import datetime as dt

from django.contrib.auth import get_user_model
from django.db import connection

from alliance.web.care import services as care
from alliance.web.care.models import Session
from alliance.web.clinics.models import StaffMember

#: Every test user's password.
PASSWORD = "a long test password"

#: The rating items of the project's own client alliance check-in.
ITEMS = ("bond1", "bond2", "goals1", "goals2", "tasks1", "tasks2")
#: A Monday in the past: weekly sessions start here.
START = dt.date(2026, 1, 5)


def audit_queries() -> int:
    """What one audit event costs a page: the last event's hash and the insert, and on
    PostgreSQL the advisory lock that serialises them (see alliance.web.audit.services)."""
    return 3 if connection.vendor == "postgresql" else 2


def answers(value, **items):
    """Every item of the client check-in at `value`, except those given."""
    return {**dict.fromkeys(ITEMS, value), **items}


def next_session(case, status=Session.Status.ATTENDED):
    """The case's next weekly session, session 1 on `START`."""
    number = case.next_session_number()
    return care.record_session(case, date=START + dt.timedelta(days=7 * (number - 1)),
                               status=status)


#: The wellbeing check-in's items: in a session's check-in its fields carry the prefix
#: "wellbeing-" (the alliance part's fields have none).
WELLBEING_ITEMS = ("self", "close", "everyday", "overall")


def checkin_post(answers: dict, open_text: str = "", *, wellbeing=7, safety=0) -> dict:
    """The POST of a whole session check-in: the alliance `answers`, its open question, and
    every wellbeing item at `wellbeing` (None leaves the wellbeing part unanswered), and the
    safety question at `safety` (read only where the clinic asks it)."""
    data = {**{k: str(v) for k, v in answers.items()}, "more_helpful": open_text}
    if wellbeing is not None:
        data.update({f"wellbeing-{item}": str(wellbeing) for item in WELLBEING_ITEMS})
    if safety is not None:
        data["safety-question-thoughts"] = str(safety)
    return data


def make_staff(clinic, email: str, role: str) -> StaffMember:
    """A staff member of `clinic` with `role`, signing in with `PASSWORD`."""
    user = get_user_model().objects.create_user(username=email, email=email, password=PASSWORD)
    return StaffMember.objects.create(user=user, clinic=clinic, role=role,
                                      display_name=email.split("@")[0].replace(".", " ").title())


def open_case_with_session(therapist: StaffMember, code: str, *, email: str = ""):
    """A new case of `therapist` with session 1 attended (5 January 2026)."""
    case = care.admit_client(therapist, code=code, contact_email=email, modality="cbt",
                             start_date=START)
    care.record_session(case, date=START, status=Session.Status.ATTENDED)
    return case
