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

import contextlib
import datetime as dt
import io
import itertools
import tempfile
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

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


#: Cases read, turned into rows and written at a time: what bounds an export's memory.
CHUNK_CASES = 200


@dataclass
class _Plan:
    """What every chunk of an export shares: the cases, their codes and the columns."""

    clinic: Clinic
    case_rows: dict[int, dict]
    codes: dict[str, dict[int, str]]
    selection: Selection
    include_text: bool
    instruments: dict[str, Instrument]
    versions: dict[str, set[str]]

    @property
    def score_columns(self) -> list[tuple[Instrument, str]]:
        return [(instrument, score_id) for instrument in
                sorted(self.instruments.values(), key=lambda i: i.id)
                for score_id in instrument.score_ids]

    def columns(self) -> dict[str, list[str]]:
        ids = [c for c, _, _ in _ID_COLUMNS]
        columns = {"sessions": ids + [c for c, _, _ in _SESSION_COLUMNS]
                   + [_column(i.id, s) for i, s in self.score_columns],
                   "items": ids + ["instrument", "instrument_version", "respondent",
                                   "language", "item", "value"]}
        if self.include_text:
            columns["answers"] = ids + ["instrument", "question", "text"]
        columns["intake"] = ids + [c for c, _, _ in self.intake_columns]
        return columns

    @property
    def intake_columns(self) -> list[tuple[str, str, str]]:
        return intake_columns(self.clinic, self.include_text)

    def sessions(self, case_ids):
        sessions = Session.objects.filter(case_id__in=case_ids)
        if self.selection.date_from:
            sessions = sessions.filter(date__gte=self.selection.date_from)
        if self.selection.date_to:
            sessions = sessions.filter(date__lte=self.selection.date_to)
        return sessions

    def forms(self, sessions):
        forms = Administration.objects.filter(session__in=sessions, submitted_at__isnull=False)
        if self.selection.instrument_ids:
            forms = forms.filter(instrument_id__in=self.selection.instrument_ids)
        return forms


def _cases(clinic: Clinic, selection: Selection, case_ids: Iterable[int] | None):
    cases = Case.objects.filter(client__clinic=clinic)
    if case_ids is not None:
        cases = cases.filter(pk__in=list(case_ids))
    if selection.therapist_ids is not None:
        cases = cases.filter(therapist_id__in=selection.therapist_ids)
    return cases


def session_count(clinic: Clinic, selection: Selection = Selection(),
                  case_ids: Iterable[int] | None = None) -> int:
    """How many sessions (rows of the sessions table) the export would have."""
    sessions = Session.objects.filter(case__in=_cases(clinic, selection, case_ids))
    if selection.date_from:
        sessions = sessions.filter(date__gte=selection.date_from)
    if selection.date_to:
        sessions = sessions.filter(date__lte=selection.date_to)
    return sessions.count()


def _plan(clinic: Clinic, key: str, selection: Selection, include_text: bool,
          case_ids: Iterable[int] | None) -> _Plan:
    cases = _cases(clinic, selection, case_ids)
    case_rows = {c["pk"]: c for c in cases.order_by("pk").values(
        "pk", "client_id", "therapist_id", "start_date", "status", "modality")}
    codes = {"client": research_codes(clinic, key, "client",
                                      {c["client_id"] for c in case_rows.values()}),
             "case": research_codes(clinic, key, "case", case_rows),
             "therapist": research_codes(clinic, key, "therapist",
                                         {c["therapist_id"] for c in case_rows.values()})}
    plan = _Plan(clinic, case_rows, codes, selection, include_text, {}, {})
    # The instruments (and versions) answered decide the sessions table's columns, which
    # the first chunk written must already have: one query over the whole selection.
    answered = (plan.forms(plan.sessions(cases)).order_by()
                .values_list("instrument_id", "instrument_version").distinct())
    for instrument_id, version in answered:
        plan.instruments.setdefault(instrument_id, web_instruments.get_instrument(instrument_id))
        plan.versions.setdefault(instrument_id, set()).add(version)
    return plan


