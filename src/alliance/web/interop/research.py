"""Research exports: a clinic's (or a selection's) data, pseudonymised, with a data dictionary.

Tables (long format, as `alliance analyze` and R read them):

- ``sessions``: one row per scheduled session, with every score of every form answered at it
  (``<instrument>_<score>``, e.g. ``alliance_client_total``);
- ``items``: one row per item answer;
- ``answers``: the free-text answers, only when asked for (`include_text`);
- ``intake``: one row per case whose intake was answered at an exported session: past
  experience of therapy, the paired preferences and readiness; with `include_text` also the
  hopes and what the client wrote about past therapy, and what they wrote about their
  culture only when the clinic allows it (`Clinic.research_export_cultural_text`);
- ``dictionary``: every column of the tables above: meaning, type, unit, range, instrument
  and version.

Clients, cases and therapists appear only as research codes (`ResearchCode`): random, kept
per clinic and export key, so later exports with the same key give the same codes. No names,
contact details, real client codes or calendar dates: a session's date is given as days since
the case started.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from django.db import IntegrityError, transaction

from alliance.core.instruments import TOTAL, Instrument
from alliance.core.errors import InputError
from alliance.core.tables import neutralise_formulas
from alliance.web import instruments as web_instruments
from alliance.web.care.models import Case, Session
from alliance.web.checkins.models import Administration
from alliance.web.clinics.models import Clinic
from alliance.web.intake.models import PREFERENCES, Intake
from alliance.web.interop.models import ResearchCode

FORMATS = ("csv", "parquet", "both")
DEFAULT_KEY = "research"

_ID_COLUMNS = [
    ("client", "text", "Research code of the client (random; the same in later exports with "
                       "the same key)."),
    ("case", "text", "Research code of the case (episode of care)."),
    ("therapist", "text", "Research code of the therapist."),
    ("session", "integer", "Session number within the case, 1 = first."),
]
_SESSION_COLUMNS = [
    ("days_since_start", "integer", "Days from the start of the case to this session."),
    ("attended", "integer", "1 when the client attended, 0 when the session was cancelled or "
                            "missed."),
    ("session_status", "text", "attended, cancelled or no_show."),
    ("session_format", "text", "How the session took place: in_person, video, phone or text; "
                               "empty when not recorded."),
    ("case_status", "text", "The case's status at export: active, closed or dropped_out."),
    ("modality", "text", "Therapy modality: cbt, psychodynamic, humanistic, integrative, other."),
    ("risk_answer", "integer", "1 when a form of this session has an answer at or above a risk "
                               "item's threshold (e.g. PHQ-9 item 9, the safety question), "
                               "else 0."),
]


_INTAKE_COLUMNS = [
    ("past_therapy", "text", "Therapy before: none, helpful, mixed or unhelpful; empty when not "
                             "answered."),
    ("prefer_structure", "text", "Preferred: structure, explore or either (no preference); "
                                 "empty when not answered."),
    ("prefer_focus", "text", "Preferred: present, past or either; empty when not answered."),
    ("prefer_tasks", "text", "Tasks between sessions: tasks, no_tasks or either; empty when not "
                             "answered."),
    ("prefer_lead", "text", "The therapist: directive, client_led (follows the client's lead) "
                            "or either; empty when not answered."),
    ("readiness", "integer", "Readiness for change, 0 (not ready yet) to 10 (completely "
                             "ready); empty when not answered."),
]
_INTAKE_TEXT_COLUMNS = [
    ("hopes", "text", "What the client hopes for from therapy, as written: free text, may "
                      "identify people."),
    ("past_therapy_text", "text", "What helped or did not in earlier therapy, as written: free "
                                  "text, may identify people."),
]
_INTAKE_CULTURE_COLUMN = ("culture", "text", "What the client wrote about their culture, "
                                             "identity, faith or language: free text, sensitive, "
                                             "may identify people.")


def intake_columns(clinic: Clinic, include_text: bool) -> list[tuple[str, str, str]]:
    """The intake table's columns after the identifiers. The cultural text only with free
    text and only when the clinic allows it."""
    columns = list(_INTAKE_COLUMNS)
    if include_text:
        columns += _INTAKE_TEXT_COLUMNS
        if clinic.research_export_cultural_text:
            columns.append(_INTAKE_CULTURE_COLUMN)
    return columns


@dataclass(frozen=True)
class Selection:
    """What to export: all of the clinic's cases in scope, narrowed by these (None = all)."""

    therapist_ids: tuple[int, ...] | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    instrument_ids: tuple[str, ...] | None = None

    def describe(self) -> str:
        parts = []
        if self.therapist_ids is not None:
            parts.append(f"{len(self.therapist_ids)} therapist(s)")
        if self.date_from or self.date_to:
            parts.append(f"sessions {self.date_from or '…'} to {self.date_to or '…'}")
        if self.instrument_ids:
            parts.append(", ".join(self.instrument_ids))
        return "; ".join(parts) or "whole clinic"


