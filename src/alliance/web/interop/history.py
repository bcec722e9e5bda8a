"""Importing history from another system: clients, cases, sessions and answers (long format).

One row per answer (an item response or a score) of one session; a session without answers
is one row with empty instrument, item and value. The columns are described in
docs/interop.md. The file is checked row by row first (every problem is listed with its line
and column, up to `MAX_ERRORS`); only a file without problems is written, in one
transaction, so nothing is ever half-imported. Importing the same file again finds what is
already there and adds nothing. Afterwards the clinic's signals are recomputed through the
monitoring service, as after any bulk change.
"""

from __future__ import annotations

import copy
import datetime as dt
import math
from collections import defaultdict
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from django.db import transaction

from alliance.core import instruments as core_instruments
from alliance.core.errors import InputError
from alliance.core.instruments import TOTAL, Instrument
from alliance.core.scoring import pomp
from alliance.core.tables import file_line, read_csv
from alliance.web import instruments as web_instruments
from alliance.web import localtime
from alliance.web.care.models import Case, Client, Session, client_code_problem
from alliance.web.checkins.models import Administration, language_tag_problem
from alliance.web.clinics.models import Clinic, StaffMember

REQUIRED = ("client", "therapist", "session", "date", "instrument", "item", "value")
OPTIONAL = ("case", "case_start", "case_end", "case_status", "modality", "session_status",
            "format", "respondent", "language")
#: Columns a history file may have: the format's and others an old system wrote, which are
#: left alone. A wider file is refused after its header line (one upload of a few hundred
#: kilobytes could otherwise hold 20,000 columns).
MAX_COLUMNS = 200
#: A small history file: the import page's help shows it, and docs/interop.md has the same
#: (a test keeps the two equal and imports it).
EXAMPLE = """\
client,therapist,case_status,session,date,session_status,instrument,item,value
K-104,therapist@riverside.example,closed,1,2025-02-03,attended,alliance-client,bond1,7
K-104,therapist@riverside.example,closed,1,2025-02-03,attended,alliance-client,bond2,8
K-104,therapist@riverside.example,closed,1,2025-02-03,attended,alliance-client,goals1,6
K-104,therapist@riverside.example,closed,1,2025-02-03,attended,alliance-client,goals2,6
K-104,therapist@riverside.example,closed,1,2025-02-03,attended,alliance-client,tasks1,7
K-104,therapist@riverside.example,closed,1,2025-02-03,attended,alliance-client,tasks2,5
K-104,therapist@riverside.example,closed,1,2025-02-03,attended,wellbeing,total,4.5
K-104,therapist@riverside.example,closed,2,2025-02-10,no_show,,,
K-104,therapist@riverside.example,closed,3,2025-02-17,attended,wai-sr,bond,4.25
K-104,therapist@riverside.example,closed,3,2025-02-17,attended,wai-sr,goal,3.5
K-104,therapist@riverside.example,closed,3,2025-02-17,attended,wai-sr,task,3.75
K-104,therapist@riverside.example,closed,3,2025-02-17,attended,wai-sr,total,3.83
K-212,therapist@riverside.example,,1,2025-03-05,attended,phq-9,total,14
"""

#: Problems listed before the check stops (a wrong file would otherwise list thousands).
MAX_ERRORS = 50

_SESSION_STATUS = {s.value for s in Session.Status}
_CASE_STATUS = {s.value for s in Case.Status}
_MODALITY = {m.value for m in Case.Modality}
_RESPONDENT = {r.value for r in Administration.Respondent}
_FORMAT = {f.value for f in Session.Format}


class HistoryImportError(InputError):
    """The file has problems: all of them (up to MAX_ERRORS) are in `problems`."""

    def __init__(self, problems: list[InputError], *, more: bool = False):
        self.problems = problems
        self.more = more
        count = f"{len(problems)}{'+' if more else ''}"
        super().__init__(f"{count} problem{'s' if len(problems) != 1 else ''} found; nothing "
                         f"was imported. First: {problems[0]}")


