"""Instruments and administrations as HL7 FHIR resources (FHIR R4B, which fhir.resources offers).

fhir.resources (8.x) ships FHIR R5 as its default package, R4B and STU3; it has no separate
R4 package. R4B changed nothing in Questionnaire, QuestionnaireResponse or Bundle that these
resources use, so what is written here is also valid R4. Every resource is validated with
the R4B models before it leaves this module.

- :func:`questionnaire` writes an instrument as a ``Questionnaire``: each scored item as a
  ``choice`` (Likert: an answer option per point, its score in the ``ordinalValue``
  extension) or an ``integer``/``decimal`` (slider: ``minValue``/``maxValue`` extensions,
  a slider item control); each open question as ``text``. How the instrument is scored
  (subscales, method, reverse keys, missing-data rule) travels in ``urn:alliance:fhir:*``
  extensions, so that a definition not bundled with Alliance survives the round trip.
- :func:`instrument_from_questionnaire` reads one back. When the Questionnaire is one of
  the bundled instruments (by canonical url, identifier, name or title), the scoring facts
  come from the bundled definition and the Questionnaire's item text is attached to it: a
  clinic's licensed copy of a published scale becomes administrable.
- :func:`questionnaire_response` and :func:`responses_from_questionnaire_response` write and
  read one administration.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from pydantic import ValidationError

from .errors import DefinitionError, InputError
from .instruments import (TOTAL, Instrument, LikertScale, bundled_instruments, parse_definition,
                          text_in)
from .instruments.models import ID_PATTERN

FHIR_VERSION = "4.3.0"  # R4B
QUESTIONNAIRE_URL = "urn:alliance:questionnaire:"
IDENTIFIER_SYSTEM = "urn:alliance:instrument"
EXT = "urn:alliance:fhir:"
ORDINAL = "http://hl7.org/fhir/StructureDefinition/ordinalValue"
ITEM_WEIGHT = "http://hl7.org/fhir/StructureDefinition/itemWeight"
MIN_VALUE = "http://hl7.org/fhir/StructureDefinition/minValue"
MAX_VALUE = "http://hl7.org/fhir/StructureDefinition/maxValue"
SLIDER_STEP = "http://hl7.org/fhir/StructureDefinition/questionnaire-sliderStepValue"
ITEM_CONTROL = "http://hl7.org/fhir/StructureDefinition/questionnaire-itemControl"
ITEM_CONTROL_SYSTEM = "http://hl7.org/fhir/questionnaire-item-control"

_SCORED_TYPES = {"integer", "decimal", "choice", "open-choice"}
_TEXT_TYPES = {"string", "text"}


def validate(resource: Mapping[str, Any]) -> dict:
    """Validate a FHIR resource with the R4B models; return it as plain JSON data.

    Raises
    ------
    InputError
        When it is not a valid resource (names the first field at fault).
    """
    from fhir.resources.R4B import get_fhir_model_class

    kind = resource.get("resourceType") if isinstance(resource, Mapping) else None
    if not isinstance(kind, str):
        raise InputError("not a FHIR resource (no resourceType)")
    try:
        model = get_fhir_model_class(kind)
    except (KeyError, ValueError):
        raise InputError(f"unknown FHIR resource type {kind!r}") from None
    try:
        parsed = model.model_validate(dict(resource))
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InputError(f"not a valid FHIR R4 {kind}: {where}: {first['msg']}") from None
    import json
    return json.loads(parsed.model_dump_json(exclude_none=True))


# ----------------------------------------------------------------------------- export

def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else round(float(value), 10)


def _code(value: float) -> str:
    return f"{value:g}"


def _points(scale) -> list[float]:
    count = int(round((scale.max - scale.min) / scale.step))
    return [round(scale.min + k * scale.step, 10) for k in range(count + 1)]


def _language(instrument: Instrument, language: str | None) -> str:
    if language is not None:
        return language
    usable = instrument.administrable_languages()
    return "en" if "en" in (usable or instrument.languages) else (usable or
                                                                   instrument.languages)[0]


def _fhir_name(instrument: Instrument) -> str:
    words = re.split(r"[^A-Za-z0-9]+", instrument.abbreviation or instrument.id)
    name = "_".join(w for w in words if w) or "Instrument"
    return name[0].upper() + name[1:] if name[0].isalpha() else "I_" + name


def _scale_item(instrument: Instrument, item, language: str) -> dict:
    scale = instrument.scales[item.scale]
    entry: dict[str, Any] = {"linkId": item.id, "extension": [
        {"url": EXT + "scale", "valueCode": item.scale}]}
    if item.subscale:
        entry["extension"].append({"url": EXT + "subscale", "valueCode": item.subscale})
    if item.reverse:
        entry["extension"].append({"url": EXT + "reverse", "valueBoolean": True})
    if item.risk_at is not None:
        entry["extension"].append({"url": EXT + "risk-at", "valueDecimal": _number(item.risk_at)})
    text = text_in(item.text, language)
    if text:
        entry["text"] = text
    if isinstance(scale, LikertScale):
        labels = {a.value: text_in(a.label, language) for a in scale.anchors}
        entry["type"] = "choice"
        entry["answerOption"] = [
            {"valueCoding": {"code": _code(v), "display": labels.get(v) or _code(v)},
             "extension": [{"url": ORDINAL, "valueDecimal": _number(v)}]}
            for v in _points(scale)]
        return entry
    whole = all(float(x).is_integer() for x in (scale.min, scale.max, scale.step))
    kind = "integer" if whole else "decimal"
    value = "valueInteger" if whole else "valueDecimal"
    entry["type"] = kind
    entry["extension"] += [
        {"url": MIN_VALUE, value: _number(scale.min)},
        {"url": MAX_VALUE, value: _number(scale.max)},
        {"url": ITEM_CONTROL, "valueCodeableConcept": {"coding": [
            {"system": ITEM_CONTROL_SYSTEM, "code": "slider"}]}},
    ]
    if whole:
        entry["extension"].append({"url": SLIDER_STEP, "valueInteger": int(scale.step)})
    else:
        entry["extension"].append({"url": EXT + "step", "valueDecimal": _number(scale.step)})
    for end, labels in (("low-label", scale.low_label), ("high-label", scale.high_label)):
        if text_in(labels, language):
            entry["extension"].append({"url": EXT + end, "valueString": labels[language]})
    return entry


def _score_extension(instrument: Instrument, score_id: str) -> dict:
    definition = instrument.score_definition(score_id)
    parts = [{"url": "id", "valueCode": score_id}, {"url": "method", "valueCode": definition.method}]
    if definition.title:
        parts.append({"url": "title", "valueString": definition.title})
    parts += [{"url": "item", "valueString": i} for i in instrument.score_items(score_id)]
    if definition.max_missing is not None:
        parts.append({"url": "max-missing", "valueInteger": definition.max_missing})
    return {"url": EXT + "score", "extension": parts}


def questionnaire(instrument: Instrument, *, language: str | None = None) -> dict:
    """The instrument as a FHIR R4 ``Questionnaire`` (a dict of JSON data, validated).

    Items without text (the scoring facts of a published instrument) are written without
    ``text``; the Questionnaire then describes the scoring only.
    """
    language = _language(instrument, language)
    items = [_scale_item(instrument, item, language) for item in instrument.items]
    for question in instrument.open_questions:
        entry = {"linkId": question.id, "type": "text", "required": question.required}
        if text_in(question.text, language):
            entry["text"] = question.text[language]
        items.append(entry)
    extensions = [
        {"url": EXT + "respondent", "valueCode": instrument.respondent},
        {"url": EXT + "higher-is-better", "valueBoolean": instrument.higher_is_better},
        {"url": EXT + "max-missing", "valueInteger": instrument.missing_data.max_missing},
        *(_score_extension(instrument, s) for s in instrument.score_ids),
    ]
    resource = {
        "resourceType": "Questionnaire",
        "language": language,
        "extension": extensions,
        "url": QUESTIONNAIRE_URL + instrument.id,
        "identifier": [{"system": IDENTIFIER_SYSTEM, "value": instrument.id}],
        "version": instrument.version,
        "name": _fhir_name(instrument),
        "title": instrument.title,
        "status": "active",
        "subjectType": ["Patient"],
        "description": (instrument.description or instrument.title).strip(),
        "purpose": instrument.wording_notice,
        "copyright": instrument.licence,
        "item": items,
    }
    if re.fullmatch(r"[A-Za-z0-9\-.]{1,64}", instrument.id):
        resource["id"] = instrument.id
    return validate(resource)


def _value_key(item_type: str) -> str:
    return {"integer": "valueInteger", "decimal": "valueDecimal"}[item_type]


def questionnaire_response(instrument: Instrument, responses: Mapping[str, Any] | None,
                           answers: Mapping[str, str] | None = None, *,
                           scores: Mapping[str, Any] | None = None,
                           subject: str | None = None, encounter: str | None = None,
                           authored: str | None = None, resource_id: str | None = None,
                           status: str = "completed") -> dict:
    """One administration as a FHIR R4 ``QuestionnaireResponse`` (validated JSON data).

    ``responses`` maps item ids to answers (None when skipped), ``answers`` open question
    ids to text; ``scores`` is the stored result of the core scoring engine (its subscale
    and total scores, and their POMP, travel in an extension). ``subject`` and
    ``encounter`` are references (e.g. ``"urn:uuid:…"``), ``authored`` an ISO date-time.
    """
    language = _language(instrument, None)
    shape = {item.id: _scale_item(instrument, item, language) for item in instrument.items}
    items = []
    for item in instrument.items:
        value = (responses or {}).get(item.id)
        if value is None or (isinstance(value, float) and math.isnan(value)):
            continue
        value = float(value)
        kind = shape[item.id]["type"]
        if kind == "choice":
            display = next((o["valueCoding"]["display"] for o in shape[item.id]["answerOption"]
                            if o["valueCoding"]["code"] == _code(value)), _code(value))
            answer = {"valueCoding": {"code": _code(value), "display": display}}
        else:
            answer = {_value_key(kind): _number(value) if kind == "decimal" else int(value)}
        items.append({"linkId": item.id, "answer": [answer]})
    for question in instrument.open_questions:
        text = (answers or {}).get(question.id)
        if text:
            items.append({"linkId": question.id, "answer": [{"valueString": str(text)}]})
    resource: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": f"{QUESTIONNAIRE_URL}{instrument.id}|{instrument.version}",
        "status": status,
        "item": items,
    }
    if resource_id:
        resource["id"] = resource_id
    if subject:
        resource["subject"] = {"reference": subject}
    if encounter:
        resource["encounter"] = {"reference": encounter}
    if authored:
        resource["authored"] = authored
    score_parts = []
    if scores:
        values = dict(scores.get("subscales") or {})
        if scores.get("total") is not None:
            values[TOTAL] = scores["total"]
        for score_id, value in values.items():
            if value is None or (isinstance(value, float) and math.isnan(value)):
                continue
            part = [{"url": "id", "valueCode": score_id},
                    {"url": "value", "valueDecimal": _number(value)}]
            pomp = (scores.get("pomp") or {}).get(score_id)
            if pomp is not None and not (isinstance(pomp, float) and math.isnan(pomp)):
                part.append({"url": "pomp", "valueDecimal": _number(pomp)})
            score_parts.append({"url": EXT + "score", "extension": part})
    # A risk answer (an answer at or above a risk item's threshold) keeps its flag in
    # every export: the items it concerns, by id.
    risk = [{"url": EXT + "risk-answer", "valueCode": item_id}
            for item_id in instrument.risk_answers(responses or {})]
    if score_parts or risk:
        resource["extension"] = score_parts + risk
    return validate(resource)


def bundle(resources: Sequence[tuple[str, Mapping[str, Any]]], *, kind: str = "collection",
           timestamp: str | None = None) -> dict:
    """A FHIR R4 ``Bundle`` of ``(fullUrl, resource)`` pairs, validated as a whole."""
    if kind not in ("collection", "searchset"):
        raise InputError(f"unsupported bundle type {kind!r} (collection or searchset)")
    entries = []
    for full_url, resource in resources:
        entry: dict[str, Any] = {"fullUrl": full_url, "resource": dict(resource)}
        if kind == "searchset":
            entry["search"] = {"mode": "match" if resource.get("resourceType") ==
                               "QuestionnaireResponse" else "include"}
        entries.append(entry)
    data: dict[str, Any] = {"resourceType": "Bundle", "type": kind, "entry": entries}
    if kind == "searchset":
        data["total"] = sum(1 for e in entries if e["search"]["mode"] == "match")
    if timestamp:
        data["timestamp"] = timestamp
    return validate(data)


# ----------------------------------------------------------------------------- import

@dataclass(frozen=True)
class QuestionnaireImport:
    """What :func:`instrument_from_questionnaire` read.

    Attributes
    ----------
    instrument : the instrument definition.
    known : the id of the bundled instrument the Questionnaire was recognised as, or None.
    link_ids : the Questionnaire's linkId → the instrument's item or open question id.
    codes : linkId → answer code → score, for choice items.
    notes : what the reader assumed or left out, in words.
    """

    instrument: Instrument
    known: str | None
    link_ids: dict[str, str]
    codes: dict[str, dict[str, float]] = field(default_factory=dict)
    notes: tuple[str, ...] = ()


def _extension(element: Mapping[str, Any], url: str) -> list[dict]:
    return [e for e in element.get("extension", ()) if e.get("url") == url]


def _ext_value(element: Mapping[str, Any], url: str, default=None):
    for found in _extension(element, url):
        for key, value in found.items():
            if key.startswith("value"):
                return value
    return default


def _normal(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", str(text).lower())


def _match_bundled(data: Mapping[str, Any]) -> Instrument | None:
    bundled = bundled_instruments()
    url = str(data.get("url") or "")
    if url.startswith(QUESTIONNAIRE_URL):
        wanted = url[len(QUESTIONNAIRE_URL):]
        found = [i for i in bundled if i.id == wanted]
        if found:
            return found[0]
    names = {_normal(i.get("value", "")) for i in data.get("identifier", ())}
    names |= {_normal(data.get(key) or "") for key in ("name", "title")}
    names.discard("")
    for instrument in bundled:
        own = {_normal(instrument.id), _normal(instrument.title)}
        if instrument.abbreviation:
            own.add(_normal(instrument.abbreviation))
        if names & own:
            return instrument
    return None


def _flatten(items: Sequence[Mapping[str, Any]]) -> list[dict]:
    found = []
    for item in items:
        if item.get("type") == "group":
            found += _flatten(item.get("item", ()))
        elif item.get("type") != "display":
            found.append(dict(item))
            found += _flatten(item.get("item", ()))
    return found


def _option_score(option: Mapping[str, Any], where: str) -> tuple[str, float, str]:
    """(code, score, label) of one answer option or value set concept."""
    coding = option.get("valueCoding") or {}
    code = coding.get("code") if coding else option.get("code")
    label = coding.get("display") if coding else option.get("display")
    weight = None
    for holder in (option, coding):
        for url in (ORDINAL, ITEM_WEIGHT):
            weight = _ext_value(holder, url, weight) if weight is None else weight
    if "valueInteger" in option:
        code, weight = str(option["valueInteger"]), option["valueInteger"]
    if weight is None and code is not None:
        try:
            weight = float(code)
        except ValueError:
            pass
    if weight is None:
        raise DefinitionError("an answer option has no score: give it an ordinalValue "
                              "extension (or a numeric code)", field=where)
    return str(code), float(weight), str(label or "")


def _options(item: Mapping[str, Any], data: Mapping[str, Any], where: str) -> list:
    if item.get("answerOption"):
        return [_option_score(o, f"{where}.answerOption[{k}]")
                for k, o in enumerate(item["answerOption"])]
    reference = item.get("answerValueSet")
    if reference:
        contained = {f"#{r.get('id')}": r for r in data.get("contained", ())
                     if r.get("resourceType") == "ValueSet"}
        value_set = contained.get(reference)
        if value_set is None:
            raise DefinitionError(f"the answer value set {reference!r} is not contained in the "
                                  "Questionnaire: include it under 'contained'",
                                  field=f"{where}.answerValueSet")
        concepts = list((value_set.get("expansion") or {}).get("contains", ()))
        if not concepts:
            for include in (value_set.get("compose") or {}).get("include", ()):
                concepts += include.get("concept", ())
        return [_option_score(c, f"{where}.answerValueSet") for c in concepts]
    raise DefinitionError("a choice item needs answerOption or answerValueSet",
                          field=f"{where}.answerOption")


def _step(values: Sequence[float]) -> float:
    diffs = [Fraction(b - a).limit_denominator(1000) for a, b in zip(values, values[1:])]
    step = diffs[0]
    for diff in diffs[1:]:
        step = Fraction(math.gcd(step.numerator * diff.denominator,
                                 diff.numerator * step.denominator),
                        step.denominator * diff.denominator)
    return float(step)


def _scale_of(item: Mapping[str, Any], data: Mapping[str, Any], where: str,
              language: str) -> tuple[dict, dict[str, float]]:
    kind = item["type"]
    if kind in ("choice", "open-choice"):
        options = _options(item, data, where)
        values = sorted({score for _, score, _ in options})
        if len(values) < 2:
            raise DefinitionError("a scored choice item needs at least two answer scores",
                                  field=where)
        anchors = [{"value": score, "label": {language: label}} for code, score, label in
                   sorted(options, key=lambda o: o[1])
                   if label and label != code]
        scale = {"kind": "likert", "min": values[0], "max": values[-1], "step": _step(values),
                 "anchors": anchors}
        return scale, {code: score for code, score, _ in options}
    low, high = _ext_value(item, MIN_VALUE), _ext_value(item, MAX_VALUE)
    if low is None or high is None:
        raise DefinitionError(f"a scored {kind} item needs the minValue and maxValue "
                              "extensions (its range)", field=where)
    step = _ext_value(item, SLIDER_STEP) or _ext_value(item, EXT + "step") or 1
    scale = {"kind": "slider", "min": float(low), "max": float(high), "step": float(step)}
    for end in ("low", "high"):
        label = _ext_value(item, f"{EXT}{end}-label")
        if label:
            scale[f"{end}_label"] = {language: label}
    return scale, {}


def _item_id(link_id: str) -> str:
    text = re.sub(r"[^a-z0-9_-]+", "-", link_id.lower()).strip("-_")
    return text if re.fullmatch(ID_PATTERN, text or "") else f"item-{text or 'x'}"


def _score_specs(data: Mapping[str, Any], link_ids: Mapping[str, str]):
    specs = []
    for found in _extension(data, EXT + "score"):
        spec: dict[str, Any] = {"items": []}
        for part in found.get("extension", ()):
            key = part.get("url")
            value = next((v for k, v in part.items() if k.startswith("value")), None)
            if key == "item":
                spec["items"].append(link_ids.get(value, value))
            elif key in ("id", "method", "title"):
                spec[key] = value
            elif key == "max-missing":
                spec["max_missing"] = value
        specs.append(spec)
    return specs


def instrument_from_questionnaire(data: Mapping[str, Any], *,
                                  source: str = "<questionnaire>") -> QuestionnaireImport:
    """Read a FHIR R4 ``Questionnaire`` as an instrument definition.

    Scored items are the ``integer``, ``decimal`` and ``choice`` items (answer options or a
    contained value set, scored by their ``ordinalValue`` or ``itemWeight`` extension, or
    by a numeric code); ``string`` and ``text`` items become open questions; groups are
    read through and ``display`` items skipped.

    A Questionnaire recognised as a bundled instrument gets the bundled scoring facts, with
    its item text attached (its items are matched by linkId, or in order when the linkIds
    differ and the count is the same); its answer scores must lie on the bundled scales.

    Raises
    ------
    DefinitionError
        When the Questionnaire cannot be read as an instrument (names the field).
    """
    try:
        data = validate(data)
    except InputError as exc:
        raise DefinitionError(exc.problem, file=source) from None
    try:
        return _read_questionnaire(data, source)
    except DefinitionError as exc:
        if exc.file is None:
            raise DefinitionError(exc.problem, file=source, field=exc.field) from None
        raise


def _read_questionnaire(data: dict, source: str) -> QuestionnaireImport:
    if data.get("resourceType") != "Questionnaire":
        raise DefinitionError(f"a {data.get('resourceType')}, not a Questionnaire", file=source)
    language = data.get("language") or "en"
    if not re.fullmatch(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})*", language):
        language = language.split("-")[0].lower() or "en"
    flat = _flatten(data.get("item", ()))
    scored, texts, notes = [], [], []
    for k, item in enumerate(flat):
        where = f"item[linkId={item.get('linkId')}]"
        if item.get("type") in _SCORED_TYPES:
            scale, codes = _scale_of(item, data, where, language)
            scored.append((item, scale, codes))
        elif item.get("type") in _TEXT_TYPES:
            texts.append(item)
        else:
            notes.append(f"item {item.get('linkId')!r} of type {item.get('type')} is not scored "
                         "and was left out")
    if not scored:
        raise DefinitionError("the Questionnaire has no scored items (integer, decimal or "
                              "choice)", file=source, field="item")
    known = _match_bundled(data)
    if known is not None:
        return _onto_bundled(known, data, scored, texts, language, source, notes)
    return _new_instrument(data, scored, texts, language, source, notes)


def _onto_bundled(known: Instrument, data, scored, texts, language, source, notes):
    links = [item["linkId"] for item, _, _ in scored]
    if set(links) == set(known.item_ids):
        link_ids = {link: link for link in links}
    elif len(links) == len(known.items):
        link_ids = dict(zip(links, known.item_ids))
        notes.append(f"linkIds matched to the items of {known.name} in order")
    else:
        raise DefinitionError(f"recognised as {known.name}, which has {len(known.items)} "
                              f"scored items, but the Questionnaire has {len(links)}",
                              field="item")
    open_ids = [q.id for q in known.open_questions]
    for item in texts:
        if item["linkId"] in open_ids:
            link_ids[item["linkId"]] = item["linkId"]
        else:
            notes.append(f"text item {item['linkId']!r} is not a question of {known.name} and "
                         "was left out")
    definition = known.model_dump(mode="python", exclude_none=True)
    codes: dict[str, dict[str, float]] = {}
    by_id = {entry["id"]: entry for entry in definition["items"]}
    changed = False
    for item, scale, item_codes in scored:
        item_id = link_ids[item["linkId"]]
        ours = known.scale_of(item_id)
        if (scale["min"], scale["max"]) != (ours.min, ours.max) and item_codes:
            raise DefinitionError(f"answer scores run {scale['min']:g}–{scale['max']:g}, but "
                                  f"{known.name} scores {ours.describe_range()}: use the "
                                  "published scoring", field=f"item[linkId={item['linkId']}]")
        if item_codes:
            codes[item["linkId"]] = item_codes
        text = (item.get("text") or "").strip()
        if text and by_id[item_id].get("text", {}).get(language) != text:
            by_id[item_id]["text"] = {**by_id[item_id].get("text", {}), language: text}
            changed = True
        scale_entry = definition["scales"][known.item(item_id).scale]
        if scale.get("anchors") and not scale_entry.get("anchors"):
            scale_entry["anchors"] = scale["anchors"]
            changed = True
    for entry in definition.get("open_questions", ()):
        found = next((t for t in texts if t["linkId"] == entry["id"]), None)
        text = ((found or {}).get("text") or "").strip()
        if text and entry.get("text", {}).get(language) != text:
            entry["text"] = {**entry.get("text", {}), language: text}
            changed = True
    if not changed:
        return QuestionnaireImport(known, known.id, link_ids, codes, tuple(notes))
    if language not in definition["languages"]:
        definition["languages"].append(language)
    definition["own_wording"] = False
    definition["wording_notice"] = (f"{known.wording_notice} Item text from the FHIR "
                                    f"Questionnaire '{data.get('title') or data.get('name')}'.")
    definition["text_source"] = source
    instrument = parse_definition(definition, source=source)
    return QuestionnaireImport(instrument, known.id, link_ids, codes, tuple(notes))


def _new_instrument(data, scored, texts, language, source, notes):
    link_ids = {item["linkId"]: _item_id(item["linkId"]) for item, _, _ in scored}
    link_ids.update({t["linkId"]: _item_id(t["linkId"]) for t in texts})
    if len(set(link_ids.values())) < len(link_ids):
        raise DefinitionError("two linkIds give the same item id", field="item")
    scales: dict[str, dict] = {}
    items, codes = [], {}
    for item, scale, item_codes in scored:
        name = _ext_value(item, EXT + "scale")
        if name is None or (name in scales and scales[name] != scale):
            name = next((n for n, s in scales.items() if s == scale), f"scale{len(scales) + 1}")
        scales[name] = scale
        entry = {"id": link_ids[item["linkId"]], "scale": name,
                 "text": {language: item["text"]} if item.get("text") else {}}
        subscale = _ext_value(item, EXT + "subscale")
        if subscale:
            entry["subscale"] = subscale
        if _ext_value(item, EXT + "reverse"):
            entry["reverse"] = True
        risk_at = _ext_value(item, EXT + "risk-at")
        if risk_at is not None:
            entry["risk_at"] = risk_at
        items.append(entry)
        if item_codes:
            codes[item["linkId"]] = item_codes
    specs = _score_specs(data, link_ids)
    subscales = [s for s in specs if s.get("id") != TOTAL]
    total = next((s for s in specs if s.get("id") == TOTAL), None)
    if not specs:
        total = {"method": "sum"}
        notes.append("no scoring given: the total is the sum of the item scores")
    else:
        for spec in subscales:
            spec.setdefault("method", "mean")
    if total is not None:
        total = {k: v for k, v in total.items() if k != "id"}
        total.setdefault("method", "sum")
        if total.get("items") == [e["id"] for e in items]:
            total.pop("items")
    direction = _ext_value(data, EXT + "higher-is-better")
    if direction is None:
        direction = True
        notes.append("the direction is not given: higher scores are taken as better "
                     "(set higher_is_better in the definition if not)")
    respondent = _ext_value(data, EXT + "respondent") or "client"
    max_missing = _ext_value(data, EXT + "max-missing")
    if max_missing is None:
        max_missing = 0
        notes.append("no missing-data rule given: every item must be answered for a score")
    title = data.get("title") or data.get("name") or "Imported questionnaire"
    identifier = next((i.get("value") for i in data.get("identifier", ()) if i.get("value")),
                      None)
    instrument_id = _item_id(identifier or data.get("name") or title)
    definition = {
        "id": instrument_id, "version": data.get("version") or "1",
        "title": title, "abbreviation": data.get("name") or "",
        "description": data.get("description") or "",
        "languages": [language], "respondent": respondent, "higher_is_better": direction,
        "own_wording": False,
        "wording_notice": f"Imported from the FHIR Questionnaire '{title}'.",
        "citation": data.get("publisher") or "",
        "licence": data.get("copyright") or "Not stated in the Questionnaire: check the "
                                            "terms of use before administering it.",
        "text_source": source, "scales": scales, "items": items,
        "open_questions": [{"id": link_ids[t["linkId"]], "required": bool(t.get("required")),
                            "text": {language: t["text"]} if t.get("text") else {}}
                           for t in texts],
        "subscales": subscales, "missing_data": {"rule": "prorate", "max_missing": max_missing},
    }
    if total is not None:
        definition["total"] = total
    instrument = parse_definition(definition, source=source)
    return QuestionnaireImport(instrument, None, link_ids, codes, tuple(notes))


def responses_from_questionnaire_response(
        data: Mapping[str, Any], mapping: QuestionnaireImport | None = None,
        instrument: Instrument | None = None) -> tuple[dict[str, float | None], dict[str, str]]:
    """Item answers and open answers of a ``QuestionnaireResponse``.

    Give the :class:`QuestionnaireImport` of its Questionnaire to map linkIds and answer
    codes; without it, linkIds are item ids and codes are the scores (as Alliance writes
    them).

    Returns
    -------
    (responses, answers): item id → score (None when unanswered); open question id → text.
    """
    data = validate(data)
    if data.get("resourceType") != "QuestionnaireResponse":
        raise InputError(f"a {data.get('resourceType')}, not a QuestionnaireResponse")
    instrument = instrument or (mapping.instrument if mapping else None)
    link_ids = mapping.link_ids if mapping else {}
    codes = mapping.codes if mapping else {}
    open_ids = {q.id for q in instrument.open_questions} if instrument else set()
    responses: dict[str, float | None] = ({i: None for i in instrument.item_ids}
                                          if instrument else {})
    answers: dict[str, str] = {}
    for item in _flatten_answers(data.get("item", ())):
        link = item["linkId"]
        item_id = link_ids.get(link, link)
        for answer in item.get("answer", ())[:1]:
            if "valueString" in answer and item_id in open_ids:
                answers[item_id] = answer["valueString"]
            elif "valueCoding" in answer:
                code = answer["valueCoding"].get("code")
                score = codes.get(link, {}).get(code)
                if score is None:
                    try:
                        score = float(code)
                    except (TypeError, ValueError):
                        raise InputError(f"item {link!r}: answer code {code!r} has no "
                                         "score") from None
                responses[item_id] = score
            else:
                value = next((v for k, v in answer.items()
                              if k in ("valueInteger", "valueDecimal")), None)
                if value is not None:
                    responses[item_id] = float(value)
    return responses, answers


def _flatten_answers(items) -> list[dict]:
    found = []
    for item in items:
        found.append(item)
        found += _flatten_answers(item.get("item", ()))
        for answer in item.get("answer", ()):
            found += _flatten_answers(answer.get("item", ()))
    return found
