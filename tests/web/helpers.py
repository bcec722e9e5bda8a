"""What many web tests share: the client check-in's items, answers to them, and weekly
sessions from a fixed start. (Fixtures shared the same way live in conftest.py.)"""

import datetime as dt

from alliance.web.care import services as care
from alliance.web.care.models import Session

#: The rating items of the project's own client alliance check-in.
ITEMS = ("bond1", "bond2", "goals1", "goals2", "tasks1", "tasks2")
#: A Monday in the past: weekly sessions start here.
START = dt.date(2026, 1, 5)


def answers(value, **items):
    """Every item of the client check-in at `value`, except those given."""
    return {**dict.fromkeys(ITEMS, value), **items}


def next_session(case, status=Session.Status.ATTENDED):
    """The case's next weekly session, session 1 on `START`."""
    number = case.next_session_number()
    return care.record_session(case, date=START + dt.timedelta(days=7 * (number - 1)),
                               status=status)