@dataclass
class ImportResult:
    """What an import created (or, in a dry run, would create)."""

    clients: int = 0
    cases: int = 0
    sessions: int = 0
    administrations: int = 0
    unchanged: int = 0
    #: Sessions already there whose format (not recorded before) the file gave.
    formats: int = 0
    rows: int = 0
    dry_run: bool = False
    recomputed: int = 0

    def summary(self) -> str:
        verb = "would add" if self.dry_run else "added"
        text = (f"{self.rows} rows read; {verb} {self.clients} clients, {self.cases} cases, "
                f"{self.sessions} sessions, {self.administrations} answered forms")
        if self.unchanged:
            text += f"; {self.unchanged} forms were already there"
        if self.formats:
            text += (f"; {'would record' if self.dry_run else 'recorded'} the format of "
                     f"{self.formats} sessions already there")
        return text + "."


# --------------------------------------------------------------------------- the plan

@dataclass
class _Form:
    instrument: Instrument
    respondent: str
    line: int
    language: str = ""
    items: dict[str, float] = field(default_factory=dict)
    scores: dict[str, float] = field(default_factory=dict)

    def stored_scores(self) -> dict:
        """Scores as the scoring engine stores them: from the items, or as given."""
        if self.items:
            return _scored(self.instrument, self.items)
        # Only scores were given: stored in the engine's shape, each with its POMP.
        subscales = {s.id: self.scores.get(s.id) for s in self.instrument.subscales}
        pomps = {score_id: float(pomp(value, *self.instrument.score_range(score_id)))
                 for score_id, value in self.scores.items()}
        return {"instrument": self.instrument.id, "version": self.instrument.version,
                "subscales": subscales, "total": self.scores.get(TOTAL), "pomp": pomps,
                "n_answered": None, "n_items": len(self.instrument.items),
                "scorable": set(self.scores) == set(self.instrument.score_ids),
                "reasons": {}, "cutoffs": [], "imported_scores": True}


def _scored(instrument: Instrument, items: dict[str, float]) -> dict:
    """The core engine's scores of these answers; the same answers recur often in a clinic's
    history (a handful of items on short scales), so each set is scored once per import."""
    key = (instrument.id, instrument.version, tuple(sorted(items.items())))
    cache = _SCORE_CACHE.get()
    if key not in cache:
        cache[key] = web_instruments.score(instrument, items)
    return copy.deepcopy(cache[key])


_SCORE_CACHE: ContextVar[dict] = ContextVar("alliance_history_scores")


@dataclass
class _Session:
    number: int
    date: dt.date
    status: str
    line: int
    format: str = ""
    forms: dict[tuple[str, str], _Form] = field(default_factory=dict)


@dataclass
class _Case:
    client: str
    therapist: StaffMember
    key: str
    line: int
    start: dt.date | None = None
    end: dt.date | None = None
    status: str | None = None
    modality: str | None = None
    sessions: dict[int, _Session] = field(default_factory=dict)

    @property
    def start_date(self) -> dt.date:
        return self.start or min(s.date for s in self.sessions.values())


class _Problems:
    def __init__(self, file: str):
        self.file = file
        self.found: list[InputError] = []
        self.more = False

    def add(self, problem: str, line: int, column: str | None) -> None:
        if len(self.found) >= MAX_ERRORS:
            self.more = True
            return
        self.found.append(InputError(problem, file=self.file, line=line, column=column))

    def raise_if_any(self) -> None:
        if self.found:
            raise HistoryImportError(self.found, more=self.more)


def _text(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value).strip()


def _date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def read_history(path: str | Path, clinic: Clinic, *,
                 name: str | None = None) -> tuple[list[_Case], int]:
    """Read and check a history file: its cases and its number of rows.

    Raises `HistoryImportError` listing every problem.
    """
    path = Path(path)
    file = name or path.name
    try:
        frame = read_csv(path, required=REQUIRED, max_columns=MAX_COLUMNS)
    except InputError as exc:
        raise InputError(exc.problem, file=file, line=exc.line, column=exc.column) from None
    problems = _Problems(file)
    therapists = {m.user.email.lower(): m for m in
                  StaffMember.objects.filter(clinic=clinic, is_active=True)
                  .select_related("user")}
    bundled = set(core_instruments.bundled_ids())
    cases: dict[tuple, _Case] = {}
    columns = [c for c in (*REQUIRED, *OPTIONAL) if c in frame.columns]
    for row, values in enumerate(frame[columns].itertuples(index=False, name=None)):
        line = file_line(frame, row)
        cell = {c: _text(v) for c, v in zip(columns, values)}
        case = _row_case(cell, line, therapists, cases, problems)
        session = _row_session(cell, line, case, problems) if case else None
        if session is not None and cell["instrument"]:
            _row_answer(cell, line, session, bundled, problems)
        elif session is not None and (cell["item"] or cell["value"]):
            problems.add("an answer without an instrument", line, "instrument")
        if problems.more:
            break
    problems.raise_if_any()
    return list(cases.values()), len(frame)


