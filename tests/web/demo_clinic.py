"""The demo clinic for tests that need a realistic clinic: seeded once for each test module
that imports these fixtures, and rolled back afterwards.

    from demo_clinic import PASSWORD, TODAY, clinic, seeded  # noqa: F401 (fixtures)
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection, transaction

from alliance.web import demo

#: The day the clinic is seeded for (its history ends there), and its logins' password.
TODAY = dt.date(2026, 3, 16)
PASSWORD = "a demo password for tests"


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker) -> demo.DemoClinic:
    with django_db_blocker.unblock(), transaction.atomic():
        seeded = demo.seed_demo(PASSWORD, today=TODAY)
        if connection.vendor == "postgresql":
            # The rows are this transaction's own, never seen by autovacuum: with statistics
            # of empty tables the planner may join them by nested sequential scans (a link's
            # lookup by its token once ran for over 20 minutes). ANALYZE counts them.
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        yield seeded
        transaction.set_rollback(True)


@pytest.fixture
def clinic(seeded, db):
    """The demo clinic (in place of conftest's empty one)."""
    return seeded.clinic
