"""Reading instrument definitions: TOML files, the bundled set, and clear errors.

Every problem with a definition becomes a :class:`DefinitionError` naming the
file, the field path (``items[3].subscale``; list positions count from 0) and
the problem in plain words.
"""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..errors import AllianceError, DefinitionError
from .models import FieldProblem, Instrument

_SCALE_KINDS = {"likert", "slider"}
_LISTS_WITH_IDS = {"items": "item", "open_questions": "open question", "subscales": "subscale"}


class UnknownInstrumentError(AllianceError, LookupError):
    """No bundled instrument has this id and no definition file has this path."""


def load_definition(path: str | Path) -> Instrument:
    """Read and validate an instrument definition from a TOML file.

    Raises
    ------
    DefinitionError
        When the file is missing, is not valid TOML, or the definition is
        broken; the error names the file, the field and the problem.
    """
    path = Path(path)
    name = str(path)
    if not path.is_file():
        raise DefinitionError("file not found" if not path.exists() else "is not a file",
                              file=name)
    try:
        # utf-8-sig: editors on Windows may start the file with a byte order mark.
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except tomllib.TOMLDecodeError as exc:
        raise DefinitionError(f"not valid TOML: {exc}", file=name) from None
    except UnicodeDecodeError:
        raise DefinitionError("not a UTF-8 text file", file=name) from None
    return parse_definition(data, source=name)


def parse_definition(data: Mapping[str, Any], *, source: str = "<definition>") -> Instrument:
    """Validate a definition given as a dict (the parsed TOML)."""
    if not isinstance(data, Mapping):
        raise DefinitionError("a definition must be a table of fields", file=source)
    try:
        return Instrument.model_validate(dict(data))
    except ValidationError as exc:
        raise definition_error(exc, data, source) from None


def definition_error(exc: ValidationError, data: Mapping[str, Any], source: str) -> DefinitionError:
    """Turn a pydantic ValidationError into a DefinitionError about its first problem."""
    errors = exc.errors(include_url=False)
    field, problem = _describe(errors[0], data)
    if len(errors) > 1:
        problem += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
    return DefinitionError(problem, file=source, field=field or None)


def _describe(error: Mapping[str, Any], data: Mapping[str, Any]) -> tuple[str, str]:
    loc = [part for part in error["loc"] if not _is_internal(part)]
    # A discriminated union adds the tag ("likert") after the scale's name.
    if len(loc) > 2 and loc[0] == "scales" and loc[2] in _SCALE_KINDS:
        del loc[2]
    kind = error["type"]
    value = error.get("input")
    cause = (error.get("ctx") or {}).get("error")
    if isinstance(cause, FieldProblem):
        field = _join(loc + [cause.field]) if cause.field else _join(loc)
        problem = cause.problem
    elif kind == "missing":
        field, problem = _join(loc), "required field is missing"
    elif kind == "extra_forbidden":
        field, problem = _join(loc), "unknown field (check its spelling in docs/instruments.md)"
    elif kind == "union_tag_not_found":
        field, problem = _join(loc + ["kind"]), "required field is missing (likert or slider)"
    elif kind == "union_tag_invalid":
        field = _join(loc + ["kind"])
        problem = f"unknown scale kind {_show(value.get('kind') if isinstance(value, dict) else value)} (use likert or slider)"
    elif kind == "string_pattern_mismatch":
        field = _join(loc)
        pattern = str((error.get("ctx") or {}).get("pattern", ""))
        if "a-z0-9_-" in pattern:
            problem = (f"{_show(value)} is not a valid id: use lower-case letters, digits, "
                       "'-' and '_'")
        else:
            problem = f"{_show(value)} is not a language tag such as 'en' or 'pt-BR'"
    else:
        field = _join(loc)
        problem = _plain(error["msg"])
        if not isinstance(value, (dict, list)):
            problem += f", got {_show(value)}"
    return field, problem + _whose(field, data)


def _is_internal(part: Any) -> bool:
    # pydantic inserts names such as "function-after[...]" for validators.
    return isinstance(part, str) and ("[" in part or part.startswith("function-"))


def _join(loc: list[Any]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def _plain(message: str) -> str:
    for prefix in ("Value error, ", "Assertion failed, "):
        if message.startswith(prefix):
            message = message[len(prefix):]
    return message[:1].lower() + message[1:]


def _show(value: Any) -> str:
    return repr(value) if isinstance(value, str) else str(value)


def _whose(field: str, data: Mapping[str, Any]) -> str:
    """Name the entry the error is in, since list positions are hard to count by eye."""
    match = re.match(r"^(items|open_questions|subscales)\[(\d+)\](.*)$", field)
    if not match or match.group(3) == ".id":
        return ""
    section, index = match.group(1), int(match.group(2))
    try:
        entry_id = data[section][index]["id"]
    except (TypeError, KeyError, IndexError):
        return ""
    return f" (in {_LISTS_WITH_IDS[section]} '{entry_id}')" if isinstance(entry_id, str) else ""


# ---------------------------------------------------------------- bundled


def _definitions_folder():
    return resources.files(__package__).joinpath("definitions")


def bundled_ids() -> list[str]:
    """Ids of the instruments that ship with Alliance, in alphabetical order."""
    return sorted(entry.name[:-len(".toml")] for entry in _definitions_folder().iterdir()
                  if entry.name.endswith(".toml"))


@functools.lru_cache(maxsize=None)
def load_bundled(instrument_id: str) -> Instrument:
    """A bundled instrument by id (for example ``"alliance-client"`` or ``"wai-sr"``)."""
    if instrument_id not in bundled_ids():
        raise UnknownInstrumentError(f"unknown instrument '{instrument_id}' (bundled: "
                                     f"{', '.join(bundled_ids())})")
    with resources.as_file(_definitions_folder().joinpath(f"{instrument_id}.toml")) as path:
        return load_definition(path)


def bundled_instruments() -> list[Instrument]:
    """Every bundled instrument, ordered by id."""
    return [load_bundled(i) for i in bundled_ids()]


def get_instrument(reference: str | Path) -> Instrument:
    """A bundled instrument by id, or a definition file by path.

    Raises
    ------
    UnknownInstrumentError
        When ``reference`` is neither a bundled id nor an existing file.
    DefinitionError
        When the file exists but its definition is broken.
    """
    text = str(reference)
    if text in bundled_ids():
        return load_bundled(text)
    path = Path(text)
    if path.exists() or path.suffix.lower() == ".toml":
        return load_definition(path)
    raise UnknownInstrumentError(
        f"unknown instrument '{text}': use a bundled id ({', '.join(bundled_ids())}) "
        "or the path of a definition file")