def _row_case(cell, line, therapists, cases, problems) -> _Case | None:
    ok = True
    client = cell["client"]
    problem = client_code_problem(client)
    if problem:
        problems.add(problem, line, "client")
        ok = False
    therapist = therapists.get(cell["therapist"].lower())
    if therapist is None:
        problems.add(f"no active staff member with the e-mail address {cell['therapist']!r} "
                     "in this clinic", line, "therapist")
        ok = False
    elif not therapist.can_treat:
        problems.add(f"{cell['therapist']} is an administrator, who carries no cases", line,
                     "therapist")
        ok = False
    if not ok:
        return None
    key = (client, therapist.pk, cell.get("case", ""))
    case = cases.get(key)
    if case is None:
        case = cases[key] = _Case(client, therapist, cell.get("case", ""), line)
    for column, allowed in (("case_status", _CASE_STATUS), ("modality", _MODALITY)):
        value = cell.get(column, "")
        if value and value not in allowed:
            problems.add(f"{value!r} is not one of {', '.join(sorted(allowed))}", line, column)
        elif value:
            attribute = "status" if column == "case_status" else column
            if getattr(case, attribute) not in (None, value):
                problems.add(f"the case of line {case.line} says {getattr(case, attribute)!r}",
                             line, column)
            setattr(case, attribute, value)
    for column in ("case_start", "case_end"):
        value = cell.get(column, "")
        if value:
            parsed = _date(value)
            attribute = "start" if column == "case_start" else "end"
            if parsed is None:
                problems.add(f"{value!r} is not a date (YYYY-MM-DD)", line, column)
            elif getattr(case, attribute) not in (None, parsed):
                problems.add(f"the case of line {case.line} says {getattr(case, attribute)}",
                             line, column)
            else:
                setattr(case, attribute, parsed)
    return case


def _row_session(cell, line, case: _Case, problems) -> _Session | None:
    try:
        number = int(cell["session"])
    except ValueError:
        number = None
    if number is None or number < 1:
        problems.add(f"{cell['session']!r} is not a session number (1, 2, …)", line, "session")
        return None
    date = _date(cell["date"])
    if date is None:
        problems.add(f"{cell['date']!r} is not a date (YYYY-MM-DD)", line, "date")
        return None
    status = cell.get("session_status", "") or Session.Status.ATTENDED
    if status not in _SESSION_STATUS:
        problems.add(f"{status!r} is not one of {', '.join(sorted(_SESSION_STATUS))}", line,
                     "session_status")
        return None
    session_format = cell.get("format", "")
    if session_format and session_format not in _FORMAT:
        problems.add(f"{session_format!r} is not one of {', '.join(sorted(_FORMAT))} (or blank: "
                     "not recorded)", line, "format")
        return None
    session = case.sessions.get(number)
    if session is None:
        session = case.sessions[number] = _Session(number, date, status, line, session_format)
    elif session.date != date:
        problems.add(f"session {number} of this case is dated {session.date} on line "
                     f"{session.line}", line, "date")
    elif session.status != status:
        problems.add(f"session {number} of this case is {session.status!r} on line "
                     f"{session.line}", line, "session_status")
    elif session_format and session.format and session.format != session_format:
        problems.add(f"session {number} of this case is {session.format!r} on line "
                     f"{session.line}", line, "format")
    elif session_format:
        session.format = session_format
    return session