def _chunk(plan: _Plan, case_ids: list[int]) -> dict[str, pd.DataFrame]:
    """The rows of these cases, as frames with the plan's columns (three queries)."""
    case_rows, codes = plan.case_rows, plan.codes
    sessions = plan.sessions(case_ids)
    session_rows = list(sessions.order_by("case_id", "number")
                        .values_list("pk", "case_id", "number", "date", "status", "format"))
    by_session: dict[int, list[tuple]] = {}
    for form in plan.forms(sessions).values_list(
            "session_id", "instrument_id", "instrument_version", "respondent", "language",
            "responses", "scores", *(("answers",) if plan.include_text else ())):
        by_session.setdefault(form[0], []).append(form)

    def ids(case_id: int, number: int) -> dict:
        case = case_rows[case_id]
        return {"client": codes["client"][case["client_id"]], "case": codes["case"][case_id],
                "therapist": codes["therapist"][case["therapist_id"]], "session": number}

    rows, items, answers = [], [], []
    for pk, case_id, number, date, status, session_format in session_rows:
        case = case_rows[case_id]
        key = ids(case_id, number)
        row = {**key, "days_since_start": (date - case["start_date"]).days,
               "attended": int(status == Session.Status.ATTENDED),
               "session_status": status, "session_format": session_format,
               "case_status": case["status"], "modality": case["modality"], "risk_answer": 0}
        for _, instrument_id, version, respondent, language, responses, scores, *text in \
                by_session.get(pk, ()):
            instrument = plan.instruments[instrument_id]
            scores = scores or {}
            if instrument.risk_answers(responses or {}):
                row["risk_answer"] = 1
            for score_id in instrument.score_ids:
                value = (scores.get("total") if score_id == TOTAL
                         else (scores.get("subscales") or {}).get(score_id))
                row[_column(instrument.id, score_id)] = value
            for item_id, value in (responses or {}).items():
                items.append({**key, "instrument": instrument.id, "instrument_version": version,
                              "respondent": respondent, "language": language, "item": item_id,
                              "value": value})
            for question, answer in ((text[0] or {}).items() if text else ()):
                if answer:
                    answers.append({**key, "instrument": instrument.id, "question": question,
                                    "text": answer})
        rows.append(row)
    columns = plan.columns()
    frames = {"sessions": pd.DataFrame(rows, columns=columns["sessions"]),
              "items": pd.DataFrame(items, columns=columns["items"])}
    for instrument, score_id in plan.score_columns:
        column = _column(instrument.id, score_id)
        frames["sessions"][column] = pd.to_numeric(frames["sessions"][column],
                                                   errors="coerce").astype(float)
    # Numbers as floats in every chunk (a chunk's own missing values must not decide it).
    frames["items"]["value"] = pd.to_numeric(frames["items"]["value"],
                                             errors="coerce").astype(float)
    if plan.include_text:
        frames["answers"] = pd.DataFrame(answers, columns=columns["answers"])
    frames["intake"] = _intake(plan, {pk: ids(case_id, number)
                                      for pk, case_id, number, *_ in session_rows})
    return frames


def _intake(plan: _Plan, keys: dict[int, dict]) -> pd.DataFrame:
    """One row per intake answered at one of these sessions (`keys`: session pk → its
    identifiers). Intakes given first in the portal belong to no session and are not
    exported."""
    names = {"prefer_" + name: name for name in PREFERENCES}
    rows = [{**keys[intake.session_id],
             **{column: getattr(intake, names.get(column, column))
                for column, _, _ in plan.intake_columns}}
            for intake in Intake.objects.filter(session_id__in=list(keys)).order_by("case_id")]
    frame = pd.DataFrame(rows, columns=plan.columns()["intake"])
    frame["readiness"] = frame["readiness"].astype("Int64")
    return frame


def _chunks(plan: _Plan):
    ids = list(plan.case_rows)
    for start in range(0, len(ids), CHUNK_CASES):
        yield _chunk(plan, ids[start:start + CHUNK_CASES])


def build_export(clinic: Clinic, *, key: str = DEFAULT_KEY, selection: Selection = Selection(),
                 include_text: bool = False,
                 case_ids: Iterable[int] | None = None) -> ResearchExport:
    """The export's tables in memory (for a selection; a whole clinic is better written with
    `write_files` or `write_zip`, which hold one chunk of cases at a time).

    `case_ids` limits it to the cases a user may see.
    """
    plan = _plan(clinic, key, selection, include_text, case_ids)
    parts: dict[str, list[pd.DataFrame]] = {name: [] for name in plan.columns()}
    for frames in _chunks(plan):
        for name, frame in frames.items():
            parts[name].append(frame)
    tables = {name: (pd.concat(frames, ignore_index=True) if frames else
                     _chunk(plan, [])[name]) for name, frames in parts.items()}
    dictionary = _dictionary(plan.score_columns, plan.versions, plan.instruments, include_text,
                             plan.intake_columns)
    return ResearchExport(tables["sessions"], tables["items"], tables.get("answers"),
                          dictionary, tables["intake"])


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
    return _markdown(export.dictionary, {name: len(frame) for name, frame in
                                         export.tables().items()}, description)


