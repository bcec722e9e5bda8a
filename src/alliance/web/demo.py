"""The demo clinic: staff, clients with months of history, check-ins and signals.

`seed_demo` fills an empty database with a realistic clinic drawn from the simulator
(`alliance.core.simulator.simulate_clinic`, fixed seed), with real dates ending around
today so that the pages look current. It is what `alliance demo` serves.

- Staff: an administrator, a supervisor who supervises two therapists, three therapists.
- About forty active cases, each with weeks to months of weekly sessions, and closed and
  ended-early cases from the past year (enough for the clinic's expected treatment
  response, `alliance.core.expected.MIN_CASES`).
- Every attended session has the client's alliance and wellbeing check-ins and the
  therapist's alliance form as `Administration` rows. The item answers are derived from
  the simulated subscale scores and then scored by the core engine, so each stored score
  is the core's scoring of the stored answers. Some answers carry open text: everyday
  wishes, words of withdrawal or confrontation at a rupture, relief after a repair.
- A few recent sessions have a pending check-in link instead of answers.
- The client portal is on, and two clients of the first therapist have a portal account
  with the demo password (`CLIENT_LOGINS`), so that a visitor can try it as a client.
- The first therapist has a practice focus agreed with the supervisor eight weeks ago
  (`alliance.web.practice.demo`), so "My practice" shows figures before and after it.

Signals are then computed through the monitoring service, as in daily use
(`compute_signals`). Seeding is idempotent: when the demo clinic exists, `seed_demo`
returns it unchanged.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import secrets
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.models import F, Max, OuterRef, Subquery
from django.utils import timezone

from alliance.core.expected import MIN_CASES
from alliance.core.simulator import simulate_clinic
from alliance.web import demo_texts, instruments, localtime
from alliance.web.care import services as care
from alliance.web.care.models import Case, Client, Session
from alliance.web.checkins import services as checkins
from alliance.web.checkins.models import Administration, CheckinLink, hash_token
from alliance.web.clinics.models import Clinic, StaffMember
from alliance.web.outreach.demo import seed_outreach
from alliance.web.goals.demo import seed_goals
from alliance.web.intake.demo import seed_intakes
from alliance.web.practice.demo import seed_practice_focus
from alliance.web.safety.models import ClinicSafety

DEMO_SEED = 7
DEMO_CLINIC_NAME = "Lakeside Counselling Centre"
EMAIL_DOMAIN = "demo.alliance"

ACTIVE_CASES = 40          # 36 going well or bumpy, 4 drifting away (missed sessions at the end)
ACTIVE_DRIFTING = 4
NEW_CASES = 4              # active cases only 2–4 sessions in
CLOSED_CASES = 45          # completed; well above MIN_CASES
DROPPED_OUT_CASES = 10
PENDING_LINKS = 4          # recent sessions whose client check-in is still open
SESSIONS = 20              # scheduled sessions of a completed case in the simulation

CLIENT_FORM = "alliance-brief"
THERAPIST_FORM = "alliance-therapist"
WELLBEING_FORM = "wellbeing"


@dataclass(frozen=True)
class DemoLogin:
    email: str
    role: str
    name: str


# The logins `alliance demo` prints. Only the therapists carry cases; the supervisor
# supervises the first two.
LOGINS = (
    DemoLogin(f"therapist@{EMAIL_DOMAIN}", StaffMember.Role.THERAPIST, "Sam Rivera"),
    DemoLogin(f"supervisor@{EMAIL_DOMAIN}", StaffMember.Role.SUPERVISOR, "Dr Ruth Adeyemi"),
    DemoLogin(f"admin@{EMAIL_DOMAIN}", StaffMember.Role.ADMIN, "Morgan Ellis"),
    DemoLogin(f"therapist2@{EMAIL_DOMAIN}", StaffMember.Role.THERAPIST, "Jonas Berg"),
    DemoLogin(f"therapist3@{EMAIL_DOMAIN}", StaffMember.Role.THERAPIST, "Priya Nair"),
)
THERAPIST_EMAILS = (LOGINS[0].email, LOGINS[3].email, LOGINS[4].email)
SUPERVISEE_EMAILS = THERAPIST_EMAILS[:2]
ADMIN_EMAIL = LOGINS[2].email
# Clients who sign in to the client portal (at /portal/sign-in/) with these addresses and
# the demo password: their contact addresses, as the portal knows clients.
CLIENT_EMAILS = (f"client@{EMAIL_DOMAIN}", f"client2@{EMAIL_DOMAIN}")


@dataclass(frozen=True)
class DemoClinic:
    """The seeded clinic. `created` is False when an earlier seed was reused.

    `pending_tokens` are the tokens of the pending check-in links this seed issued (empty
    when reused: only their hashes are stored). `client_logins` are the clients with a
    portal account (`client_logins(clinic)`).
    """

    clinic: Clinic
    created: bool
    logins: tuple[DemoLogin, ...] = LOGINS
    pending_tokens: tuple[str, ...] = field(default=())
    client_logins: tuple[DemoLogin, ...] = field(default=())


def demo_clinic() -> Clinic | None:
    """The demo clinic in this database, or None before seeding."""
    admin = (StaffMember.objects.select_related("clinic")
             .filter(user__username=ADMIN_EMAIL, role=StaffMember.Role.ADMIN).first())
    return admin.clinic if admin else None


def seed_demo(password: str, *, today: dt.date | None = None,
              seed: int = DEMO_SEED, time_zone: str | None = None) -> DemoClinic:
    """Create the demo clinic (or return the one already there).

    Parameters
    ----------
    password : the password of every demo login.
    today : the date the history ends around (default: today where the clinic is).
    seed : seed of the simulated clinic; the same seed and date give the same clinic.
    time_zone : the clinic's time zone (default: ALLIANCE_TIME_ZONE). Its history is in
        the clinic's local time and in the past of its "now": no check-in is answered, no
        goal agreed and no repair recorded later than the moment of seeding.

    The signals are computed last (`compute_signals`), then some repair actions are
    recorded (`seed_repair_actions`).
    """
    existing = demo_clinic()
    if existing is not None:
        return DemoClinic(clinic=existing, created=False,
                          client_logins=client_logins(existing))
    zone = time_zone or settings.CLINIC_TIME_ZONE
    with localtime.activated(tz=zone):
        return _seed(password, today or localtime.today(), seed, zone)


def _seed(password: str, today: dt.date, seed: int, zone: str) -> DemoClinic:
    rng = random.Random(seed)
    with transaction.atomic():
        # The strict rupture rule keeps the number of signals a caseload shows calm;
        # an administrator can switch to the sensitive one on the settings page. The
        # client portal is on, so that a visitor can try it as a client.
        clinic = Clinic.objects.create(name=DEMO_CLINIC_NAME, time_zone=zone,
                                       rupture_rule=Clinic.RuptureRule.SD2,
                                       client_portal_enabled=True)
        staff = _create_staff(clinic, password)
        # The safety question is asked, and the supervisor is on call: the crisis text is
        # the careful default until the clinic writes its own (docs/safety.md).
        safety = ClinicSafety.objects.create(clinic=clinic, ask_safety_question=True)
        safety.on_call_staff.set([staff[LOGINS[1].email]])
        therapists = [staff[email] for email in THERAPIST_EMAILS]
        plans = _plan_cases(seed, today, rng)
        sessions = _create_cases(clinic, therapists, plans, rng)
        pending = _create_administrations(plans, sessions, therapists, rng)
        # Goals and tasks agreed along the way, with reviews and reports (goals.demo).
        seed_goals(clinic, pending, seed=seed)
        # What clients answered at intake, with their first check-in (intake.demo).
        seed_intakes(clinic, seed=seed)
        seed_portal_accounts(clinic, password)
        # A practice focus of the first therapist, agreed with the supervisor (practice.demo).
        seed_practice_focus(clinic, therapists[0], staff[LOGINS[1].email], today=today)
        # Check-ins go out by themselves after each attended session (outreach.demo).
        seed_outreach(clinic, therapists[0])
    # One link per session covers both forms (the alliance and the wellbeing check-in).
    tokens = tuple(checkins.issue_link(session, CLIENT_FORM, by=session.case.therapist).token
                   for session in pending)
    compute_signals(clinic, today=today, seed=seed)
    seed_repair_actions(clinic, today=today, seed=seed)
    return DemoClinic(clinic=clinic, created=True, pending_tokens=tokens,
                      client_logins=client_logins(clinic))


def set_password(password: str) -> None:
    """Give every demo login `password` (one hash, shared: hashing is deliberately slow),
    the clients' portal accounts included."""
    from django.db.models import Q

    encoded = make_password(password)
    get_user_model().objects.filter(
        Q(username__in=[login.email for login in LOGINS])
        | Q(client_account__client__contact_email__in=CLIENT_EMAILS)).update(password=encoded)