@dataclass(frozen=True)
class ResearchExport:
    sessions: pd.DataFrame
    items: pd.DataFrame
    answers: pd.DataFrame | None
    dictionary: pd.DataFrame
    intake: pd.DataFrame

    def tables(self) -> dict[str, pd.DataFrame]:
        tables = {"sessions": self.sessions, "items": self.items}
        if self.answers is not None:
            tables["answers"] = self.answers
        tables["intake"] = self.intake
        return tables


def _column(instrument_id: str, score_id: str) -> str:
    return f"{instrument_id.replace('-', '_')}_{score_id}"


def research_codes(clinic: Clinic, key: str, kind: str, ids: Iterable[int]) -> dict[int, str]:
    """The research code of each record, drawing and keeping new ones as needed."""
    ids = set(ids)
    found = dict(ResearchCode.objects.filter(clinic=clinic, key=key, kind=kind,
                                             record_id__in=ids).values_list("record_id", "code"))
    missing = ids - set(found)
    while missing:
        taken = set(ResearchCode.objects.filter(clinic=clinic, key=key, kind=kind)
                    .values_list("code", flat=True))
        new = []
        for record_id in sorted(missing):
            code = ResearchCode.new_code(kind)
            while code in taken:
                code = ResearchCode.new_code(kind)
            taken.add(code)
            new.append(ResearchCode(clinic=clinic, key=key, kind=kind, record_id=record_id,
                                    code=code))
        try:
            with transaction.atomic():
                ResearchCode.objects.bulk_create(new)
        except IntegrityError:  # another export drew codes at the same time: read them again
            pass
        found = dict(ResearchCode.objects.filter(clinic=clinic, key=key, kind=kind,
                                                 record_id__in=ids)
                     .values_list("record_id", "code"))
        missing = ids - set(found)
    return found


