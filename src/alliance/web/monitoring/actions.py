"""What a therapist does with a signal: acknowledge it, dismiss it with a reason, reopen
it, record what they did about it (a repair action). Each is checked here (only the case's
therapist, only from a state that allows it) and recorded in the audit trail here, so that
the case page and the API describe one act in the same words.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from alliance.web.audit.services import record_change
from alliance.web.clinics.models import StaffMember
from alliance.web.errors import DomainError
from alliance.web.monitoring.models import RepairAction, Signal
from alliance.web.monitoring.prompts import REPAIRABLE


class SignalError(DomainError):
    """A change to a signal that its state does not allow."""


@dataclass(frozen=True)
class Verb:
    """One thing a therapist does with a signal, in the words every surface uses: the
    button on the case page (`label`), the confirmation after it (`done`), the audit
    trail's detail (`audit`), the API action (`key`) and what it means (`meaning`)."""

    key: str
    label: str
    done: str
    audit: str
    meaning: str


#: The signal actions, in the order the case page explains them.
VERBS = {verb.key: verb for verb in (
    Verb("acknowledge", "Acknowledge", "Acknowledged", "signal acknowledged",
         "You have seen it and will take it up with the client. It stops counting as "
         "needing attention and stays on the page."),
    Verb("repair", "Record what you did", "Recorded what you did", "repair recorded",
         "Note what you did about it in a session (it also acknowledges the signal). The "
         "client's next check-ins show whether it helped."),
    Verb("dismiss", "Dismiss", "Dismissed", "signal dismissed",
         "It does not need action: say why in a sentence. The reason is kept with it."),
    Verb("reopen", "Reopen", "Reopened", "signal reopened",
         "Undo an acknowledgement or a dismissal: the signal is open again."),
    Verb("mark_read", "Mark as read", "Marked as read", "client's comment marked as read",
         "For a client's comment: you have read it. It leaves the new comments."),
)}


def _check_actor(signal: Signal, by: StaffMember) -> None:
    if signal.type == Signal.Type.RISK:
        raise SignalError("A risk signal is closed by recording the response on its urgent "
                          "review page, not acknowledged or dismissed.")
    if signal.case.therapist_id != by.pk:
        raise SignalError("Only the case's therapist can change its signals.")


def acknowledge(signal: Signal, *, by: StaffMember) -> Signal:
    """The therapist has seen the signal and is attending to it."""
    _check_actor(signal, by)
    if signal.state != Signal.State.OPEN:
        raise SignalError("Only an open signal can be acknowledged.")
    with transaction.atomic():
        signal.state, signal.changed_by = Signal.State.ACKNOWLEDGED, by
        signal.save(update_fields=["state", "changed_by", "updated_at"])
        record_change("update", signal, by=by, detail=(
            VERBS["mark_read"].audit if signal.type == Signal.Type.CLIENT_FEEDBACK
            else VERBS["acknowledge"].audit))
    return signal


def dismiss(signal: Signal, *, by: StaffMember, reason: str) -> Signal:
    """The therapist judges the signal not to need action, and says why (required)."""
    _check_actor(signal, by)
    reason = (reason or "").strip()
    if not reason:
        raise SignalError("Please say briefly why this signal does not need attention.")
    if signal.state not in (Signal.State.OPEN, Signal.State.ACKNOWLEDGED):
        raise SignalError("This signal is already dismissed or resolved.")
    with transaction.atomic():
        signal.state, signal.dismiss_reason, signal.changed_by = Signal.State.DISMISSED, reason, by
        signal.save(update_fields=["state", "dismiss_reason", "changed_by", "updated_at"])
        record_change("update", signal, by=by, detail=VERBS["dismiss"].audit)
    return signal


def reopen(signal: Signal, *, by: StaffMember) -> Signal:
    """Back to open, e.g. after a dismissal by mistake. Only while the rules still produce it."""
    _check_actor(signal, by)
    if signal.state == Signal.State.OPEN:
        raise SignalError("This signal is already open.")
    if not signal.is_current:
        raise SignalError("The clinic's current rules no longer flag this, so it cannot be "
                          "reopened.")
    with transaction.atomic():
        signal.state, signal.dismiss_reason, signal.changed_by = Signal.State.OPEN, "", by
        signal.save(update_fields=["state", "dismiss_reason", "changed_by", "updated_at"])
        record_change("update", signal, by=by, detail=VERBS["reopen"].audit)
    return signal


# --------------------------------------------------------------------------- repair

#: The longest note a repair action keeps.
REPAIR_NOTE_LENGTH = 2000


def record_repair(signal: Signal, *, by: StaffMember, kind: str, showed_as: str,
                  note: str = "", session=None) -> RepairAction:
    """Record what the case's therapist did about a rupture, low alliance, discrepancy or
    disengagement signal.

    `kind` is one of `RepairAction.Kind` (what they did), `showed_as` one of
    `RepairAction.ShowedAs` (how the rupture showed: withdrawal, confrontation, not sure),
    `note` a short note (needed when the kind is "other"), `session` the session of the
    case in which it happened (optional; not before the signal's own session).

    An open signal becomes acknowledged: the therapist is attending to it. The outcome
    is left to the client's following check-ins (the core's repair rule, stored as
    `Signal.repair_state`). Raises `SignalError` when a rule says no.
    """
    _check_actor(signal, by)
    if signal.type not in REPAIRABLE:
        raise SignalError("Repair actions are recorded for ruptures, lower alliance ratings, "
                          "differing views of the alliance and signs of drifting away.")
    if signal.state == Signal.State.DISMISSED:
        raise SignalError("This signal was dismissed; reopen it first to record what you did.")
    if kind not in RepairAction.Kind.values:
        raise SignalError("Please choose what you did.")
    if showed_as not in RepairAction.ShowedAs.values:
        raise SignalError("Please choose how it showed: withdrawal, confrontation or not sure.")
    note = (note or "").strip()
    if kind == RepairAction.Kind.OTHER and not note:
        raise SignalError("Please say in a few words what you did.")
    if len(note) > REPAIR_NOTE_LENGTH:
        raise SignalError(f"Please keep the note under {REPAIR_NOTE_LENGTH} characters.")
    if session is not None:
        if session.case_id != signal.case_id:
            raise SignalError("That session belongs to another case.")
        if signal.session is not None and session.number < signal.session.number:
            raise SignalError(f"The session can be session {signal.session.number} or a later "
                              f"one, not one before the signal.")
    with transaction.atomic():
        action = RepairAction.objects.create(signal=signal, kind=kind, showed_as=showed_as,
                                             note=note, session=session, by=by)
        if signal.state == Signal.State.OPEN:
            signal.state, signal.changed_by = Signal.State.ACKNOWLEDGED, by
            signal.save(update_fields=["state", "changed_by", "updated_at"])
        record_change("update", signal, by=by, detail=VERBS["repair"].audit)
    return action