def password_matches(password: str) -> bool:
    user = get_user_model().objects.filter(username=LOGINS[0].email).first()
    return user is not None and user.check_password(password)


def compute_signals(clinic: Clinic, *, today: dt.date | None = None,
                    seed: int = DEMO_SEED) -> int:
    """Compute the clinic's signals through the monitoring service, as in daily use.

    Fits the clinic's expected course on its closed cases and recomputes every active
    case (`monitoring.recompute.refresh_clinic`, what a bulk import calls). A clinic in
    daily use acts on a signal before the next session ("needs attention" means just
    that), so signals from sessions before a case's latest one are acknowledged by the
    case's therapist, or now and then dismissed with a reason; those of the latest session
    (and those tied to no session) stay open. Returns the number of signals.
    """
    from alliance.web.monitoring import actions, recompute
    from alliance.web.monitoring.models import Signal

    rng = random.Random(seed)
    recompute.refresh_clinic(clinic)
    signals = Signal.objects.filter(case__client__clinic=clinic)
    latest = (Session.objects.filter(case_id=OuterRef("case_id")).order_by("-number")
              .values("number")[:1])
    older = (signals.filter(state=Signal.State.OPEN, session__isnull=False)
             .annotate(latest=Subquery(latest))
             .filter(session__number__lt=F("latest"))
             .select_related("case__therapist").order_by("pk"))
    for signal in older:
        if signal.type != Signal.Type.CLIENT_FEEDBACK and rng.random() < 0.15:
            actions.dismiss(signal, by=signal.case.therapist,
                            reason=rng.choice(demo_texts.DISMISS_REASONS))
        else:
            actions.acknowledge(signal, by=signal.case.therapist)
    return signals.count()


