"""The instrument definition format: pydantic models with cross-field checks.

A definition is data (a TOML file, see ``docs/instruments.md``); these models
say what a valid one looks like. Structural problems (a missing field, a wrong
type) are found by pydantic; the checks that relate one field to another
(a subscale naming an item that does not exist, two items with one id) are
model validators that raise :class:`FieldProblem`, so that the loader can
report the exact field path, e.g. ``items[3].subscale``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Annotated, Literal

import numpy as np
from pydantic import (BaseModel, ConfigDict, Field, StrictBool, field_validator,
                      model_validator)

from ..errors import AllianceError

#: Identifiers: lower-case letters, digits, '-' and '_', starting with a letter or digit.
ID_PATTERN = r"^[a-z0-9][a-z0-9_-]*$"
#: Language tags such as "en", "de", "pt-BR".
LANGUAGE_PATTERN = r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$"
#: The id under which the total appears among an instrument's scores.
TOTAL = "total"

Identifier = Annotated[str, Field(pattern=ID_PATTERN, max_length=64)]
#: Text per language, e.g. ``{"en": "...", "de": "..."}``; empty for licensed wording.
Text = dict[Annotated[str, Field(pattern=LANGUAGE_PATTERN)], str]
Respondent = Literal["client", "therapist", "observer"]


def text_in(texts: Mapping[str, str], *languages: str) -> str:
    """The text in the first of `languages` that has one, else "".

    The one rule for choosing wording: callers pass the language of the form (one language
    for a whole form, so that a form never mixes languages) and, where showing something is
    better than nothing (a staff page naming a question), fallbacks after it.

    Examples
    --------
    >>> text_in({"en": "How was it?", "de": "Wie war es?"}, "de")
    'Wie war es?'
    >>> text_in({"en": "How was it?"}, "fr", "en")
    'How was it?'
    >>> text_in({"en": "How was it?"}, "fr")
    ''
    """
    for language in languages:
        if texts.get(language):
            return texts[language]
    return ""
Method = Literal["mean", "sum"]


class NotAdministrableError(AllianceError):
    """An instrument cannot be sent to a respondent (usually: it has no item text)."""


class FieldProblem(ValueError):
    """A cross-field problem, with the path of the offending field relative to the model."""

    def __init__(self, field: str, problem: str):
        self.field = field
        self.problem = problem
        super().__init__(problem)


class _Model(BaseModel):
    # Frozen: an instrument is a value; attaching text returns a new one.
    # extra="forbid": a misspelt field name is an error, not silently ignored.
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


def _on_step(value: float, minimum: float, step: float) -> bool:
    steps = (value - minimum) / step
    return math.isclose(steps, round(steps), abs_tol=1e-6)


class Anchor(_Model):
    """A labelled point of a Likert scale."""

    value: float
    label: Text = Field(default_factory=dict)


class _ScaleBase(_Model):
    min: float
    max: float
    step: float = Field(default=1.0, gt=0)

    @model_validator(mode="after")
    def _check_range(self):
        if not self.max > self.min:
            raise FieldProblem("max", f"must be greater than min ({self.min:g})")
        if not _on_step(self.max, self.min, self.step):
            raise FieldProblem("step", f"{self.step:g} does not divide the range "
                                       f"{self.min:g}–{self.max:g} into whole steps")
        return self

    def accepts(self, value: float) -> bool:
        """True when ``value`` is on the scale: within min–max and on a step."""
        return self.min <= value <= self.max and _on_step(value, self.min, self.step)

    def describe_range(self) -> str:
        text = f"{self.min:g}–{self.max:g}"
        return text if self.step == 1 else f"{text} in steps of {self.step:g}"

    def reverse(self, value):
        """Reverse-key a value: min + max − x."""
        return self.min + self.max - value


class LikertScale(_ScaleBase):
    """Ordered response options, usually whole numbers, some or all with labels."""

    kind: Literal["likert"]
    anchors: tuple[Anchor, ...] = ()

    @model_validator(mode="after")
    def _check_anchors(self):
        seen: set[float] = set()
        for i, anchor in enumerate(self.anchors):
            if not self.accepts(anchor.value):
                raise FieldProblem(f"anchors[{i}].value", f"{anchor.value:g} is not a point of "
                                                          f"the scale {self.describe_range()}")
            if anchor.value in seen:
                raise FieldProblem(f"anchors[{i}].value", f"{anchor.value:g} is labelled twice")
            seen.add(anchor.value)
        return self


class SliderScale(_ScaleBase):
    """A visual-analogue slider (by default 0–10) with labels at its two ends."""

    kind: Literal["slider"]
    min: float = 0.0
    max: float = 10.0
    low_label: Text = Field(default_factory=dict)
    high_label: Text = Field(default_factory=dict)


Scale = Annotated[LikertScale | SliderScale, Field(discriminator="kind")]


class Item(_Model):
    """One scored question."""

    id: Identifier
    text: Text = Field(default_factory=dict)
    scale: Identifier
    reverse: StrictBool = False
    subscale: Identifier | None = None
    #: A risk item: an answer at or above this value (e.g. any thought of self-harm) must
    #: reach a person at once (docs/safety.md). A fact of the instrument, not a setting.
    risk_at: float | None = None


class OpenQuestion(_Model):
    """A free-text question: shown, stored and passed on, never scored."""

    id: Identifier
    text: Text = Field(default_factory=dict)
    required: StrictBool = False


class Score(_Model):
    """How a subscale or the total is computed from items."""

    title: str = ""
    method: Method
    items: tuple[Identifier, ...] | None = None
    max_missing: int | None = Field(default=None, ge=0)


class Subscale(Score):
    id: Identifier

    @field_validator("id")
    @classmethod
    def _not_total(cls, value: str) -> str:
        if value == TOTAL:
            raise ValueError(f"'{TOTAL}' is reserved for the total score")
        return value


class MissingDataRule(_Model):
    """Prorate when at most ``max_missing`` items of a score are unanswered, else not scorable."""

    rule: Literal["prorate"] = "prorate"
    max_missing: int = Field(ge=0)
    note: str = ""


class Norm(_Model):
    """Reference values of a score in a named population."""

    score: Identifier = TOTAL
    population: str
    n: int | None = Field(default=None, gt=0)
    mean: float | None = None
    sd: float | None = Field(default=None, gt=0)
    reliability: float | None = Field(default=None, gt=0, le=1)
    source: str = Field(min_length=1)

    @model_validator(mode="after")
    def _has_a_value(self):
        if self.mean is None and self.sd is None and self.reliability is None:
            raise FieldProblem("mean", "a norm needs at least one of mean, sd or reliability")
        return self


class Cutoff(_Model):
    """A threshold on a score and what reaching it means."""

    score: Identifier = TOTAL
    value: float
    when: Literal["at_or_below", "below", "at_or_above", "above"]
    meaning: str = Field(min_length=1)
    source: str = Field(min_length=1)

    def reached(self, score):
        """True where ``score`` is on the flagged side of the cutoff (False for NaN)."""
        score = np.asarray(score, dtype=float)
        with np.errstate(invalid="ignore"):
            result = {"at_or_below": score <= self.value, "below": score < self.value,
                      "at_or_above": score >= self.value, "above": score > self.value}[self.when]
        return bool(result) if result.ndim == 0 else result

    def describe(self) -> str:
        words = {"at_or_below": "at or below", "below": "below",
                 "at_or_above": "at or above", "above": "above"}[self.when]
        return f"{words} {self.value:g}: {self.meaning}"


class Instrument(_Model):
    """A validated instrument definition.

    Build one with :func:`alliance.core.instruments.load_definition` (from a
    TOML file) or :func:`alliance.core.instruments.parse_definition` (from a
    dict); both turn every problem into a :class:`~alliance.core.errors.DefinitionError`.
    """

    format: Literal[1] = 1
    id: Identifier
    version: str = Field(min_length=1)
    title: str = Field(min_length=1)
    abbreviation: str = ""
    description: str = ""
    #: What the respondent sees above this form's questions when it is one part of a
    #: check-in (e.g. "About today's session"); the title when empty.
    heading: Text = Field(default_factory=dict)
    languages: tuple[Annotated[str, Field(pattern=LANGUAGE_PATTERN)], ...] = Field(min_length=1)
    respondent: Respondent
    #: False (the default) until the translations (every language after the first) are
    #: shown to measure what the source wording measures; staff pages say so.
    translations_validated: StrictBool = False
    higher_is_better: StrictBool
    own_wording: StrictBool
    wording_notice: str = Field(min_length=1)
    citation: str = ""
    licence: str = Field(min_length=1)
    scoring_source: str = ""
    text_source: str = ""
    scales: dict[Identifier, Scale] = Field(min_length=1)
    items: tuple[Item, ...] = Field(min_length=1)
    open_questions: tuple[OpenQuestion, ...] = ()
    subscales: tuple[Subscale, ...] = ()
    total: Score | None = None
    missing_data: MissingDataRule
    norms: tuple[Norm, ...] = ()
    cutoffs: tuple[Cutoff, ...] = ()

    # ------------------------------------------------------------------ checks

    @model_validator(mode="after")
    def _check_references(self):
        self._check_languages()
        self._check_items()
        self._check_subscales()
        if self.total is not None:
            self._check_score_items("total", self.total.items, self.total.max_missing,
                                    len(self.total.items or self.items))
        if not self.subscales and self.total is None:
            raise FieldProblem("total", "define a total or at least one subscale")
        self._check_wording()
        ids = self.score_ids
        for kind, entries in (("norms", self.norms), ("cutoffs", self.cutoffs)):
            for i, entry in enumerate(entries):
                if entry.score not in ids:
                    raise FieldProblem(f"{kind}[{i}].score",
                                       f"no score '{entry.score}' (scores: {', '.join(ids)})")
        for i, cutoff in enumerate(self.cutoffs):
            low, high = self.score_range(cutoff.score)
            if not low <= cutoff.value <= high:
                raise FieldProblem(f"cutoffs[{i}].value", f"{cutoff.value:g} is outside the "
                                   f"range {low:g}–{high:g} of '{cutoff.score}'")
        return self

    def _check_languages(self):
        if len(set(self.languages)) != len(self.languages):
            raise FieldProblem("languages", "a language is listed twice")
        known = set(self.languages)

        def check(text: Mapping[str, str], field: str):
            for language in text:
                if language not in known:
                    raise FieldProblem(f"{field}.{language}", f"language '{language}' is not in "
                                       f"languages ({', '.join(self.languages)})")

        for name, scale in self.scales.items():
            if isinstance(scale, LikertScale):
                for i, anchor in enumerate(scale.anchors):
                    check(anchor.label, f"scales.{name}.anchors[{i}].label")
            else:
                check(scale.low_label, f"scales.{name}.low_label")
                check(scale.high_label, f"scales.{name}.high_label")
        for i, item in enumerate(self.items):
            check(item.text, f"items[{i}].text")
        for i, question in enumerate(self.open_questions):
            check(question.text, f"open_questions[{i}].text")

    def _check_items(self):
        seen: dict[str, str] = {}
        subscale_ids = [s.id for s in self.subscales]
        for i, item in enumerate(self.items):
            if item.id in seen:
                raise FieldProblem(f"items[{i}].id", f"duplicate item id '{item.id}' "
                                                     f"(also {seen[item.id]})")
            seen[item.id] = f"items[{i}]"
            if item.scale not in self.scales:
                problem = (f"no response scale '{item.scale}' "
                           f"(scales: {', '.join(self.scales)})")
                if item.reverse:
                    problem += "; a reverse-keyed item needs a scale to reverse on"
                raise FieldProblem(f"items[{i}].scale", problem)
            if item.risk_at is not None and not self.scales[item.scale].accepts(item.risk_at):
                raise FieldProblem(f"items[{i}].risk_at", f"{item.risk_at:g} is not a point of "
                                   f"the scale {self.scales[item.scale].describe_range()}")
            if item.subscale is not None and item.subscale not in subscale_ids:
                raise FieldProblem(f"items[{i}].subscale", f"no subscale '{item.subscale}' "
                                   f"(subscales: {', '.join(subscale_ids) or 'none'})")
        for i, question in enumerate(self.open_questions):
            if question.id in seen:
                raise FieldProblem(f"open_questions[{i}].id",
                                   f"duplicate id '{question.id}' (also {seen[question.id]})")
            seen[question.id] = f"open_questions[{i}]"

    def _check_subscales(self):
        seen: set[str] = set()
        for j, subscale in enumerate(self.subscales):
            if subscale.id in seen:
                raise FieldProblem(f"subscales[{j}].id", f"duplicate subscale id '{subscale.id}'")
            seen.add(subscale.id)
            tagged = [item.id for item in self.items if item.subscale == subscale.id]
            if subscale.items is None:
                if not tagged:
                    raise FieldProblem(f"subscales[{j}].items",
                                       f"subscale '{subscale.id}' has no items: list them here "
                                       "or set subscale on the items")
                count = len(tagged)
            else:
                self._check_score_items(f"subscales[{j}]", subscale.items, None, 0)
                for k, item_id in enumerate(subscale.items):
                    item = self.item(item_id)
                    if item.subscale not in (None, subscale.id):
                        raise FieldProblem(f"subscales[{j}].items[{k}]",
                                           f"item '{item_id}' says it belongs to subscale "
                                           f"'{item.subscale}'")
                for item_id in tagged:
                    if item_id not in subscale.items:
                        i = self._item_index(item_id)
                        raise FieldProblem(f"items[{i}].subscale",
                                           f"item '{item_id}' names subscale '{subscale.id}' "
                                           f"but is not among its items")
                count = len(subscale.items)
            if subscale.max_missing is not None and subscale.max_missing >= count:
                raise FieldProblem(f"subscales[{j}].max_missing",
                                   f"{subscale.max_missing} must be smaller than the number "
                                   f"of items ({count})")

    def _check_score_items(self, field: str, items: Iterable[str] | None,
                           max_missing: int | None, count: int):
        if items is not None:
            items = list(items)
            if not items:
                raise FieldProblem(f"{field}.items", "lists no items")
            seen: set[str] = set()
            for k, item_id in enumerate(items):
                if self._item_index(item_id) is None:
                    raise FieldProblem(f"{field}.items[{k}]", f"no item '{item_id}'")
                if item_id in seen:
                    raise FieldProblem(f"{field}.items[{k}]", f"item '{item_id}' is listed twice")
                seen.add(item_id)
        if max_missing is not None and max_missing >= count:
            raise FieldProblem(f"{field}.max_missing", f"{max_missing} must be smaller than the "
                                                       f"number of items ({count})")

    def _check_wording(self):
        if not self.own_wording:
            return
        # The project's own instruments must be complete: every item in every language.
        for i, item in enumerate(self.items):
            for language in self.languages:
                if not item.text.get(language):
                    raise FieldProblem(f"items[{i}].text.{language}",
                                       "an instrument in the project's own wording needs the "
                                       "text of every item in every language")
        for i, question in enumerate(self.open_questions):
            for language in self.languages:
                if not question.text.get(language):
                    raise FieldProblem(f"open_questions[{i}].text.{language}",
                                       "an instrument in the project's own wording needs the "
                                       "text of every question in every language")
        for language in self.languages:
            if any(text.get(language) for text in self._wording()) and any(
                    any(text.values()) and not text.get(language) for text in self._wording()):
                raise FieldProblem("languages", f"the '{language}' wording is incomplete (a "
                                   "heading or scale label is missing): an instrument in the "
                                   "project's own wording gives every text in every language")

    # ------------------------------------------------------------- structure

    @property
    def name(self) -> str:
        """The short name (abbreviation) when there is one, else the title."""
        return self.abbreviation or self.title

    def _item_index(self, item_id: str) -> int | None:
        for i, item in enumerate(self.items):
            if item.id == item_id:
                return i
        return None

    def item(self, item_id: str) -> Item:
        """The item with this id (KeyError when there is none)."""
        index = self._item_index(item_id)
        if index is None:
            raise KeyError(item_id)
        return self.items[index]

    @property
    def item_ids(self) -> list[str]:
        return [item.id for item in self.items]

    @property
    def risk_items(self) -> dict[str, float]:
        """Item id → the answer from which it is a risk answer (`Item.risk_at`)."""
        return {item.id: item.risk_at for item in self.items if item.risk_at is not None}

    def risk_answers(self, responses: Mapping[str, float | None]) -> list[str]:
        """The risk items whose answer reached their threshold, in item order.

        Examples
        --------
        >>> from alliance.core.instruments import load_bundled
        >>> load_bundled("phq-9").risk_answers({"phq9": 1, "phq1": 3})
        ['phq9']
        >>> load_bundled("phq-9").risk_answers({"phq9": 0, "phq1": 3})
        []
        """
        found = []
        for item_id, threshold in self.risk_items.items():
            value = responses.get(item_id)
            if value is None:
                continue
            try:
                value = float(value)
            except (TypeError, ValueError):
                continue
            if math.isfinite(value) and value >= threshold:
                found.append(item_id)
        return found

    def scale_of(self, item_id: str) -> LikertScale | SliderScale:
        return self.scales[self.item(item_id).scale]

    @property
    def score_ids(self) -> list[str]:
        """Subscale ids in order, then ``"total"`` when the instrument has a total."""
        return [s.id for s in self.subscales] + ([TOTAL] if self.total is not None else [])

    def score_definition(self, score_id: str) -> Score:
        if score_id == TOTAL and self.total is not None:
            return self.total
        for subscale in self.subscales:
            if subscale.id == score_id:
                return subscale
        raise KeyError(score_id)

    def score_items(self, score_id: str) -> list[str]:
        """The items a score is computed from."""
        definition = self.score_definition(score_id)
        if definition.items is not None:
            return list(definition.items)
        if score_id == TOTAL:
            return self.item_ids
        return [item.id for item in self.items if item.subscale == score_id]

    def max_missing(self, score_id: str) -> int:
        """How many items of a score may be unanswered for it still to be scored."""
        own = self.score_definition(score_id).max_missing
        limit = self.missing_data.max_missing if own is None else own
        # Never score from no answers at all.
        return min(limit, len(self.score_items(score_id)) - 1)

    def score_range(self, score_id: str) -> tuple[float, float]:
        """Lowest and highest possible value of a score (for POMP and range checks)."""
        items = self.score_items(score_id)
        lows = [self.scale_of(i).min for i in items]
        highs = [self.scale_of(i).max for i in items]
        if self.score_definition(score_id).method == "sum":
            return float(sum(lows)), float(sum(highs))
        return float(sum(lows) / len(lows)), float(sum(highs) / len(highs))

    # -------------------------------------------------------- administration

    def _wording(self) -> list[Mapping[str, str]]:
        """Every piece of text a respondent reads: the heading, the scales' labels, the
        items and the open questions (each as text per language)."""
        texts: list[Mapping[str, str]] = [self.heading]
        for scale in self.scales.values():
            if isinstance(scale, LikertScale):
                texts.extend(anchor.label for anchor in scale.anchors)
            else:
                texts.extend((scale.low_label, scale.high_label))
        texts.extend(item.text for item in self.items)
        texts.extend(q.text for q in self.open_questions)
        return texts

    def administrable_languages(self) -> list[str]:
        """Languages in which every item and open question has text, and so has every
        heading or scale label that the instrument gives in any language (a form in such a
        language would otherwise mix languages or lose a label)."""
        items = [item.text for item in self.items] + [q.text for q in self.open_questions]
        labels = [text for text in self._wording() if any(text.values())]
        return [language for language in self.languages
                if all(text.get(language) for text in items)
                and all(text.get(language) for text in labels)]

    @property
    def source_language(self) -> str:
        """The language the instrument was written in: the first of `languages`. Every other
        language is a translation."""
        return self.languages[0]

    def form_language(self, wanted: str | None) -> str | None:
        """The one language a form of this instrument is shown in, for a respondent who
        reads `wanted`: that language when every item and open question has text in it
        (a regional tag such as "pt-BR" also matches "pt", and "pt" matches "pt-BR"), else
        the source language, else the first complete language; None when there is none.

        A form never mixes languages: a language with one text missing is not offered.

        Examples
        --------
        >>> from alliance.core.instruments import load_bundled
        >>> load_bundled("wellbeing").form_language("es")
        'es'
        >>> load_bundled("wellbeing").form_language("pt-BR")
        'pt'
        >>> load_bundled("wellbeing").form_language("ja")
        'en'
        """
        complete = self.administrable_languages()
        if not complete:
            return None
        if wanted:
            wanted_base = wanted.split("-")[0].lower()
            for language in complete:
                if language.lower() == wanted.lower():
                    return language
            for language in complete:
                if language.split("-")[0].lower() == wanted_base:
                    return language
        return self.source_language if self.source_language in complete else complete[0]

    @property
    def unvalidated_languages(self) -> list[str]:
        """The translations whose equivalence with the source wording is not known."""
        return [] if self.translations_validated else list(self.languages[1:])

    @property
    def can_administer(self) -> bool:
        """True when the instrument can be sent to a respondent in at least one language."""
        return bool(self.administrable_languages())

    @property
    def administration_problem(self) -> str | None:
        """Why the instrument cannot be administered, in one sentence; None when it can."""
        if self.can_administer:
            return None
        empty = [item.id for item in self.items if not any(item.text.values())]
        if len(empty) == len(self.items):
            what = "has no item text"
        else:
            what = ("has no complete item text in any language (for example, item "
                    f"'{(empty or self._incomplete_items())[0]}' is missing)")
        return (f"{self.name} {what}: attach the text your clinic is licensed to use with "
                "attach_text(instrument, path) (a TOML or CSV file giving the text of each "
                "item id per language; see docs/instruments.md).")

    def ensure_administrable(self) -> None:
        """Raise :class:`NotAdministrableError` with :attr:`administration_problem` when needed."""
        problem = self.administration_problem
        if problem is not None:
            raise NotAdministrableError(problem)

    def _incomplete_items(self) -> list[str]:
        return [item.id for item in self.items
                if not all(item.text.get(language) for language in self.languages)]
