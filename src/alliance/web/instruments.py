"""The web application's one door to instrument definitions and scoring in the core.

Forms are built from `alliance.core.instruments` definitions and answers are scored by
`alliance.core.scoring`; this module only turns a definition into what a template needs
(`FormSpec`) and a core score result into JSON for the database. Nothing here computes a
score.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from django.utils import translation

from alliance.core import instruments as core_instruments
from alliance.core.errors import AllianceError
from alliance.core.instruments import Instrument, LikertScale, SliderScale, text_in

#: The staff pages' language (the client pages use the client's: alliance.web.languages).
LANGUAGE = "en"


@dataclass(frozen=True)
class Anchor:
    value: float
    label: str


@dataclass(frozen=True)
class ItemSpec:
    """One scored question as a form shows it."""

    id: str
    text: str
    kind: str  # "slider" (a range input) or "likert" (a group of radio buttons)
    minimum: float
    maximum: float
    step: float
    anchors: tuple[Anchor, ...]

    @property
    def points(self) -> list[float]:
        """Every allowed value, lowest first (the tick marks of a slider)."""
        count = int(round((self.maximum - self.minimum) / self.step))
        return [_tidy(self.minimum + k * self.step) for k in range(count + 1)]

    @property
    def whole_numbers(self) -> bool:
        return all(float(p).is_integer() for p in self.points)


@dataclass(frozen=True)
class QuestionSpec:
    """An open (free-text) question."""

    id: str
    text: str
    required: bool


@dataclass(frozen=True)
class FormSpec:
    """What a template needs to show an instrument as a form."""

    id: str
    version: str
    title: str
    heading: str
    respondent: str
    description: str
    wording_notice: str
    items: tuple[ItemSpec, ...]
    questions: tuple[QuestionSpec, ...]
    #: The one language of every text above (a form never mixes languages), and the language
    #: the respondent reads: they differ when the instrument has no complete text in it.
    language: str = LANGUAGE
    wanted_language: str = LANGUAGE

    @property
    def fell_back(self) -> bool:
        """True when the form is shown in the source language because the respondent's
        language is missing (the page says so)."""
        return self.language.split("-")[0] != self.wanted_language.split("-")[0]


def _tidy(value: float) -> float | int:
    return int(value) if float(value).is_integer() else round(value, 6)


def _language(instrument: Instrument, wanted: str) -> str:
    return instrument.form_language(wanted) or LANGUAGE


def all_instruments() -> list[Instrument]:
    return core_instruments.bundled_instruments()


def get_instrument(instrument_id: str) -> Instrument:
    """A definition by id; raises `UnknownInstrumentError` (an AllianceError) if unknown."""
    return core_instruments.load_bundled(instrument_id)


#: What a new clinic uses: the short client check-in (three questions and a comment), the
#: therapist's own ratings, and the wellbeing check-in: at most eight answers a session.
DEFAULT_INSTRUMENTS = ("alliance-brief", "alliance-therapist", "wellbeing")


def default_instrument_ids() -> list[str]:
    """The instruments a new clinic uses (`DEFAULT_INSTRUMENTS`)."""
    return list(DEFAULT_INSTRUMENTS)


def instrument_choices() -> list[tuple[str, str]]:
    """(id, label) of every instrument a clinic may choose; those without item text say so."""
    choices = []
    for instrument in all_instruments():
        label = instrument.title
        if not instrument.can_administer:
            label += " — needs the clinic's licensed item text"
        elif instrument.unvalidated_languages:
            label += (" — also in " + ", ".join(instrument.unvalidated_languages) +
                      " (translations not yet validated)")
        choices.append((instrument.id, label))
    return choices


def unknown_instrument_ids(ids: list[str]) -> list[str]:
    known = set(core_instruments.bundled_ids())
    return [i for i in ids if i not in known]


def administrable(ids: list[str], respondent: str) -> list[Instrument]:
    """The instruments among `ids` that `respondent` can be given now."""
    known = set(core_instruments.bundled_ids())
    found = [get_instrument(i) for i in ids if i in known]
    return [i for i in found if i.respondent == respondent and i.can_administer]


def form_spec(instrument: Instrument, language: str | None = None) -> FormSpec:
    """Describe an instrument as a form: items with their scale, then the open questions,
    all in one language: `language` (by default the active one) when the instrument has
    every text in it, else its source language (`Instrument.form_language`)."""
    instrument.ensure_administrable()
    wanted = language or translation.get_language() or LANGUAGE
    language = _language(instrument, wanted)
    items = []
    for item in instrument.items:
        scale = instrument.scale_of(item.id)
        if isinstance(scale, SliderScale):
            anchors = [Anchor(_tidy(scale.min), text_in(scale.low_label, language)),
                       Anchor(_tidy(scale.max), text_in(scale.high_label, language))]
            kind = "slider"
        elif isinstance(scale, LikertScale):
            anchors = [Anchor(_tidy(a.value), text_in(a.label, language)) for a in scale.anchors]
            kind = "likert"
        else:  # pragma: no cover - the definition format has exactly these two kinds
            raise TypeError(f"unsupported scale {scale!r}")
        items.append(ItemSpec(id=item.id, text=text_in(item.text, language), kind=kind,
                              minimum=_tidy(scale.min), maximum=_tidy(scale.max),
                              step=_tidy(scale.step),
                              anchors=tuple(a for a in anchors if a.label)))
    questions = tuple(QuestionSpec(id=q.id, text=text_in(q.text, language), required=q.required)
                      for q in instrument.open_questions)
    return FormSpec(id=instrument.id, version=instrument.version, title=instrument.title,
                    heading=text_in(instrument.heading, language) or instrument.title,
                    respondent=instrument.respondent, description=instrument.description,
                    wording_notice=instrument.wording_notice, items=tuple(items),
                    questions=questions, language=language, wanted_language=wanted)


def accepts(instrument: Instrument, item_id: str, value: float) -> bool:
    """True when `value` is a point of the item's response scale (the core's own check)."""
    return instrument.scale_of(item_id).accepts(value)


def score(instrument: Instrument, responses: dict[str, float | None]) -> dict:
    """Score one administration with the core engine; JSON-ready (NaN becomes None)."""
    from alliance.core import scoring

    result = scoring.score_administration(instrument, responses)
    return _plain(result.to_dict())


def _plain(value):
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        return _plain(value.item())
    return value


def score_rows(instrument: Instrument, scores: dict | None) -> list[dict]:
    """Stored scores as rows for display: total first, then subscales, with titles."""
    if not scores:
        return []
    rows = []
    if instrument.total is not None:
        rows.append({"id": "total", "title": instrument.total.title or "Total",
                     "value": scores.get("total"), "pomp": (scores.get("pomp") or {}).get("total")})
    for subscale in instrument.subscales:
        rows.append({"id": subscale.id, "title": subscale.title or subscale.id.title(),
                     "value": (scores.get("subscales") or {}).get(subscale.id),
                     "pomp": (scores.get("pomp") or {}).get(subscale.id)})
    return rows


def instrument_title(instrument_id: str) -> str:
    """The instrument's title for staff pages, or its id when it is no longer available."""
    try:
        return get_instrument(instrument_id).title
    except AllianceError:
        return instrument_id


def question_text(instrument_id: str, question_id: str, default: str = "") -> str:
    """An open question's wording for staff pages (beside the client's answer): in the
    staff language, else in the instrument's first language that has it; `default` when the
    instrument or question is no longer available."""
    try:
        instrument = get_instrument(instrument_id)
    except AllianceError:
        return default
    for question in instrument.open_questions:
        if question.id == question_id:
            return text_in(question.text, LANGUAGE, *instrument.languages) or default
    return default