def attention_count(clinic: Clinic) -> int:
    """Signals needing attention in the clinic's active cases (what caseloads count)."""
    from alliance.web.monitoring.models import Signal

    return (Signal.objects.for_attention(clinic)
            .filter(case__client__clinic=clinic, case__status=Case.Status.ACTIVE).count())


def attention_shares(clinic: Clinic) -> dict[str, tuple[int, int]]:
    """Each therapist's active cases needing attention, and active cases: name → (n, of).

    What the therapist's caseload marks (the clinic's kinds of signal needing attention).
    """
    from alliance.web.monitoring.models import Signal

    active = (Case.objects.filter(client__clinic=clinic, status=Case.Status.ACTIVE)
              .values_list("pk", "therapist__display_name"))
    needing = set(Signal.objects.for_attention(clinic)
                  .filter(case__client__clinic=clinic, case__status=Case.Status.ACTIVE)
                  .values_list("case_id", flat=True))
    shares: dict[str, list[int]] = {}
    for case_id, name in active:
        counts = shares.setdefault(name, [0, 0])
        counts[0] += case_id in needing
        counts[1] += 1
    return {name: (n, of) for name, (n, of) in sorted(shares.items())}


def checkin_link(clinic: Clinic, *, today: dt.date | None = None) -> checkins.IssuedLink:
    """A fresh link to a pending client check-in of the first demo therapist's caseload.

    Uses the most recent attended session whose check-in is still open; when there is
    none (someone answered them all), records today's session for one of their cases.
    A newer link for the same form replaces the older one.
    """
    therapist = StaffMember.objects.get(clinic=clinic, user__username=THERAPIST_EMAILS[0])
    pending = (Administration.objects
               .filter(session__case__therapist=therapist, session__case__status="active",
                       instrument_id=CLIENT_FORM, respondent="client",
                       submitted_at__isnull=True)
               .select_related("session__case__client__clinic")
               .order_by("-session__date", "-pk").first())
    if pending is not None:
        session = pending.session
    else:
        # The case seen longest ago is the one whose session is due.
        case = (Case.objects.filter(therapist=therapist, status=Case.Status.ACTIVE)
                .annotate(last=Max("sessions__date")).order_by("last", "pk").first())
        date = max(today or localtime.today(clinic), case.last or case.start_date)
        session = care.record_session(case, date=date, status=Session.Status.ATTENDED)
    return checkins.issue_link(session, CLIENT_FORM, by=therapist)