def build_export(clinic: Clinic, *, key: str = DEFAULT_KEY, selection: Selection = Selection(),
                 include_text: bool = False,
                 case_ids: Iterable[int] | None = None) -> ResearchExport:
    """Build the export tables. `case_ids` limits it to the cases a user may see."""
    cases = Case.objects.filter(client__clinic=clinic)
    if case_ids is not None:
        cases = cases.filter(pk__in=list(case_ids))
    if selection.therapist_ids is not None:
        cases = cases.filter(therapist_id__in=selection.therapist_ids)
    case_rows = {c["pk"]: c for c in cases.values("pk", "client_id", "therapist_id",
                                                   "start_date", "status", "modality")}
    sessions = Session.objects.filter(case_id__in=list(case_rows))
    if selection.date_from:
        sessions = sessions.filter(date__gte=selection.date_from)
    if selection.date_to:
        sessions = sessions.filter(date__lte=selection.date_to)
    session_rows = list(sessions.order_by("case_id", "number")
                        .values("pk", "case_id", "number", "date", "status", "format"))
    forms = Administration.objects.filter(session_id__in=[s["pk"] for s in session_rows],
                                          submitted_at__isnull=False)
    if selection.instrument_ids:
        forms = forms.filter(instrument_id__in=selection.instrument_ids)
    form_rows = list(forms.values("session_id", "instrument_id", "instrument_version",
                                  "respondent", "language", "responses", "scores",
                                  "answers"))

    clients = research_codes(clinic, key, "client", {c["client_id"] for c in case_rows.values()})
    case_codes = research_codes(clinic, key, "case", case_rows)
    therapists = research_codes(clinic, key, "therapist",
                                {c["therapist_id"] for c in case_rows.values()})

    def ids(case_id: int, number: int) -> dict:
        case = case_rows[case_id]
        return {"client": clients[case["client_id"]], "case": case_codes[case_id],
                "therapist": therapists[case["therapist_id"]], "session": number}

    by_session: dict[int, list[dict]] = {}
    for form in form_rows:
        by_session.setdefault(form["session_id"], []).append(form)
    instruments: dict[str, Instrument] = {}
    versions: dict[str, set[str]] = {}
    rows, items, answers = [], [], []
    for session in session_rows:
        case = case_rows[session["case_id"]]
        row = {**ids(session["case_id"], session["number"]),
               "days_since_start": (session["date"] - case["start_date"]).days,
               "attended": int(session["status"] == Session.Status.ATTENDED),
               "session_status": session["status"], "session_format": session["format"],
               "case_status": case["status"],
               "modality": case["modality"], "risk_answer": 0}
        for form in by_session.get(session["pk"], ()):
            instrument = instruments.setdefault(
                form["instrument_id"], web_instruments.get_instrument(form["instrument_id"]))
            versions.setdefault(instrument.id, set()).add(form["instrument_version"])
            scores = form["scores"] or {}
            if instrument.risk_answers(form["responses"] or {}):
                row["risk_answer"] = 1
            for score_id in instrument.score_ids:
                value = (scores.get("total") if score_id == TOTAL
                         else (scores.get("subscales") or {}).get(score_id))
                row[_column(instrument.id, score_id)] = value
            for item_id, value in (form["responses"] or {}).items():
                items.append({**ids(session["case_id"], session["number"]),
                              "instrument": instrument.id,
                              "instrument_version": form["instrument_version"],
                              "respondent": form["respondent"],
                              "language": form["language"], "item": item_id,
                              "value": value})
            if include_text:
                for question, text in (form["answers"] or {}).items():
                    if text:
                        answers.append({**ids(session["case_id"], session["number"]),
                                        "instrument": instrument.id, "question": question,
                                        "text": text})
        rows.append(row)
    score_columns = [(instrument, score_id) for instrument in
                     sorted(instruments.values(), key=lambda i: i.id)
                     for score_id in instrument.score_ids]
    base = [c for c, _, _ in _ID_COLUMNS + _SESSION_COLUMNS]
    sessions_frame = pd.DataFrame(rows, columns=base + [_column(i.id, s)
                                                        for i, s in score_columns])
    for instrument, score_id in score_columns:
        column = _column(instrument.id, score_id)
        sessions_frame[column] = pd.to_numeric(sessions_frame[column], errors="coerce")
    item_columns = [c for c, _, _ in _ID_COLUMNS] + ["instrument", "instrument_version",
                                                     "respondent", "language", "item",
                                                     "value"]
    items_frame = pd.DataFrame(items, columns=item_columns)
    items_frame["value"] = pd.to_numeric(items_frame["value"], errors="coerce")
    answers_frame = (pd.DataFrame(answers, columns=[c for c, _, _ in _ID_COLUMNS]
                                  + ["instrument", "question", "text"])
                     if include_text else None)
    intake_frame = _intake(clinic, session_rows, ids, include_text)
    dictionary = _dictionary(score_columns, versions, instruments, include_text,
                             intake_columns(clinic, include_text))
    return ResearchExport(sessions_frame, items_frame, answers_frame, dictionary, intake_frame)


def _intake(clinic: Clinic, session_rows: list[dict], ids, include_text: bool) -> pd.DataFrame:
    """One row per intake answered at an exported session (intakes given first in the
    portal belong to no session and are not exported)."""
    columns = intake_columns(clinic, include_text)
    numbers = {s["pk"]: (s["case_id"], s["number"]) for s in session_rows}
    names = {"prefer_" + name: name for name in PREFERENCES}
    rows = []
    for intake in Intake.objects.filter(session_id__in=list(numbers)).order_by("case_id"):
        case_id, number = numbers[intake.session_id]
        rows.append({**ids(case_id, number),
                     **{column: getattr(intake, names.get(column, column))
                        for column, _, _ in columns}})
    frame = pd.DataFrame(rows, columns=[c for c, _, _ in _ID_COLUMNS + columns])
    frame["readiness"] = frame["readiness"].astype("Int64")
    return frame


