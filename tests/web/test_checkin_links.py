"""Check-in links (docs/design.md section 7): random, hashed, bound, single use, expiring."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from alliance.web import instruments
from alliance.web.checkins import services
from alliance.web.checkins.models import Administration, CheckinLink, hash_token


def test_a_link_token_has_at_least_128_random_bits_and_only_its_hash_is_stored(issued):
    # token_urlsafe(32): 32 random bytes = 256 bits, 43 URL-safe characters.
    assert len(issued.token) >= 43
    link = CheckinLink.objects.get()
    assert link.token_hash == hash_token(issued.token)
    stored = [str(v) for v in CheckinLink.objects.values().get().values()]
    assert not any(issued.token in value for value in stored)


def test_the_link_url_holds_only_the_token(issued, case):
    assert issued.path == f"/c/{issued.token}/"
    assert case.client.code not in issued.path


def test_a_link_is_bound_to_one_pending_administration_of_the_client_form(issued, session):
    administration = issued.administration
    assert administration.session == session
    assert administration.instrument_id == "alliance-client"
    assert administration.respondent == "client"
    assert administration.submitted_at is None


def test_the_link_expires_after_the_clinics_configured_hours(session, therapist, clinic):
    clinic.checkin_link_expiry_hours = 5
    clinic.save()
    session.case.client.clinic.refresh_from_db()
    now = timezone.now()
    issued = services.issue_link(session, "alliance-client", by=therapist, now=now)
    assert issued.link.expires_at == now + timedelta(hours=5)


def test_opening_a_link_changes_nothing(issued):
    services.open_link(issued.token)
    services.open_link(issued.token)
    link = CheckinLink.objects.get()
    assert link.used_at is None
    assert not Administration.objects.filter(submitted_at__isnull=False).exists()


def test_submitting_stores_answers_with_scores_computed_by_core_and_consumes_the_link(
        client_answers, issued):
    administration = services.submit_link(issued.token, client_answers,
                                           {"more_helpful": "More homework examples."})
    expected = instruments.score(instruments.get_instrument("alliance-client"), client_answers)
    assert administration.submitted_at is not None
    assert administration.responses == client_answers
    assert administration.answers == {"more_helpful": "More homework examples."}
    assert administration.scores == expected
    # bond = mean(8, 9) = 8.5, total = mean of six items = 42/6 = 7.0 (exact).
    assert administration.scores["subscales"]["bond"] == 8.5
    assert administration.scores["total"] == 7.0
    assert administration.scores["pomp"]["total"] == 70.0
    assert CheckinLink.objects.get().used_at is not None
    # The form was shown in the active language (the only shipped one: English).
    assert Administration.objects.get(pk=administration.pk).language == "en"


def test_the_language_recorded_is_the_one_the_form_was_shown_in(client_answers, issued):
    from django.utils import translation

    with translation.override("de"):
        administration = services.submit_link(issued.token, client_answers, {})
    assert Administration.objects.get(pk=administration.pk).language == "de"


def test_a_used_link_cannot_be_used_again_and_changes_nothing(client_answers, issued):
    services.submit_link(issued.token, client_answers, {})
    before = Administration.objects.values().get(instrument_id="alliance-client")
    with pytest.raises(services.LinkUsed):
        services.submit_link(issued.token, {**client_answers, "bond1": 0}, {})
    with pytest.raises(services.LinkUsed):
        services.open_link(issued.token)
    assert Administration.objects.values().get(instrument_id="alliance-client") == before


def test_an_expired_link_cannot_be_opened_or_used(client_answers, issued):
    later = issued.link.expires_at + timedelta(seconds=1)
    with pytest.raises(services.LinkExpired):
        services.open_link(issued.token, now=later)
    with pytest.raises(services.LinkExpired):
        services.submit_link(issued.token, client_answers, {}, now=later)
    assert Administration.objects.get(instrument_id="alliance-client").submitted_at is None
    assert CheckinLink.objects.get().used_at is None


@pytest.mark.parametrize("tamper", [
    lambda t: t[:-1],                       # cut off
    lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # one character changed
    lambda t: t + "x",                      # one character added
    lambda t: "",                           # empty
    lambda t: "x" * 500,                    # absurdly long
])
def test_a_tampered_token_is_not_found_and_changes_nothing(client_answers, issued, tamper):
    with pytest.raises(services.LinkNotFound):
        services.submit_link(tamper(issued.token), client_answers, {})
    assert CheckinLink.objects.get().used_at is None
    assert Administration.objects.get(instrument_id="alliance-client").submitted_at is None


def test_a_new_link_for_the_same_form_revokes_the_old_one(client_answers, issued, session,
                                                          therapist):
    newer = services.issue_link(session, "alliance-client", by=therapist)
    assert newer.administration == issued.administration
    with pytest.raises(services.LinkExpired):
        services.open_link(issued.token)
    services.submit_link(newer.token, client_answers, {})


def test_a_link_cannot_be_issued_for_a_form_already_answered(client_answers, issued, session,
                                                             therapist):
    services.submit_link(issued.token, client_answers, {})
    with pytest.raises(services.CheckinNotPossible, match="already been answered"):
        services.issue_link(session, "alliance-client", by=therapist)


def test_a_link_cannot_be_issued_for_a_missed_session(case, therapist):
    import datetime as dt

    from alliance.web.care import services as care
    missed = care.record_session(case, date=dt.date(2026, 1, 12), status="no_show")
    with pytest.raises(services.CheckinNotPossible, match="attended"):
        services.issue_link(missed, "alliance-client", by=therapist)


def test_a_link_cannot_be_issued_for_an_instrument_the_clinic_does_not_use(session, therapist):
    with pytest.raises(services.CheckinNotPossible, match="not in use"):
        services.issue_link(session, "wai-sr", by=therapist)


def test_a_therapist_form_cannot_be_sent_to_a_client(session, therapist):
    with pytest.raises(services.CheckinNotPossible, match="not answered by clients"):
        services.issue_link(session, "alliance-therapist", by=therapist)


def test_an_out_of_range_answer_is_refused_and_the_link_stays_usable(client_answers, issued):
    with pytest.raises(services.InvalidAnswers, match="bond1"):
        services.submit_link(issued.token, {**client_answers, "bond1": 11}, {})
    assert CheckinLink.objects.get().used_at is None
    services.submit_link(issued.token, client_answers, {})


def test_an_in_room_check_in_uses_a_short_lived_link_marked_in_room(session, therapist):
    now = timezone.now()
    issued = services.issue_link(session, "alliance-client", by=therapist, in_room=True, now=now)
    assert issued.administration.via == "in_room"
    assert issued.link.expires_at == now + services.IN_ROOM_EXPIRY


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("contenders", [4, 50])
def test_of_concurrent_submits_of_one_link_exactly_one_succeeds(client_answers, therapist,
                                                                open_case, monkeypatch,
                                                                contenders):
    case = open_case(therapist, "C-RACE1")
    issued = services.issue_link(case.sessions.get(), "alliance-client", by=therapist)
    # Every thread must have found the link live before any of them tries to consume it,
    # so the race is on the conditional UPDATE itself, not on who reads first.
    all_read = threading.Barrier(contenders, timeout=30)
    real_score = instruments.score

    def score_then_wait(instrument, responses):
        result = real_score(instrument, responses)
        all_read.wait()
        return result

    monkeypatch.setattr(instruments, "score", score_then_wait)
    outcomes: list[str] = []

    def submit(value):
        try:
            services.submit_link(issued.token, {**client_answers, "bond1": value}, {})
            outcomes.append("stored")
        except services.LinkUsed:
            outcomes.append("refused")
        except Exception as exc:  # noqa: BLE001 - any other outcome fails the test below
            outcomes.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=submit, args=(value % 11,))
               for value in range(contenders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["refused"] * (contenders - 1) + ["stored"], outcomes
    administration = Administration.objects.get(instrument_id="alliance-client")
    assert administration.submitted_at is not None
    assert CheckinLink.objects.filter(used_at__isnull=False).count() == 1