# --- the client portal -------------------------------------------------------------------

def client_logins(clinic: Clinic) -> tuple[DemoLogin, ...]:
    """The demo clients with a portal account, by address: what `alliance demo` prints."""
    from alliance.web.portal.models import ClientAccount

    accounts = sorted(ClientAccount.objects.filter(client__clinic=clinic,
                                                   client__contact_email__in=CLIENT_EMAILS,
                                                   user__is_active=True)
                      .select_related("client"),
                      key=lambda a: CLIENT_EMAILS.index(a.client.contact_email))
    therapists = dict(Case.objects.filter(client__in=[a.client for a in accounts])
                      .order_by("start_date").values_list("client_id",
                                                          "therapist__display_name"))
    return tuple(DemoLogin(a.client.contact_email, "client",
                           f"{a.client.code}, a client of {therapists.get(a.client_id, '')}")
                 for a in accounts)


def seed_portal_accounts(clinic: Clinic, password: str) -> list:
    """Give two active clients of the first therapist a portal account with `password`.

    The first has a goal the therapist suggested, waiting for the client to agree to it
    (so the portal's home page has something to do); the second has a task running. Each
    client's contact address becomes one of `CLIENT_EMAILS`, which is how clients sign in.
    Idempotent: clients who already have an account are left alone.
    """
    from alliance.web.goals.models import Goal, Task
    from alliance.web.portal.models import ClientAccount

    if ClientAccount.objects.filter(client__clinic=clinic,
                                    client__contact_email__in=CLIENT_EMAILS).exists():
        return []
    therapist = StaffMember.objects.get(clinic=clinic, user__username=THERAPIST_EMAILS[0])
    cases = list(Case.objects.filter(therapist=therapist, status=Case.Status.ACTIVE)
                 .select_related("client").order_by("pk"))
    waiting = set(Goal.objects.filter(case__in=cases, status=Goal.Status.PROPOSED,
                                      client_confirmed_at__isnull=True,
                                      therapist_confirmed_at__isnull=False)
                  .values_list("case_id", flat=True))
    running = set(Task.objects.filter(goal__case__in=cases, status=Task.Status.ACTIVE,
                                      client_confirmed_at__isnull=False,
                                      therapist_confirmed_at__isnull=False)
                  .values_list("goal__case_id", flat=True))
    chosen: list[Case] = []
    for wanted in (waiting, running):
        case = next((c for c in cases if c.pk in wanted and c not in chosen), None)
        if case is not None:
            chosen.append(case)
    chosen += [c for c in cases if c not in chosen][:len(CLIENT_EMAILS) - len(chosen)]
    encoded = make_password(password)
    now = timezone.now()
    accounts = []
    for case, email in zip(chosen, CLIENT_EMAILS):
        client = case.client
        client.contact_email = email
        client.save(update_fields=["contact_email"])
        # As `portal.services.invite` makes it (never staff, a username that is not an
        # address), with the demo password already chosen instead of an invitation.
        user = get_user_model().objects.create(username=f"client-{client.pk}", email=email,
                                               password=encoded, is_staff=False,
                                               is_superuser=False)
        accounts.append(ClientAccount.objects.create(user=user, client=client,
                                                     invited_by=therapist, invited_at=now))
    return accounts


# --- staff -------------------------------------------------------------------------------

def _create_staff(clinic: Clinic, password: str) -> dict[str, StaffMember]:
    User = get_user_model()
    encoded = make_password(password)
    staff = {}
    for login in LOGINS:
        first, _, last = login.name.removeprefix("Dr ").partition(" ")
        user = User.objects.create(username=login.email, email=login.email, password=encoded,
                                   first_name=first, last_name=last)
        staff[login.email] = StaffMember.objects.create(
            user=user, clinic=clinic, role=login.role, display_name=login.name)
    supervisor = staff[LOGINS[1].email]
    supervisor.supervisees.set([staff[email] for email in SUPERVISEE_EMAILS])
    return staff


# --- the plan: which simulated client becomes which case, with which dates ----------------

