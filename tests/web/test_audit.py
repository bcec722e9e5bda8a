"""The audit trail: record() appends hash-chained events with actor, clinic and target."""

from __future__ import annotations

import pytest
from django.test import RequestFactory, override_settings

from alliance.web.audit.models import GENESIS_HASH, Event
from alliance.web.audit.services import record


def test_an_event_names_the_therapist_their_clinic_and_the_case_read(therapist, case):
    request = RequestFactory().get("/", REMOTE_ADDR="203.0.113.7")
    request.user = therapist.user
    event = record(request, "read", case)
    stored = Event.objects.get(pk=event.pk)
    assert (stored.action, stored.outcome) == ("read", "success")
    assert stored.actor_id == therapist.user.pk
    assert stored.actor_name == therapist.user.username
    assert stored.clinic_id == therapist.clinic_id
    assert (stored.target_type, stored.target_id) == ("care.case", str(case.pk))
    assert stored.client_id == case.client_id
    assert stored.address == "203.0.113.7"
    assert stored.at.utcoffset().total_seconds() == 0


def test_each_event_chains_to_the_previous_ones_hash(therapist, case):
    first = record(None, "update", case, actor=therapist.user, clinic=therapist.clinic)
    second = record(None, "read", case, actor=therapist.user, clinic=therapist.clinic)
    assert second.id == first.id + 1
    assert second.prev_hash == first.hash
    for event in Event.objects.filter(pk__in=[first.pk, second.pk]):
        assert event.hash == event.compute_hash()
    assert first.prev_hash == GENESIS_HASH or Event.objects.filter(pk=first.pk - 1).exists()


def test_a_check_in_link_can_be_the_actor_without_a_user(issued):
    event = record(None, "token_used", issued.administration, actor=issued.link,
                   clinic=issued.link.administration.session.case.client.clinic)
    assert event.actor_id is None
    assert event.actor_name == f"{issued.link._meta.verbose_name} {issued.link.pk}"


def test_an_unknown_action_or_outcome_is_refused(db):
    with pytest.raises(ValueError, match="unknown audit action"):
        record(None, "peek")
    with pytest.raises(ValueError, match="unknown audit outcome"):
        record(None, "read", outcome="maybe")


def test_behind_a_proxy_the_address_is_the_one_the_proxy_appended(db):
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2",
                                   HTTP_X_FORWARDED_FOR="1.1.1.1, 198.51.100.4")
    with override_settings(SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https")):
        assert record(request, "login_failed").address == "198.51.100.4"
    with override_settings(SECURE_PROXY_SSL_HEADER=None):
        assert record(request, "login_failed").address == "10.0.0.2"