def _row_answer(cell, line, session: _Session, bundled, problems) -> None:
    instrument_id = cell["instrument"]
    if instrument_id not in bundled:
        problems.add(f"unknown instrument {instrument_id!r} (known: {', '.join(sorted(bundled))})",
                     line, "instrument")
        return
    instrument = web_instruments.get_instrument(instrument_id)
    respondent = cell.get("respondent", "") or instrument.respondent
    if respondent not in _RESPONDENT:
        problems.add(f"{respondent!r} is not one of {', '.join(sorted(_RESPONDENT))}", line,
                     "respondent")
        return
    if session.status != Session.Status.ATTENDED:
        problems.add(f"answers for a session that is {session.status!r}", line, "session_status")
        return
    language = cell.get("language", "")
    if language and (problem := language_tag_problem(language)):
        problems.add(problem, line, "language")
        return
    item = cell["item"]
    try:
        value = float(cell["value"])
    except ValueError:
        hint = " (a decimal comma?)" if "," in cell["value"] else ""
        problems.add(f"{cell['value']!r} is not a number{hint}", line, "value")
        return
    if not math.isfinite(value):
        problems.add(f"{cell['value']!r} is not a finite number", line, "value")
        return
    form = session.forms.get((instrument_id, respondent))
    if form is None:
        form = session.forms[(instrument_id, respondent)] = _Form(instrument, respondent, line,
                                                                  language)
    elif language and form.language and form.language != language:
        problems.add(f"this form is in {form.language!r} on line {form.line}", line, "language")
        return
    elif language:
        form.language = language
    if item in instrument.item_ids:
        scale = instrument.scale_of(item)
        if not scale.accepts(value):
            problems.add(f"{value:g} is not a point of item {item}'s scale "
                         f"({scale.describe_range()})", line, "value")
            return
        target, other = form.items, form.scores
    elif item in instrument.score_ids:
        low, high = instrument.score_range(item)
        if not low <= value <= high:
            problems.add(f"{value:g} is outside the range of score {item} ({low:g}–{high:g})",
                         line, "value")
            return
        target, other = form.scores, form.items
    else:
        problems.add(f"{instrument.name} has no item or score {item!r} (items: "
                     f"{', '.join(instrument.item_ids)}; scores: "
                     f"{', '.join(instrument.score_ids)})", line, "item")
        return
    if other:
        problems.add(f"give either item answers or scores for one form, not both (see line "
                     f"{form.line})", line, "item")
        return
    if item in target:
        problems.add(f"a second answer to {item} for this form", line, "item")
        return
    target[item] = value


# --------------------------------------------------------------------------- writing

def import_history(path: str | Path, clinic: Clinic, *, dry_run: bool = False,
                   name: str | None = None, recompute: bool = True) -> ImportResult:
    """Check and import a history file into `clinic`; nothing is written if any row is bad.

    Raises
    ------
    HistoryImportError
        Listing every problem (line and column), up to MAX_ERRORS; nothing is written.
    InputError
        When the file cannot be read as CSV at all.
    """
    token = _SCORE_CACHE.set({})
    try:
        return _import(path, clinic, dry_run=dry_run, name=name, recompute=recompute)
    finally:
        _SCORE_CACHE.reset(token)


def _import(path, clinic, *, dry_run, name, recompute) -> ImportResult:
    plan, rows = read_history(path, clinic, name=name)
    file = name or Path(path).name
    result = ImportResult(dry_run=dry_run, rows=rows)
    with transaction.atomic():
        touched = _write(plan, clinic, file, result)
        if dry_run:
            transaction.set_rollback(True)
    if recompute and not dry_run and touched:
        from alliance.web.monitoring import recompute
        recompute.refresh_clinic(clinic)
        result.recomputed = len(touched)
    return result