@dataclass
class _CasePlan:
    code: str
    status: str
    modality: str
    therapist: int                # index into THERAPIST_EMAILS
    rows: pd.DataFrame            # the simulated sessions kept, with real dates
    ruptures: pd.DataFrame        # planted ruptures within the kept sessions
    pending_last: bool = False    # the last session's client check-in is still open


_MODALITIES = (Case.Modality.CBT, Case.Modality.INTEGRATIVE, Case.Modality.HUMANISTIC,
               Case.Modality.PSYCHODYNAMIC, Case.Modality.OTHER)
_MODALITY_WEIGHTS = (40, 25, 15, 15, 5)
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def _plan_cases(seed: int, today: dt.date, rng: random.Random) -> list[_CasePlan]:
    n_clients = 2 * (ACTIVE_CASES + CLOSED_CASES + DROPPED_OUT_CASES)
    simulated = simulate_clinic(n_clients, SESSIONS, seed, n_therapists=3)
    sessions, ruptures, truth = simulated.sessions, simulated.ruptures, simulated.truth
    completers = truth.loc[truth["dropout"] == 0, "client_id"].tolist()
    dropouts = truth.loc[truth["dropout"] == 1, "client_id"].tolist()
    active = completers[:ACTIVE_CASES - ACTIVE_DRIFTING] + dropouts[:ACTIVE_DRIFTING]
    closed = completers[ACTIVE_CASES - ACTIVE_DRIFTING:][:CLOSED_CASES]
    dropped = dropouts[ACTIVE_DRIFTING:][:DROPPED_OUT_CASES]
    if len(closed) < max(MIN_CASES, CLOSED_CASES) or len(dropped) < DROPPED_OUT_CASES:
        raise RuntimeError("the simulated clinic is too small for the demo")  # pragma: no cover
    by_client = dict(tuple(sessions.groupby("client_id", sort=False)))
    ruptures_by_client = dict(tuple(ruptures.groupby("client_id", sort=False)))
    codes = _codes(rng, len(active) + len(closed) + len(dropped))

    plans = []
    for k, client_id in enumerate(active):
        rows = by_client[client_id]
        planted = ruptures_by_client.get(client_id)
        if k < NEW_CASES:
            keep = rng.randint(2, 4)
        elif client_id in dropouts:
            keep = len(rows)          # drifting away: ends with missed sessions
        elif planted is not None:
            # Far enough past the first rupture that its repair window has closed.
            keep = rng.randint(min(int(planted["session"].min()) + 4, SESSIONS), SESSIONS)
        else:
            keep = rng.randint(6, SESSIONS)
        plans.append(_plan(codes.pop(), Case.Status.ACTIVE, rows, planted, keep,
                           today - dt.timedelta(days=rng.randint(0, 6)), k % 3, rng))
    for k, client_id in enumerate(closed + dropped):
        rows = by_client[client_id]
        status = Case.Status.CLOSED if client_id in closed else Case.Status.DROPPED_OUT
        keep = rng.randint(8, SESSIONS) if status == Case.Status.CLOSED else len(rows)
        plans.append(_plan(codes.pop(), status, rows, ruptures_by_client.get(client_id), keep,
                           today - dt.timedelta(days=rng.randint(21, 400)), k % 3, rng))

    # A few of the most recent attended sessions still wait for the client's answers.
    answered_last = [p for p in plans if p.status == Case.Status.ACTIVE and len(p.rows) > 1
                     and not math.isnan(p.rows["alliance"].iloc[-1])]
    recent = [p for p in answered_last if p.rows["date"].iloc[-1] >= today - dt.timedelta(days=3)]
    for plan in sorted(recent, key=lambda p: (p.therapist, p.code))[:PENDING_LINKS]:
        plan.pending_last = True
    if not any(p.pending_last and p.therapist == 0 for p in plans):
        # The first therapist's caseload always shows one (the link `alliance demo` prints).
        next(p for p in answered_last if p.therapist == 0).pending_last = True
    return plans


