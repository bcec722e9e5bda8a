"""Check-in operations: issuing links, opening them, and storing submitted answers.

The link rules (docs/design.md section 7): 256 random bits per link, only a SHA-256 stored,
bound to one pending administration, valid until its expiry, and consumed by exactly one
submit. Opening a link changes nothing.

One check-in per session: a link covers every client form of its session that is still
waiting for answers (`parts_of`), so the client answers the alliance check-in and the
wellbeing check-in (and the goal questions due) on one page, through one link. Issuing a
link creates the forms due at that session (`due_instruments`) and replaces any earlier
link of the session.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation

from alliance.core.errors import AllianceError
from alliance.web import instruments
from alliance.web.audit.services import record_change
from alliance.web.care.models import Session
from alliance.web.checkins.events import administration_submitted, forms_stored
from alliance.web.checkins.models import Administration, CheckinLink, hash_token
from alliance.web.clinics.models import StaffMember
from alliance.web.errors import DomainError
from alliance.web.safety.models import ClinicSafety

# Asked with every check-in when the clinic switches it on (alliance.web.safety).
SAFETY_QUESTION = "safety-question"
# A device handed to the client in the room: the form is filled in now or not at all.
IN_ROOM_EXPIRY = timedelta(hours=1)
# secrets.token_urlsafe(32) gives 43 characters; anything much longer is not ours.
MAX_TOKEN_LENGTH = 64


class CheckinNotPossible(DomainError):
    """A check-in cannot be started for this session and instrument."""


class LinkNotFound(DomainError):
    """No link has this token (mistyped, cut off, or made up)."""


class _KnownLink(DomainError):
    """A problem with a link that exists: `link` says which (its clinic names the page)."""

    def __init__(self, message: str = "", *, link=None):
        super().__init__(message)
        self.link = link


class LinkUsed(_KnownLink):
    """The link was already used to submit answers."""


class LinkExpired(_KnownLink):
    """The link's time ran out, or a newer link replaced it."""


class InvalidAnswers(DomainError):
    """The answers cannot be scored (for example a value outside the scale)."""


@dataclass(frozen=True)
class IssuedLink:
    """A new link. `token` exists only here and in the URL given to the client."""

    token: str
    link: CheckinLink

    @property
    def path(self) -> str:
        return reverse("checkins:form", args=[self.token])

    @property
    def administration(self) -> Administration:
        return self.link.administration


def _pending_administration(session: Session, instrument, respondent: str, via: str,
                            by: StaffMember | None) -> Administration:
    """The session's administration of this instrument, created when missing."""
    try:
        with transaction.atomic():
            administration, _ = Administration.objects.get_or_create(
                session=session, instrument_id=instrument.id, respondent=respondent,
                defaults={"instrument_version": instrument.version, "via": via,
                          "created_by": by})
    except IntegrityError:  # created concurrently by another request
        administration = Administration.objects.get(
            session=session, instrument_id=instrument.id, respondent=respondent)
    if administration.is_submitted:
        raise CheckinNotPossible(f"{instrument.title} has already been answered for this session.")
    return administration


def _asks_safety_question(clinic) -> bool:
    return ClinicSafety.objects.filter(clinic=clinic, ask_safety_question=True).exists()


def in_use(clinic) -> list[str]:
    """The clinic's instruments, and the safety question when the clinic asks it."""
    chosen = list(clinic.instruments_in_use or [])
    if SAFETY_QUESTION not in chosen and _asks_safety_question(clinic):
        chosen.append(SAFETY_QUESTION)
    return chosen


def due_instruments(session: Session) -> list:
    """The client forms every attended session's check-in asks: the clinic's client alliance
    check-in and its outcome check-in (wellbeing), when in use and complete, and the safety
    question when the clinic switched it on (docs/safety.md)."""
    from alliance.web.monitoring.data import clinic_instruments

    clinic = session.case.client.clinic
    chosen = clinic_instruments(clinic)
    due = [i for i in (chosen.client, chosen.outcome) if i is not None and i.can_administer]
    if _asks_safety_question(clinic):
        due.append(instruments.get_instrument(SAFETY_QUESTION))
    return due


def _part_order(session: Session):
    first = [i.id for i in due_instruments(session)]
    return lambda a: (first.index(a.instrument_id) if a.instrument_id in first else len(first),
                      a.instrument_id)


def parts_of(link: CheckinLink) -> list[Administration]:
    """The forms one link covers, in the order the page shows them: the link's own form and
    every other client form of its session still waiting for answers (alliance first, then
    wellbeing, then any other)."""
    own = link.administration
    session = own.session
    others = list(Administration.objects.filter(
        session=session, respondent=Administration.Respondent.CLIENT,
        submitted_at__isnull=True).exclude(pk=own.pk))
    for other in others:
        other.session = session
    return sorted([own, *others], key=_part_order(session))


