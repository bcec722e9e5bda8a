"""Attaching licensed item text that a clinic supplies to a definition without text.

Published instruments ship as scoring facts only. A clinic that holds a licence
for an instrument's wording keeps that wording in a small file of its own and
attaches it; the result is a new, administrable :class:`Instrument`.

Two file formats are read:

TOML (``.toml``)::

    instrument = "wai-sr"          # optional; must match when given
    [items.wai1]
    en = "text of item 1 as licensed"
    de = "..."                     # any number of languages

CSV (anything else), a header ``item`` plus one column per language::

    item,en
    wai1,text of item 1 as licensed
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from ..errors import DefinitionError, InputError
from ..tables import file_line, read_csv
from .loading import parse_definition
from .models import LANGUAGE_PATTERN, Instrument

_SECTIONS = ("items", "open_questions")


def attach_text(instrument: Instrument, path: str | Path) -> Instrument:
    """Return a copy of ``instrument`` with the item text read from ``path``.

    Every item must receive non-empty text in every language the file gives,
    and every id in the file must be an item (or open question) of the
    instrument. Languages new to the instrument are added to its languages.

    Raises
    ------
    DefinitionError
        For a TOML text file with a problem (names the file and the field).
    InputError
        For a CSV text file with a problem (names the file, line and column).
    """
    path = Path(path)
    name = str(path)
    if not path.is_file():
        raise InputError("file not found" if not path.exists() else "is not a file", file=name)
    if path.suffix.lower() == ".toml":
        texts = _read_toml(instrument, path)
    else:
        texts = _read_csv(instrument, path)

    data = instrument.model_dump(mode="python", exclude_none=True)
    languages = list(instrument.languages)
    for entries in texts.values():
        for by_language in entries.values():
            languages.extend(lang for lang in by_language if lang not in languages)
    data["languages"] = languages
    for section in _SECTIONS:
        for entry in data.get(section, ()):
            entry["text"] = {**entry.get("text", {}), **texts[section].get(entry["id"], {})}
    # The wording is now the clinic's, not the project's.
    data["own_wording"] = False
    data["wording_notice"] = f"{instrument.wording_notice} Item text attached from {path.name}."
    data["text_source"] = name
    return parse_definition(data, source=name)


def _known_ids(instrument: Instrument) -> dict[str, str]:
    ids = {item.id: "items" for item in instrument.items}
    ids.update({q.id: "open_questions" for q in instrument.open_questions})
    return ids


def _read_toml(instrument: Instrument, path: Path) -> dict[str, dict[str, dict[str, str]]]:
    name = str(path)
    try:
        # utf-8-sig: editors on Windows may start the file with a byte order mark.
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except tomllib.TOMLDecodeError as exc:
        raise DefinitionError(f"not valid TOML: {exc}", file=name) from None
    except UnicodeDecodeError:
        raise DefinitionError("not a UTF-8 text file", file=name) from None
    unknown = sorted(set(data) - {"instrument", *_SECTIONS})
    if unknown:
        raise DefinitionError("unknown field (expected instrument, items, open_questions)",
                              file=name, field=unknown[0])
    if "instrument" in data and data["instrument"] != instrument.id:
        raise DefinitionError(f"this text is for {data['instrument']!r}, not "
                              f"'{instrument.id}'", file=name, field="instrument")
    texts: dict[str, dict[str, dict[str, str]]] = {section: {} for section in _SECTIONS}
    wanted = {"items": {item.id for item in instrument.items},
              "open_questions": {q.id for q in instrument.open_questions}}
    for section in _SECTIONS:
        entries = data.get(section, {})
        if not isinstance(entries, Mapping):
            raise DefinitionError("must be a table of id = { language = text }", file=name,
                                  field=section)
        for entry_id, by_language in entries.items():
            field = f"{section}.{entry_id}"
            if entry_id not in wanted[section]:
                raise DefinitionError(f"'{instrument.id}' has no {section[:-1].replace('_', ' ')}"
                                      f" '{entry_id}'", file=name, field=field)
            if not isinstance(by_language, Mapping) or not by_language:
                raise DefinitionError("must be a table of language = text", file=name,
                                      field=field)
            for language, text in by_language.items():
                if not re.fullmatch(LANGUAGE_PATTERN, language):
                    raise DefinitionError(f"'{language}' is not a language tag such as 'en'",
                                          file=name, field=f"{field}.{language}")
                if not isinstance(text, str) or not text.strip():
                    raise DefinitionError("the text is empty", file=name,
                                          field=f"{field}.{language}")
            texts[section][entry_id] = {lang: text.strip() for lang, text in by_language.items()}
    _check_complete(instrument, texts,
                    lambda problem, field: DefinitionError(problem, file=name, field=field))
    return texts


def _read_csv(instrument: Instrument, path: Path) -> dict[str, dict[str, dict[str, str]]]:
    name = str(path)
    frame = read_csv(path, required=["item"])
    languages = [column for column in frame.columns if column != "item"]
    if not languages:
        raise InputError("no language columns: add one column per language, e.g. 'en'",
                         file=name, line=1)
    for language in languages:
        if not re.fullmatch(LANGUAGE_PATTERN, language):
            raise InputError(f"'{language}' is not a language tag such as 'en'", file=name,
                             line=1, column=language)
    known = _known_ids(instrument)
    texts: dict[str, dict[str, dict[str, str]]] = {section: {} for section in _SECTIONS}
    for row, record in enumerate(frame.to_dict("records")):
        line = file_line(frame, row)
        entry_id = record["item"]
        if pd.isna(entry_id) or not str(entry_id).strip():
            raise InputError("empty item id", file=name, line=line, column="item")
        entry_id = str(entry_id).strip()
        if entry_id not in known:
            raise InputError(f"'{instrument.id}' has no item '{entry_id}' (items: "
                             f"{', '.join(instrument.item_ids)})", file=name, line=line,
                             column="item")
        section = known[entry_id]
        if entry_id in texts[section]:
            raise InputError(f"item '{entry_id}' appears twice", file=name, line=line,
                             column="item")
        by_language = {}
        for language in languages:
            text = record[language]
            if pd.isna(text) or not str(text).strip():
                raise InputError(f"no text for item '{entry_id}'", file=name, line=line,
                                 column=language)
            by_language[language] = str(text).strip()
        texts[section][entry_id] = by_language
    _check_complete(instrument, texts,
                    lambda problem, field: InputError(problem, file=name))
    return texts


def _check_complete(instrument: Instrument, texts, make_error) -> None:
    """Every item gets text, in every language the file uses."""
    given = texts["items"]
    missing = [item.id for item in instrument.items if item.id not in given]
    if missing:
        raise make_error(f"no text for item{'s' if len(missing) > 1 else ''} "
                         f"{', '.join(missing)} (every item of '{instrument.id}' needs text)",
                         "items")
    languages = {lang for by_language in given.values() for lang in by_language}
    for item_id, by_language in given.items():
        absent = sorted(languages - set(by_language))
        if absent:
            raise make_error(f"no '{absent[0]}' text for item '{item_id}' (other items have "
                             "it)", f"items.{item_id}")