def _plan(code, status, rows, planted, keep, last_date, therapist, rng) -> _CasePlan:
    rows = rows.iloc[:keep].copy()
    if status == Case.Status.CLOSED:
        # A planned ending is an attended session.
        attended = np.flatnonzero(rows["attended"].to_numpy() == 1)
        rows = rows.iloc[:attended[-1] + 1]
    dates = rows["date"].to_numpy(dtype="datetime64[D]")
    shift = np.datetime64(last_date, "D") - dates[-1]
    rows["date"] = (dates + shift).tolist()
    if planted is None:
        planted = rows.iloc[0:0]
    else:
        planted = planted[planted["session"] <= rows["session"].iloc[-1]]
    modality = rng.choices(_MODALITIES, weights=_MODALITY_WEIGHTS)[0]
    return _CasePlan(code=code, status=status, modality=modality, therapist=therapist,
                     rows=rows, ruptures=planted)


def _codes(rng: random.Random, n: int) -> list[str]:
    codes: set[str] = set()
    while len(codes) < n:
        codes.add("C-" + "".join(rng.choice(_CODE_ALPHABET) for _ in range(5)))
    return sorted(codes, reverse=True)


# --- cases and sessions ------------------------------------------------------------------

def _create_cases(clinic, therapists, plans, rng) -> list[list[Session]]:
    clients = Client.objects.bulk_create([
        Client(clinic=clinic, code=p.code,
               contact_email=f"{p.code.lower().replace('-', '.')}@example.org")
        for p in plans])
    cases = Case.objects.bulk_create([
        Case(client=client, therapist=therapists[p.therapist], modality=p.modality,
             start_date=p.rows["date"].iloc[0], status=p.status,
             end_date=None if p.status == Case.Status.ACTIVE else p.rows["date"].iloc[-1])
        for client, p in zip(clients, plans)])
    new_sessions = []
    for case, plan in zip(cases, plans):
        for number, date, attended in zip(plan.rows["session"], plan.rows["date"],
                                          plan.rows["attended"]):
            status = (Session.Status.ATTENDED if attended else
                      rng.choice((Session.Status.CANCELLED, Session.Status.NO_SHOW)))
            new_sessions.append(Session(case=case, number=int(number), date=date, status=status))
    created = Session.objects.bulk_create(new_sessions, batch_size=500)
    by_case: list[list[Session]] = []
    position = 0
    for plan in plans:
        by_case.append(created[position:position + len(plan.rows)])
        position += len(plan.rows)
    return by_case


# --- administrations ---------------------------------------------------------------------

def _create_administrations(plans, sessions, therapists, rng) -> list[Session]:
    """Store every form: answered, or sent and left unanswered (an expired link).

    Returns the recent sessions whose client check-in is still open.
    """
    forms = {i: instruments.get_instrument(i) for i in (CLIENT_FORM, THERAPIST_FORM,
                                                        WELLBEING_FORM)}
    rows: list[Administration] = []
    unanswered: list[Administration] = []
    pending: list[Session] = []
    for plan, case_sessions in zip(plans, sessions):
        therapist = therapists[plan.therapist]
        rupture_at = {int(r.session): r.subscale for r in plan.ruptures.itertuples()}
        repaired_at = {int(r.repaired_session) for r in plan.ruptures.itertuples()
                       if r.repaired and not pd.isna(r.repaired_session)}
        last = len(case_sessions) - 1
        for k, (session, row) in enumerate(zip(case_sessions, plan.rows.itertuples())):
            if not row.attended:
                continue
            answered = not math.isnan(row.alliance)
            if k == last and plan.pending_last and answered:
                pending.append(session)   # its live link is issued after this transaction
                answered = False
            elif not answered:
                # Sent after the session, never answered: the link has expired.
                for form in (CLIENT_FORM, WELLBEING_FORM):
                    unanswered.append(Administration(
                        session=session, instrument_id=form,
                        instrument_version=forms[form].version, respondent="client",
                        via=Administration.Via.LINK, created_by=therapist))
            when = _submitted_at(session.date, rng)
            if answered:
                text = _client_text(rng, rupture_at.get(row.session),
                                    row.session in repaired_at)
                rows.append(_administration(
                    session, forms[CLIENT_FORM], "client", _client_via(rng), when,
                    _client_items(forms[CLIENT_FORM], row, rng), {"more_helpful": text},
                    therapist))
                rows.append(_administration(
                    session, forms[WELLBEING_FORM], "client", "link", when,
                    _spread(row.wellbeing, ("self", "close", "everyday", "overall"), rng), {},
                    therapist))
            if not math.isnan(row.therapist_alliance):
                note = _therapist_text(rng, row.session in rupture_at)
                rows.append(_administration(
                    session, forms[THERAPIST_FORM], "therapist", "staff",
                    _not_later_than_now(when - dt.timedelta(hours=3), session.date),
                    _spread(row.therapist_alliance, [i.id for i in forms[THERAPIST_FORM].items],
                            rng), {"try_next": note}, therapist))
    Administration.objects.bulk_create(rows, batch_size=500)
    Administration.objects.bulk_create(unanswered, batch_size=500)
    CheckinLink.objects.bulk_create([
        CheckinLink(administration=a, token_hash=hash_token(secrets.token_urlsafe(32)),
                    created_by=a.created_by, expires_at=_expiry(a.session.date))
        for a in unanswered], batch_size=500)
    return pending