def _markdown(dictionary: pd.DataFrame, counts: dict[str, int], description: str) -> str:
    lines = ["# Data dictionary", ""]
    if description:
        lines += [description, ""]
    lines += ["Missing values are empty cells (CSV) or nulls (Parquet). Identifiers are research "
              "codes, not the clinic's own codes.", ""]
    for table, rows in dictionary.groupby("table", sort=False):
        lines += [f"## {table} ({counts[table]} rows)", "",
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


@dataclass(frozen=True)
class Written:
    """What `write_files` wrote: the files in order, and the rows of each table."""

    paths: list[Path]
    rows: dict[str, int]


#: Each table's Parquet column types (the others are text), fixed before the first chunk.
_INTEGER_COLUMNS = {"session", "days_since_start", "attended", "risk_answer", "readiness"}


def _arrow_schema(columns: list[str], numbers: set[str]):
    import pyarrow as pa

    return pa.schema([(c, pa.int64() if c in _INTEGER_COLUMNS else
                       pa.float64() if c in numbers else pa.string()) for c in columns])


def write_files(directory: str | Path, clinic: Clinic, fmt: str = "csv", *,
                key: str = DEFAULT_KEY, selection: Selection = Selection(),
                include_text: bool = False, case_ids: Iterable[int] | None = None,
                description: str = "") -> Written:
    """Write the export's files into `directory` (created if needed), a chunk of
    `CHUNK_CASES` cases at a time, so that memory stays bounded however large the clinic.

    The same tables as `build_export`.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r} (use {', '.join(FORMATS)})")
    directory = Path(directory)
    plan = _plan(clinic, key, selection, include_text, case_ids)
    columns = plan.columns()
    numbers = {"value", *(_column(i.id, s) for i, s in plan.score_columns)}
    paths: list[Path] = []
    rows = dict.fromkeys(columns, 0)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with contextlib.ExitStack() as stack:
            csvs, parquets = {}, {}
            for name, names in columns.items():
                if fmt in ("csv", "both"):
                    paths.append(directory / f"{name}.csv")
                    csvs[name] = stack.enter_context(
                        paths[-1].open("w", encoding="utf-8", newline=""))
                if fmt in ("parquet", "both"):
                    import pyarrow.parquet as pq

                    paths.append(directory / f"{name}.parquet")
                    parquets[name] = stack.enter_context(pq.ParquetWriter(
                        paths[-1], _arrow_schema(names, numbers)))
            first = True
            for frames in itertools.chain(_chunks(plan), [_chunk(plan, [])]):
                for name, frame in frames.items():
                    if not first and frame.empty:
                        continue
                    rows[name] += len(frame)
                    if name in csvs:
                        _write_csv(frame, csvs[name], header=first)
                    if name in parquets:
                        _write_parquet(frame, parquets[name])
                first = False
        dictionary = _dictionary(plan.score_columns, plan.versions, plan.instruments,
                                 include_text, plan.intake_columns)
        paths.append(directory / "dictionary.csv")
        paths[-1].write_bytes(neutralise_formulas(dictionary).to_csv(index=False)
                              .encode("utf-8"))
        paths.append(directory / "dictionary.md")
        paths[-1].write_bytes(_markdown(dictionary, rows, description).encode("utf-8"))
    except OSError as exc:
        raise InputError(f"cannot write the file ({exc.strerror or exc})",
                         file=str(getattr(exc, "filename", None) or directory)) from None
    return Written(paths, rows)


def _write_csv(frame: pd.DataFrame, handle, *, header: bool) -> None:
    # Open answers are the client's own text: none may run as a spreadsheet formula.
    neutralise_formulas(frame).to_csv(handle, index=False, header=header)


def _write_parquet(frame: pd.DataFrame, writer) -> None:
    import pyarrow as pa

    frame = frame.astype({c: float for c in frame.columns
                          if writer.schema.field(c).type == pa.float64()})
    writer.write_table(pa.Table.from_pandas(frame, schema=writer.schema, preserve_index=False))


def write_zip(out: BinaryIO, clinic: Clinic, fmt: str = "csv", **options) -> Written:
    """The export as one ZIP file written to `out` (its files made one after the other in a
    temporary folder; see `write_files`)."""
    with tempfile.TemporaryDirectory(prefix="alliance-export-") as folder:
        written = write_files(folder, clinic, fmt, **options)
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in written.paths:
                archive.write(path, path.name)
    return Written([Path(p.name) for p in written.paths], written.rows)


def zip_export(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()
