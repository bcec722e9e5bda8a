"""A case's history as a FHIR R4 Bundle: the client, the episode, sessions and answered forms.

The client appears only by the clinic's pseudonymous code (no contact details); each session
is an Encounter, the case an EpisodeOfCare, each answered form a QuestionnaireResponse
pointing at its instrument's Questionnaire, which the Bundle includes. Resources and the
Bundle are built and validated by `alliance.core.fhir` (FHIR R4B models).
"""

from __future__ import annotations

import uuid

from django.utils import timezone

from alliance.core import fhir as core_fhir
from alliance.web import instruments as web_instruments
from alliance.web import localtime
from alliance.web.care.models import Case, Session
from alliance.web.checkins.models import Administration

_NAMESPACE = uuid.UUID("0b5c3f3e-6a55-4d43-9d0e-3f5d6c9b1a71")

_EPISODE_STATUS = {Case.Status.ACTIVE: "active", Case.Status.CLOSED: "finished",
                   Case.Status.DROPPED_OUT: "finished"}
_ENCOUNTER_STATUS = {Session.Status.ATTENDED: "finished", Session.Status.CANCELLED: "cancelled",
                     Session.Status.NO_SHOW: "cancelled"}


def _ref(kind: str, pk) -> str:
    # Stable within the clinic's database: the same record gets the same fullUrl each time.
    return f"urn:uuid:{uuid.uuid5(_NAMESPACE, f'{kind}/{pk}')}"


def case_bundle(case: Case, *, kind: str = "collection") -> dict:
    """The case as a validated FHIR R4 Bundle (``collection``, or ``searchset`` of responses)."""
    clinic = case.client.clinic
    patient_ref = _ref("client", case.client_id)
    episode_ref = _ref("case", case.pk)
    resources = [(patient_ref, {
        "resourceType": "Patient",
        "identifier": [{"system": f"urn:alliance:clinic:{clinic.pk}:client",
                        "value": case.client.code}],
    }), (episode_ref, {
        "resourceType": "EpisodeOfCare",
        "status": _EPISODE_STATUS[case.status],
        "patient": {"reference": patient_ref},
        "period": {"start": case.start_date.isoformat(),
                   **({"end": case.end_date.isoformat()} if case.end_date else {})},
        "type": [{"text": case.get_modality_display()}],
        "extension": [{"url": core_fhir.EXT + "case-status", "valueCode": case.status}],
    })]
    sessions = list(case.sessions.order_by("number"))
    for session in sessions:
        resources.append((_ref("session", session.pk), {
            "resourceType": "Encounter",
            "status": _ENCOUNTER_STATUS[session.status],
            "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                      "code": "AMB", "display": "ambulatory"},
            "subject": {"reference": patient_ref},
            "episodeOfCare": [{"reference": episode_ref}],
            "period": {"start": session.date.isoformat()},
            "extension": [
                {"url": core_fhir.EXT + "session-number", "valueInteger": session.number},
                {"url": core_fhir.EXT + "session-status", "valueCode": session.status}],
        }))
    forms = (Administration.objects.filter(session__case=case, submitted_at__isnull=False)
             .select_related("session").order_by("session__number", "instrument_id"))
    questionnaires, responses = {}, []
    for form in forms:
        instrument = web_instruments.get_instrument(form.instrument_id)
        if instrument.id not in questionnaires:
            questionnaires[instrument.id] = (_ref("questionnaire", instrument.id),
                                             core_fhir.questionnaire(instrument))
        responses.append((_ref("administration", form.pk), core_fhir.questionnaire_response(
            instrument, form.responses, form.answers, scores=form.scores,
            subject=patient_ref, encounter=_ref("session", form.session_id),
            authored=localtime.isoformat(form.submitted_at, clinic))))
    return core_fhir.bundle([*resources, *questionnaires.values(), *responses], kind=kind,
                            timestamp=localtime.isoformat(timezone.now(), clinic))