def _expiry(date: dt.date) -> dt.datetime:
    # Sent at 18:00 on the session's day, the clinic's time (seeding runs in its zone).
    return localtime.at(date, 18) + dt.timedelta(hours=settings.CHECKIN_LINK_EXPIRY_HOURS)


def _not_later_than_now(moment: dt.datetime, date: dt.date) -> dt.datetime:
    """`moment`, or a minute ago for a session today whose evening has not come yet (but
    not before the session's day began)."""
    return max(min(moment, timezone.now() - dt.timedelta(minutes=1)), localtime.at(date, 0))


def _administration(session, instrument, respondent, via, when, responses, answers, by):
    """An answered form; `by` is who sent it (client forms) or filled it in (therapist's)."""
    return Administration(
        session=session, instrument_id=instrument.id, instrument_version=instrument.version,
        respondent=respondent, via=via, responses=responses,
        scores=_score(instrument, responses), answers=answers, created_by=by,
        submitted_at=when)


_scored: dict[tuple, dict] = {}


def _score(instrument, responses: dict) -> dict:
    """The core engine's scores (the same answers recur often: remember them)."""
    key = (instrument.id, instrument.version, tuple(sorted(responses.items())))
    if key not in _scored:
        _scored[key] = instruments.score(instrument, responses)
    return dict(_scored[key])


def _submitted_at(date: dt.date, rng: random.Random) -> dt.datetime:
    """Evening of the session day, when most clients answer a check-in link."""
    moment = localtime.at(date, 17) + dt.timedelta(minutes=rng.randint(0, 240))
    return _not_later_than_now(moment, date)


def _client_via(rng: random.Random) -> str:
    return Administration.Via.IN_ROOM if rng.random() < 0.2 else Administration.Via.LINK


def _client_items(form, row, rng: random.Random) -> dict[str, float]:
    """Whole-number answers to the items of each subscale (bond, goals, tasks) of the client
    form whose mean is the simulated subscale score (rounded when a part is one question)."""
    responses = {}
    for subscale in ("bond", "goals", "tasks"):
        responses.update(_spread(getattr(row, subscale), form.score_items(subscale), rng))
    return responses


def _spread(mean: float, items, rng: random.Random) -> dict[str, float]:
    """Whole numbers 0–10 for `items` whose mean is `mean` (a point of the items' grid).

    The sum is split as evenly as possible, then a point or two is moved between items
    (people do not answer every question alike); the sum, and so the mean, stays.
    """
    items = list(items)
    total = round(float(mean) * len(items))
    base, extra = divmod(total, len(items))
    values = [base + (1 if k < extra else 0) for k in range(len(items))]
    rng.shuffle(values)
    for _ in range(rng.choice((0, 1, 1, 2)) if len(items) > 1 else 0):
        give, take = rng.sample(range(len(items)), 2)
        if values[give] < 10 and values[take] > 0:
            values[give] += 1
            values[take] -= 1
    return {item: float(value) for item, value in zip(items, values)}


def _client_text(rng: random.Random, rupture_subscale: str | None, repaired: bool) -> str:
    if rupture_subscale is not None and rng.random() < 0.75:
        return rng.choice(demo_texts.CLIENT_RUPTURE[rupture_subscale])
    if repaired and rng.random() < 0.6:
        return rng.choice(demo_texts.CLIENT_REPAIRED)
    if rng.random() < 0.12:
        return rng.choice(demo_texts.CLIENT_EVERYDAY)
    return ""