def _write(plan: list[_Case], clinic: Clinic, file: str, result: ImportResult) -> set[int]:
    problems = _Problems(file)
    codes = {c.client for c in plan}
    clients = {c.code: c for c in Client.objects.filter(clinic=clinic, code__in=codes)}
    new_clients = [Client(clinic=clinic, code=code) for code in sorted(codes - set(clients))]
    Client.objects.bulk_create(new_clients)
    result.clients = len(new_clients)
    clients.update({c.code: c for c in Client.objects.filter(clinic=clinic, code__in=codes)})

    existing: dict[tuple[int, int], list[Case]] = defaultdict(list)
    for case in (Case.objects.filter(client__clinic=clinic, client__code__in=codes)
                 .order_by("start_date")):
        existing[(case.client_id, case.therapist_id)].append(case)
    new_cases, cases = [], []
    for planned in plan:
        client = clients[planned.client]
        case = _existing_case(existing[(client.pk, planned.therapist.pk)], planned)
        if case is None:
            status = planned.status or (Case.Status.CLOSED if planned.end else
                                        Case.Status.ACTIVE)
            last = max(s.date for s in planned.sessions.values())
            end = planned.end or (None if status == Case.Status.ACTIVE else last)
            if end is not None and end < planned.start_date:
                problems.add(f"the case ends ({end}) before it starts ({planned.start_date})",
                             planned.line, "case_end")
                continue
            case = Case(client=client, therapist=planned.therapist, start_date=planned.start_date,
                        end_date=end, status=status,
                        modality=planned.modality or Case.Modality.OTHER)
            # Not a candidate for the file's other cases: two cases of one client and
            # therapist in the file (told apart by `case`) stay two cases.
            new_cases.append(case)
        cases.append((planned, case))
    problems.raise_if_any()
    Case.objects.bulk_create(new_cases)
    result.cases = len(new_cases)

    case_ids = [case.pk for _, case in cases]
    sessions = {(s.case_id, s.number): s for s in Session.objects.filter(case_id__in=case_ids)}
    new_sessions, formats_added = [], []
    for planned, case in cases:
        for number, planned_session in planned.sessions.items():
            found = sessions.get((case.pk, number))
            if found is None:
                found = Session(case=case, number=number, date=planned_session.date,
                                status=planned_session.status, format=planned_session.format)
                new_sessions.append(found)
                sessions[(case.pk, number)] = found
            elif found.date != planned_session.date:
                problems.add(f"session {number} of {planned.client}'s case is already recorded "
                             f"on {found.date}", planned_session.line, "date")
            elif planned_session.format and found.format != planned_session.format:
                if found.format:
                    problems.add(f"session {number} of {planned.client}'s case is already "
                                 f"recorded as {found.format!r}", planned_session.line, "format")
                else:  # not recorded until now: the file says how it took place
                    found.format = planned_session.format
                    formats_added.append(found)
    problems.raise_if_any()
    Session.objects.bulk_update(formats_added, ["format"], batch_size=1000)
    result.formats = len(formats_added)
    Session.objects.bulk_create(new_sessions, batch_size=1000)
    result.sessions = len(new_sessions)

    forms = {(a.session_id, a.instrument_id, a.respondent): a for a in
             Administration.objects.filter(session__case_id__in=case_ids)}
    new_forms, filled = [], []
    for planned, case in cases:
        for number, planned_session in planned.sessions.items():
            session = sessions[(case.pk, number)]
            for (instrument_id, respondent), form in planned_session.forms.items():
                found = forms.get((session.pk, instrument_id, respondent))
                answers = dict(form.items) or None
                if found is not None and found.submitted_at is not None:
                    same = (found.responses == answers if answers else
                            _same_scores(found.scores, form.scores))
                    if same:
                        result.unchanged += 1
                    else:
                        problems.add(f"{planned.client}'s session {number} already has "
                                     f"different answers to {instrument_id}", form.line,
                                     "value")
                    continue
                # Answered on the session's day: noon where the clinic is.
                when = dt.datetime.combine(session.date, dt.time(12, 0),
                                           tzinfo=localtime.zone(clinic))
                fields = dict(instrument_version=form.instrument.version, responses=answers,
                              scores=form.stored_scores(), answers={}, submitted_at=when,
                              via=Administration.Via.STAFF, language=form.language)
                if found is not None:  # a check-in sent and never answered: fill it in
                    for name, value in fields.items():
                        setattr(found, name, value)
                    filled.append(found)
                else:
                    new_forms.append(Administration(session=session, instrument_id=instrument_id,
                                                    respondent=respondent, **fields))
    problems.raise_if_any()
    Administration.objects.bulk_create(new_forms, batch_size=1000)
    Administration.objects.bulk_update(filled, ["instrument_version", "responses", "scores",
                                                "answers", "submitted_at", "via", "language"])
    result.administrations = len(new_forms) + len(filled)
    # Old answers at a risk threshold are marked as risk signals, and nobody is told: the
    # moment to act on them has passed (docs/safety.md).
    risky = [a for a in [*new_forms, *filled]
             if web_instruments.get_instrument(a.instrument_id).risk_answers(a.responses or {})]
    if risky:
        from alliance.web.safety import services as safety

        safety.check_submission(risky, notify=False)
    if not (result.cases or result.sessions or result.administrations):
        return set()
    return {case.pk for _, case in cases}