def _dictionary(score_columns, versions, instruments, include_text,
                intake_columns) -> pd.DataFrame:
    rows = []
    for table in ("sessions", "items", *(("answers",) if include_text else ()), "intake"):
        for column, kind, meaning in _ID_COLUMNS:
            if table == "intake" and column == "session":
                meaning = "The session whose check-in carried the intake."
            rows.append({"table": table, "column": column, "type": kind, "unit": "",
                         "range": "≥ 1" if column == "session" else "", "description": meaning,
                         "instrument": "", "versions": ""})
    for column, kind, meaning in _SESSION_COLUMNS:
        rows.append({"table": "sessions", "column": column, "type": kind,
                     "unit": "days" if column == "days_since_start" else "",
                     "range": "0 or 1" if column == "attended" else "",
                     "description": meaning, "instrument": "", "versions": ""})
    for instrument, score_id in score_columns:
        definition = instrument.score_definition(score_id)
        low, high = instrument.score_range(score_id)
        title = definition.title or score_id
        rows.append({
            "table": "sessions", "column": _column(instrument.id, score_id), "type": "number",
            "unit": f"{definition.method} of item scores", "range": f"{low:g}–{high:g}",
            "description": (f"{instrument.title}: {title} ({instrument.respondent}-rated; "
                            f"{'higher is better' if instrument.higher_is_better else 'lower is better'}). "
                            "Empty when not answered or not scorable."),
            "instrument": instrument.id,
            "versions": ", ".join(sorted(versions.get(instrument.id, ())))})
    item_rows = [
        ("instrument", "text", "Instrument id (see docs/instruments.md and alliance "
                               "instruments show ID)."),
        ("instrument_version", "text", "Version of the instrument definition answered."),
        ("respondent", "text", "client or therapist."),
        ("language", "text", "The language the form was shown in (a BCP 47 tag such as en); "
                             "empty when not recorded."),
        ("item", "text", "Item id within the instrument."),
    ]
    for column, kind, meaning in item_rows:
        rows.append({"table": "items", "column": column, "type": kind, "unit": "", "range": "",
                     "description": meaning, "instrument": "", "versions": ""})
    scales = "; ".join(f"{i.id}: {i.scale_of(i.items[0].id).describe_range()}"
                       for i in sorted(instruments.values(), key=lambda i: i.id))
    rows.append({"table": "items", "column": "value", "type": "number",
                 "unit": "points on the item's response scale", "range": scales,
                 "description": "The answer as given (before reverse keying).",
                 "instrument": "", "versions": ""})
    if include_text:
        for column, meaning in (("instrument", "Instrument id."),
                                ("question", "Open question id."),
                                ("text", "The answer as written: free text, may identify "
                                         "people.")):
            rows.append({"table": "answers", "column": column, "type": "text", "unit": "",
                         "range": "", "description": meaning, "instrument": "",
                         "versions": ""})
    for column, kind, meaning in intake_columns:
        rows.append({"table": "intake", "column": column, "type": kind, "unit": "",
                     "range": "0–10" if column == "readiness" else "",
                     "description": meaning,
                     "instrument": "", "versions": ""})
    return pd.DataFrame(rows)


def dictionary_markdown(export: ResearchExport, *, description: str = "") -> str:
    lines = ["# Data dictionary", ""]
    if description:
        lines += [description, ""]
    lines += ["Missing values are empty cells (CSV) or nulls (Parquet). Identifiers are research "
              "codes, not the clinic's own codes.", ""]
    for table, rows in export.dictionary.groupby("table", sort=False):
        count = len(export.tables()[table])
        lines += [f"## {table} ({count} rows)", "",
                  "| column | type | unit | range | description | instrument (versions) |",
                  "|---|---|---|---|---|---|"]
        for row in rows.itertuples():
            instrument = (f"{row.instrument} ({row.versions})" if row.instrument else "")
            lines.append(f"| {row.column} | {row.type} | {row.unit} | {row.range} | "
                         f"{row.description} | {instrument} |")
        lines.append("")
    return "\n".join(lines)


def export_files(export: ResearchExport, fmt: str = "csv", *,
                 description: str = "") -> dict[str, bytes]:
    """File name → content: the tables in the chosen format(s) and the dictionary."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r} (use {', '.join(FORMATS)})")
    files: dict[str, bytes] = {}
    for name, frame in export.tables().items():
        if fmt in ("csv", "both"):
            # Open answers are the client's own text: none may run as a spreadsheet formula.
            files[f"{name}.csv"] = neutralise_formulas(frame).to_csv(index=False).encode("utf-8")
        if fmt in ("parquet", "both"):
            buffer = io.BytesIO()
            frame.to_parquet(buffer, engine="pyarrow", index=False)
            files[f"{name}.parquet"] = buffer.getvalue()
    files["dictionary.csv"] = (neutralise_formulas(export.dictionary).to_csv(index=False)
                               .encode("utf-8"))
    files["dictionary.md"] = dictionary_markdown(export, description=description).encode("utf-8")
    return files


def write_export(export: ResearchExport, directory: str | Path, fmt: str = "csv", *,
                 description: str = "") -> list[Path]:
    """Write the export's files into `directory` (created if needed); return their paths."""
    directory = Path(directory)
    written = []
    for name, content in export_files(export, fmt, description=description).items():
        path = directory / name
        try:
            directory.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
        except OSError as exc:
            raise InputError(f"cannot write the file ({exc.strerror or exc})",
                             file=str(path)) from None
        written.append(path)
    return written


def zip_export(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()