def _therapist_text(rng: random.Random, rupture: bool) -> str:
    if rupture and rng.random() < 0.5:
        return rng.choice(demo_texts.THERAPIST_RUPTURE)
    if rng.random() < 0.08:
        return rng.choice(demo_texts.THERAPIST_EVERYDAY)
    return ""


# --- repair actions ----------------------------------------------------------------------

#: What the demo's therapists recorded doing about a rupture, by the part of the alliance
#: that fell: (kind, note) pairs in everyday clinical words.
REPAIR_NOTES = {
    "bond": (("acknowledged", "Said I had noticed the lower rating and asked how last time "
                              "felt. They said I had seemed rushed."),
             ("explored", "Asked what it was like to be in the room with me lately; we "
                          "talked about the session they left early.")),
    "goals": (("renegotiated_goals", "Went back to what they want from coming here. The work "
                                     "goal matters less now; we rewrote it together."),
              ("explored", "Asked what they had hoped would be different by now.")),
    "tasks": (("adjusted_tasks", "The diary felt like homework. Agreed on a shorter note on "
                                 "the phone instead, twice a week."),
              ("adjusted_tasks", "Slowed down: more time to talk before any exercise.")),
    "total": (("explored", "Asked openly how the sessions have been going for them."),
              ("acknowledged", "Named the dip in the check-in and thanked them for being "
                               "honest about it.")),
}
REPAIR_FOLLOW_UPS = (
    ("consulted_supervision", "Took it to supervision: looked at what happens when the "
                              "client goes quiet."),
    ("changed_approach", "Moved from structured exercises to more open conversation for a "
                         "few sessions."),
)


def seed_repair_actions(clinic: Clinic, *, today: dt.date | None = None,
                        seed: int = DEMO_SEED) -> int:
    """Record repair actions for some of the demo's ruptures, as its therapists would have.

    A separate step after the signals (`compute_signals`): most ruptures already repaired
    or unresolved get an action at the session after the rupture (some repaired after an
    action, some unresolved despite one); others have none, and recent ones needing
    attention are left for a visitor to record. Actions go through
    `monitoring.actions.record_repair`; their dates are set to the session's. Returns the
    number of actions recorded.
    """
    from alliance.web.monitoring import actions
    from alliance.web.monitoring.models import RepairAction, Signal

    today = today or localtime.today(clinic)
    rng = random.Random(seed + 1)
    ruptures = list(Signal.objects.filter(case__client__clinic=clinic, type=Signal.Type.RUPTURE,
                                          repair_state__in=[Signal.RepairState.REPAIRED,
                                                            Signal.RepairState.UNRESOLVED])
                    .exclude(state=Signal.State.DISMISSED)
                    .select_related("case__therapist", "session").order_by("pk"))
    sessions = {(s.case_id, s.number): s for s in
                Session.objects.filter(case__in={r.case_id for r in ruptures})}
    recorded = 0
    for signal in ruptures:
        if signal.state == Signal.State.OPEN or rng.random() < 0.35:
            continue  # left as it is: open for a visitor, or nothing recorded
        number = signal.session.number
        back = (signal.data or {}).get("repaired_session")
        # The session after the rupture, unless the client was back at the earlier level
        # by then already.
        later = sessions.get((signal.case_id, number + 1))
        session = later if later is not None and (back is None or number + 1 <= back) \
            else signal.session
        kind, note = rng.choice(REPAIR_NOTES.get(signal.subject, REPAIR_NOTES["total"]))
        showed_as = rng.choices(["withdrawal", "confrontation", "not_sure"], [5, 3, 2])[0]
        done = [actions.record_repair(signal, by=signal.case.therapist, kind=kind,
                                      showed_as=showed_as, note=note, session=session)]
        if signal.repair_state == Signal.RepairState.UNRESOLVED and rng.random() < 0.5:
            kind, note = rng.choice(REPAIR_FOLLOW_UPS)
            done.append(actions.record_repair(signal, by=signal.case.therapist,
                                              kind=kind, showed_as=showed_as, note=note))
        for k, action in enumerate(done):
            when = min(session.date + dt.timedelta(days=k), today)
            RepairAction.objects.filter(pk=action.pk).update(
                created_at=_not_later_than_now(localtime.at(when, 17, 30, clinic), when))
        recorded += len(done)
    return recorded