def _pending_or_answered(session: Session, instrument, via: str, by) -> None:
    """Make sure the session has this client form (answered already is fine)."""
    try:
        _pending_administration(session, instrument, "client", via, by)
    except CheckinNotPossible:  # answered already: nothing more to ask
        pass


def issue_link(session: Session, instrument_id: str, *, by: StaffMember | None,
               in_room: bool = False, now=None, only=None) -> IssuedLink:
    """Create the one-time link of the session's check-in, bound to the client's form of
    `instrument_id` and covering every other client form of the session still waiting
    (the forms due, `due_instruments`, are created with it; `only`, when given, limits
    them to these instrument ids, as a measurement plan does).

    Live earlier links of the session's client forms are revoked, so at most one link can
    be used.
    """
    now = now or timezone.now()
    clinic = session.case.client.clinic
    if not session.attended:
        raise CheckinNotPossible("Check-ins are for sessions the client attended.")
    if instrument_id not in in_use(clinic):
        raise CheckinNotPossible("This instrument is not in use at your clinic.")
    instrument = instruments.get_instrument(instrument_id)
    if instrument.respondent != Administration.Respondent.CLIENT:
        raise CheckinNotPossible(f"{instrument.title} is not answered by clients.")
    if not instrument.can_administer:
        raise CheckinNotPossible(instrument.administration_problem)
    via = Administration.Via.IN_ROOM if in_room else Administration.Via.LINK
    expiry = IN_ROOM_EXPIRY if in_room else timedelta(hours=clinic.checkin_link_expiry_hours)
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        administration = _pending_administration(session, instrument, "client", via, by)
        for due in due_instruments(session):
            # The safety question goes with every check-in the clinic sends, whatever a
            # measurement plan asks.
            if due.id != instrument.id and (only is None or due.id in only
                                            or due.id == SAFETY_QUESTION):
                _pending_or_answered(session, due, via, by)
        pending = Administration.objects.filter(
            session=session, respondent=Administration.Respondent.CLIENT,
            submitted_at__isnull=True)
        pending.exclude(via=via).update(via=via)
        administration.via = via
        CheckinLink.objects.filter(administration__in=pending).live(now).update(revoked_at=now)
        link = CheckinLink.objects.create(administration=administration,
                                          token_hash=hash_token(token), created_by=by,
                                          expires_at=now + expiry)
    return IssuedLink(token=token, link=link)


def another_link(session: Session, now=None) -> IssuedLink | None:
    """A further link to the session's open check-in (for a reminder), valid as long as the
    live one: the link in the earlier message keeps working. None when nothing is open."""
    now = now or timezone.now()
    live = (CheckinLink.objects.live(now)
            .filter(administration__session=session,
                    administration__respondent=Administration.Respondent.CLIENT,
                    administration__submitted_at__isnull=True)
            .select_related("administration").order_by("-expires_at").first())
    if live is None:
        return None
    token = secrets.token_urlsafe(32)
    link = CheckinLink.objects.create(administration=live.administration,
                                      token_hash=hash_token(token), created_by=None,
                                      expires_at=live.expires_at)
    return IssuedLink(token=token, link=link)


def is_open(session: Session) -> bool:
    """True while a client form of the session waits for answers."""
    return Administration.objects.filter(session=session, respondent="client",
                                         submitted_at__isnull=True).exists()


def open_link(token: str, now=None) -> CheckinLink:
    """The live link with this token; raises LinkNotFound, LinkUsed or LinkExpired.

    Opening changes nothing: only `submit_link` consumes a link.
    """
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise LinkNotFound("This check-in link does not work.")
    link = (CheckinLink.objects
            .select_related("administration__session__case__client__clinic")
            .filter(token_hash=hash_token(token)).first())
    if link is None:
        raise LinkNotFound("This check-in link does not work.")
    state = link.state(now)
    if state == "used":
        raise LinkUsed("These answers have already been sent. Thank you.", link=link)
    if state in ("expired", "revoked"):
        raise LinkExpired("This check-in link is no longer valid.", link=link)
    return link


def _score(instrument, responses: dict) -> dict:
    try:
        return instruments.score(instrument, responses)
    except AllianceError as exc:
        raise InvalidAnswers(str(exc)) from None


def shown_language() -> str:
    """The language the form being answered was shown in: the active one of the request."""
    return translation.get_language() or settings.LANGUAGE_CODE


def _store(administration_id: int, instrument, responses, answers, scores, now,
           language: str | None = None) -> int:
    """Fill in a pending administration; returns the number of rows changed (0 or 1).
    `language` is the one the form was shown in (the instrument's own when the
    respondent's was missing); by default the request's."""
    return (Administration.objects
            .filter(pk=administration_id, submitted_at__isnull=True)
            .update(responses=responses, answers=answers, scores=scores,
                    instrument_version=instrument.version, submitted_at=now,
                    language=language or shown_language()))