def _existing_case(candidates: list[Case], planned: _Case) -> Case | None:
    """The case a planned one is already recorded as: the same start date when the file
    gives one, else the latest case of this client and therapist started by its first
    session (so that a later file with only new sessions adds them to the same case)."""
    if planned.start is not None:
        return next((c for c in candidates if c.start_date == planned.start), None)
    first = min(s.date for s in planned.sessions.values())
    started = [c for c in candidates if c.start_date <= first]
    return started[-1] if started else None


def _same_scores(stored: dict | None, given: dict[str, float]) -> bool:
    stored = stored or {}
    values = {**(stored.get("subscales") or {}), TOTAL: stored.get("total")}
    return all(values.get(k) is not None and math.isclose(values[k], v)
               for k, v in given.items())


def find_clinic(reference: str) -> Clinic:
    """A clinic by id, or by its name as a slug ("riverside-counselling")."""
    from django.utils.text import slugify

    reference = reference.strip()
    if reference.isdigit():
        found = list(Clinic.objects.filter(pk=int(reference)))
    else:
        found = [c for c in Clinic.objects.all() if slugify(c.name) == slugify(reference)]
    if len(found) != 1:
        known = ", ".join(f"{slugify(c.name)} ({c.pk})" for c in Clinic.objects.all()) or "none"
        problem = "several clinics" if found else "no clinic"
        raise InputError(f"{problem} called {reference!r} (clinics: {known}); use the id when "
                         "two names are alike")
    return found[0]


def history_frame(sessions: pd.DataFrame, therapist_emails: dict[str, str], *,
                  client_form: Instrument, outcome_form: Instrument,
                  therapist_form: Instrument | None = None) -> pd.DataFrame:
    """A history file in the import format from the simulator's long format.

    Each client-rated alliance subscale score becomes whole-number answers to that
    subscale's items whose mean is the score (on the simulator's half-point grid, exactly);
    wellbeing becomes the outcome form's total and the therapist's rating the therapist
    form's total, given as scores. For tests and benchmarks.
    """
    rows = []
    for record in sessions.itertuples(index=False):
        base = {"client": record.client_id, "therapist": therapist_emails[record.therapist_id],
                "session": int(record.session),
                "date": pd.Timestamp(record.date).date().isoformat(),
                "session_status": "attended" if record.attended else "no_show"}
        answered = record.attended and not math.isnan(record.alliance)
        if not answered:
            rows.append({**base, "instrument": "", "item": "", "value": ""})
            continue
        for subscale in client_form.subscales:
            items = client_form.score_items(subscale.id)
            total = round(getattr(record, subscale.id) * len(items))
            base_value, extra = divmod(total, len(items))
            for k, item in enumerate(items):
                rows.append({**base, "instrument": client_form.id, "item": item,
                             "value": str(base_value + (1 if k < extra else 0))})
        if not math.isnan(record.wellbeing):
            rows.append({**base, "instrument": outcome_form.id, "item": TOTAL,
                         "value": f"{record.wellbeing:g}"})
        if therapist_form is not None and not math.isnan(record.therapist_alliance):
            rows.append({**base, "instrument": therapist_form.id, "respondent": "therapist",
                         "item": TOTAL, "value": f"{record.therapist_alliance:g}"})
    return pd.DataFrame(rows, columns=["client", "therapist", "session", "date",
                                       "session_status", "instrument", "respondent", "item",
                                       "value"])


def write_simulated_year(path: str | Path, therapist_emails: list[str], *, clients: int,
                         seed: int = 3, start: dt.date = dt.date(2025, 1, 6)) -> pd.DataFrame:
    """Write a year of a simulated clinic's history in the import format; return its sessions.

    The simulator's clients start over its first months and are seen for up to 20 sessions;
    sessions later than a year after `start` are left out. For tests and benchmarks.
    """
    from alliance.core.simulator import simulate_clinic

    simulated = simulate_clinic(clients, 20, seed, n_therapists=len(therapist_emails),
                                start_date=start)
    sessions = simulated.sessions
    sessions = sessions[pd.to_datetime(sessions["date"]) <
                        pd.Timestamp(start + dt.timedelta(days=364))]
    emails = {f"T{k + 1:03d}": email for k, email in enumerate(therapist_emails)}
    frame = history_frame(sessions, emails,
                          client_form=core_instruments.load_bundled("alliance-client"),
                          outcome_form=core_instruments.load_bundled("wellbeing"),
                          therapist_form=core_instruments.load_bundled("alliance-therapist"))
    frame.to_csv(path, index=False)
    return sessions
