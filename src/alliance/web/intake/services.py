"""Storing the intake, and what the therapist reads of it: the answers in plain words and
prompts where a preference and the current way of working differ.

"The current way of working" comes from what the project records, through one small,
explicit table (`MODALITY_WAYS`, documented in docs/web.md): what each modality usually
is on the four paired preferences, and the case's between-session tasks from its goals. A
modality the table does not describe (integrative, other) is compared on tasks only; where
nothing can be compared, the prompt is a plain one: ask about preferences.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from alliance.web.care.models import Case, Session
from alliance.web.intake.models import NO_PREFERENCE, PREFERENCES, Intake
from alliance.web.safety import services as safety

#: The intake is asked in the check-in of the case's first sessions (up to this session
#: number) while the case has none: a client who missed the first check-in is asked at the
#: next; a case already under way is not.
ASK_UNTIL_SESSION = 3
#: The session brief shows the intake while the case has at most this many sessions.
BRIEF_SESSIONS = 4

#: What each modality usually is on the paired preferences (a value of the preference's
#: choices); a preference missing from a modality's entry is not compared. Integrative and
#: other ways of working are not described: nothing is assumed about them.
MODALITY_WAYS = {
    Case.Modality.CBT: {"structure": "structure", "focus": "present", "tasks": "tasks",
                        "lead": "directive"},
    Case.Modality.PSYCHODYNAMIC: {"structure": "explore", "focus": "past", "lead": "client_led"},
    Case.Modality.HUMANISTIC: {"structure": "explore", "focus": "present", "lead": "client_led"},
}

#: How the client's preference reads, for the therapist.
PREFERENCE_WORDS = {
    "structure": {"structure": gettext_lazy("more structure"),
                  "explore": gettext_lazy("more room to explore")},
    "focus": {"present": gettext_lazy("a focus on the present"),
              "past": gettext_lazy("attention to the past")},
    "tasks": {"tasks": gettext_lazy("things to try between sessions"),
              "no_tasks": gettext_lazy("no tasks between sessions")},
    "lead": {"directive": gettext_lazy("a therapist who suggests what to do"),
             "client_led": gettext_lazy("a therapist who follows their lead")},
}
PAST_WORDS = {
    "none": gettext_lazy("No therapy before."),
    "helpful": gettext_lazy("Had therapy before; mostly helpful."),
    "mixed": gettext_lazy("Had therapy before; mixed."),
    "unhelpful": gettext_lazy("Had therapy before; mostly not helpful."),
}


def asks_intake(session: Session) -> bool:
    """Whether this session's check-in carries the intake (one query)."""
    case = session.case
    return (case.status == Case.Status.ACTIVE and session.number <= ASK_UNTIL_SESSION
            and not Intake.objects.filter(case_id=case.pk).exists())


def store_from_checkin(case: Case, session: Session, answers: dict) -> Intake | None:
    """Store the intake sent with a check-in (inside its transaction). An intake already
    there (given in the portal meanwhile) is kept as it is."""
    now = timezone.now()
    try:
        with transaction.atomic():
            intake = Intake.objects.create(case=case, session=session, via=Intake.Via.CHECKIN,
                                           submitted_at=now, updated_at=now, **answers)
    except IntegrityError:
        return None
    _check_words(intake, session=session)
    return intake


def _check_words(intake: Intake, *, session=None) -> None:
    """The client's words go through the clinic's list of phrases to read at once, as a
    check-in's comments do (docs/safety.md): a listed phrase raises a risk alert, kept in
    `intake.risk_alerts` (the page then shows the clinic's crisis text). One alert for the
    intake's texts together: one act of the client's, one set of notices."""
    text = "\n\n".join(t for t in (intake.hopes, intake.past_therapy_text, intake.culture) if t)
    alert = text and safety.check_comment(
        intake.case, text, session=session,
        key=f"intake:{intake.pk}:{int(intake.updated_at.timestamp())}")
    intake.risk_alerts = [alert] if alert else []


def update(case: Case, answers: dict) -> Intake:
    """The client's answers given or changed in the portal: they replace the earlier ones."""
    now = timezone.now()
    intake, created = Intake.objects.get_or_create(
        case=case, defaults={"via": Intake.Via.PORTAL, "submitted_at": now, "updated_at": now,
                             **answers})
    if not created:
        for name, value in answers.items():
            setattr(intake, name, value)
        intake.updated_at = now
        intake.save()
    _check_words(intake)
    return intake


def current(case: Case) -> Intake | None:
    return Intake.objects.filter(case=case).first()


def initial(intake: Intake | None) -> dict:
    """The stored answers, to show the client their own (nothing when there are none)."""
    if intake is None:
        return {}
    names = ("hopes", "past_therapy", "past_therapy_text", *PREFERENCES, "readiness",
             "culture")
    return {name: getattr(intake, name) for name in names
            if getattr(intake, name) not in ("", None)}


# -- What the therapist reads ------------------------------------------------------------------

@dataclass
class Summary:
    intake: Intake | None
    hopes: str = ""
    past: str = ""
    past_text: str = ""
    preferences: list[str] = field(default_factory=list)
    no_preference: bool = False
    readiness: int | None = None
    culture: str = ""
    prompts: list[str] = field(default_factory=list)


def current_way(case: Case, tasks: int) -> dict[str, str]:
    """The case's way of working on the paired preferences, as far as it is recorded: the
    modality's usual way, and between-session tasks when the case's goals have any."""
    way = dict(MODALITY_WAYS.get(case.modality, {}))
    if tasks:
        way["tasks"] = "tasks"
    return way


def prompts(case: Case, intake: Intake | None, *, tasks: int) -> list[str]:
    """A sentence for each preference the current way of working does not meet; a plain
    prompt to ask about preferences when nothing can be compared."""
    given = {name: getattr(intake, name) for name in PREFERENCES} if intake else {}
    given = {name: value for name, value in given.items() if value and value != NO_PREFERENCE}
    way = current_way(case, tasks)
    compared = [name for name in given if name in way]
    if not compared:
        return [_("Ask the client how they would like the two of you to work together.")]
    modality = case.get_modality_display()
    found = []
    for name in compared:
        if given[name] == way[name]:
            continue
        wish = PREFERENCE_WORDS[name][given[name]]
        if name == "tasks" and tasks:
            found.append(ngettext(
                "The client would prefer %(wish)s, and this case has %(count)d "
                "between-session task in its goals: talk about whether it suits them.",
                "The client would prefer %(wish)s, and this case has %(count)d "
                "between-session tasks in its goals: talk about whether they suit them.",
                tasks) % {"wish": wish, "count": tasks})
        else:
            found.append(_("The client would prefer %(wish)s, which %(modality)s does not "
                           "usually offer: talk about how the work could meet this.")
                         % {"wish": wish, "modality": modality})
    if not found:
        found.append(_("The client's preferences fit how this case works; check in about "
                       "them as the work goes on."))
    return found


def summary(case: Case, intake: Intake | None, *, tasks: int) -> Summary:
    result = Summary(intake=intake, prompts=prompts(case, intake, tasks=tasks))
    if intake is None:
        return result
    result.hopes = intake.hopes
    result.past = str(PAST_WORDS.get(intake.past_therapy, ""))
    result.past_text = intake.past_therapy_text
    result.preferences = [str(PREFERENCE_WORDS[name][getattr(intake, name)])
                          for name in PREFERENCES
                          if getattr(intake, name) not in ("", NO_PREFERENCE)]
    result.no_preference = any(getattr(intake, name) == NO_PREFERENCE for name in PREFERENCES)
    result.readiness = intake.readiness
    result.culture = intake.culture
    return result