def submit_link(token: str, responses: dict, answers: dict, now=None, *,
                parts: dict | None = None, also=None,
                language: str | None = None) -> Administration:
    """Store the client's answers and consume the link, exactly once.

    `responses` and `answers` are those of the link's own form, shown in `language` (by
    default the request's); `parts` maps the id of another form the link covers
    (`parts_of`) to its `(responses, answers)` or `(responses, answers, language)`. `also(
    administration)`, when given, stores what else the page asked (the goal and task
    questions) in the same transaction: all of it is stored once, or nothing.

    The link is consumed by one conditional UPDATE (… WHERE used_at IS NULL AND not revoked
    AND not expired): of two concurrent submits, exactly one changes a row; the other finds
    none and raises LinkUsed, and nothing of it is stored.
    """
    link = open_link(token, now)
    administration = link.administration
    instrument = instruments.get_instrument(administration.instrument_id)
    scores = _score(instrument, responses)  # before the transaction: it is pure computation
    # The session's client forms: one answered meanwhile is caught when storing (LinkUsed).
    covered = {a.pk: a for a in Administration.objects.filter(
        session_id=administration.session_id, respondent=Administration.Respondent.CLIENT)}
    others = []
    for pk, (part_responses, part_answers, *part_language) in (parts or {}).items():
        if pk not in covered or pk == administration.pk:
            raise InvalidAnswers("These answers belong to another check-in.")
        part = instruments.get_instrument(covered[pk].instrument_id)
        others.append((covered[pk], part, part_responses, part_answers,
                       _score(part, part_responses), (part_language or [None])[0]))
    now = now or timezone.now()
    with transaction.atomic():
        consumed = (CheckinLink.objects.filter(pk=link.pk).live(now).update(used_at=now))
        if consumed != 1:
            # Someone else got here first (or the link just expired): report why.
            link.refresh_from_db()
            if link.state(now) == "used":
                raise LinkUsed("These answers have already been sent. Thank you.", link=link)
            raise LinkExpired("This check-in link is no longer valid.", link=link)
        if _store(administration.pk, instrument, responses, answers, scores, now,
                  language) != 1:
            raise LinkUsed("These answers have already been sent. Thank you.", link=link)
        for other, part, part_responses, part_answers, part_scores, part_language in others:
            if _store(other.pk, part, part_responses, part_answers, part_scores, now,
                      part_language) != 1:
                raise LinkUsed("These answers have already been sent. Thank you.", link=link)
        if also is not None:
            also(administration)
        _check_safety([administration, *(other for other, *_ in others)])
        # A reminder's link and the first message's link lead to the same check-in: once
        # it is answered, the others stop working.
        (CheckinLink.objects.filter(administration__session_id=administration.session_id)
         .exclude(pk=link.pk).live(now).update(revoked_at=now))
    administration.refresh_from_db()
    # One event for the check-in: what it starts (recomputing the case's signals) reads
    # every form of the session.
    _announce(administration)
    return administration


def submit_by_staff(session: Session, instrument_id: str, responses: dict, answers: dict, *,
                    by: StaffMember, now=None) -> Administration:
    """Store a form that staff fill in themselves (the therapist's alliance form)."""
    now = now or timezone.now()
    instrument = instruments.get_instrument(instrument_id)
    if instrument_id not in session.case.client.clinic.instruments_in_use:
        raise CheckinNotPossible("This instrument is not in use at your clinic.")
    if instrument.respondent != Administration.Respondent.THERAPIST:
        raise CheckinNotPossible(f"{instrument.title} is not a therapist form.")
    if not session.attended:
        raise CheckinNotPossible("Ratings are for sessions the client attended.")
    scores = _score(instrument, responses)
    with transaction.atomic():
        administration = _pending_administration(session, instrument, "therapist",
                                                 Administration.Via.STAFF, by)
        if _store(administration.pk, instrument, responses, answers, scores, now) != 1:
            raise CheckinNotPossible(f"{instrument.title} has already been answered for this "
                                     "session.")
        record_change("create", administration, by=by, detail="therapist's ratings saved")
        administration.refresh_from_db()
        _check_safety([administration])
    _announce(administration)
    return administration


def _check_safety(administrations) -> None:
    """Every submitted form, whichever way it came, passes the safety check in the
    transaction that stores it (`forms_stored`): a risk answer reaches a person at once
    (docs/safety.md)."""
    stored = Administration.objects.filter(pk__in=[a.pk for a in administrations]).select_related(
        "session__case__client__clinic", "session__case__therapist")
    forms_stored.send(sender=Administration, administrations=list(stored))


def _announce(administration: Administration) -> None:
    transaction.on_commit(lambda: administration_submitted.send(
        sender=Administration, administration=administration))
