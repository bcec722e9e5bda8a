"""Starting and ending a practice focus; who may see whose practice.

Who sees one therapist's practice page (`practitioner_or_404`): the therapist, and a
supervisor who supervises them (their own page too, since supervisors carry cases).
Administrators see clinic aggregates only, never one therapist's figures. Anyone else
gets 404, as the scoping layer answers for records out of scope.

A focus is noted by the therapist or by one of their supervisors; every start and end is
recorded in the audit trail.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.http import Http404

from alliance.web import localtime
from alliance.web.audit.services import record, record_denied
from alliance.web.clinics.models import StaffMember
from alliance.web.errors import DomainError
from alliance.web.practice.models import PracticeFocus

#: A start date may lie this far in the past (a focus agreed at the last supervision and
#: noted a little later); not in the future, where there is nothing to compare yet.
MAX_BACKDATE_DAYS = 366


class FocusError(DomainError):
    pass


def can_see(viewer: StaffMember | None, therapist: StaffMember) -> bool:
    if viewer is None or not viewer.can_treat or viewer.clinic_id != therapist.clinic_id:
        return False
    if viewer.pk == therapist.pk:
        return True
    return viewer.is_supervisor and viewer.supervisees.filter(pk=therapist.pk).exists()


def practitioner_or_404(viewer: StaffMember, pk) -> StaffMember:
    """A therapist whose practice `viewer` may see (themself, or a supervisee), else 404."""
    try:
        therapist = StaffMember.objects.select_related("clinic").get(
            pk=pk, clinic_id=viewer.clinic_id, is_active=True)
    except (StaffMember.DoesNotExist, ValueError, TypeError):
        therapist = None
    if therapist is None or not therapist.can_treat or not can_see(viewer, therapist):
        record_denied("read", detail=f"practice of staff {pk!s:.20}: none in scope")
        raise Http404("No such page.")
    return therapist


def current_focus(therapist: StaffMember) -> PracticeFocus | None:
    return therapist.practice_foci.filter(ended_on__isnull=True).first()


def start_focus(request, therapist: StaffMember, *, skill: str, started_on: dt.date,
                note: str, by: StaffMember) -> PracticeFocus:
    """Note a new focus; a current one ends the day before (one focus at a time)."""
    if not can_see(by, therapist):
        raise FocusError("Only the therapist or their supervisor can note a practice focus.")
    today = localtime.today(therapist.clinic)
    if started_on > today:
        raise FocusError("The start date cannot be in the future.")
    if started_on < today - dt.timedelta(days=MAX_BACKDATE_DAYS):
        raise FocusError("The start date can be at most a year ago.")
    if skill not in PracticeFocus.Skill.values:
        raise FocusError("Choose one of the skills in the list.")
    with transaction.atomic():
        previous = (PracticeFocus.objects.select_for_update()
                    .filter(therapist=therapist, ended_on__isnull=True).first())
        if previous is not None:
            if started_on <= previous.started_on:
                raise FocusError(f"The current focus started on "
                                 f"{localtime.format_date(previous.started_on)}; a new one "
                                 "must start after that.")
            previous.ended_on = started_on - dt.timedelta(days=1)
            previous.save(update_fields=["ended_on"])
            record(request, "update", previous, detail="practice focus ended by a new one")
        focus = PracticeFocus.objects.create(
            clinic_id=therapist.clinic_id, therapist=therapist, skill=skill, note=note.strip(),
            started_on=started_on, created_by=by)
        record(request, "create", focus, detail=f"practice focus: {skill}")
    return focus


def end_focus(request, focus: PracticeFocus, *, by: StaffMember) -> None:
    if not can_see(by, focus.therapist):
        raise FocusError("Only the therapist or their supervisor can end a practice focus.")
    if focus.ended_on is not None:
        raise FocusError("This focus has already ended.")
    focus.ended_on = max(localtime.today(by.clinic), focus.started_on)
    focus.save(update_fields=["ended_on"])
    record(request, "update", focus, detail="practice focus ended")
