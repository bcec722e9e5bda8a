"""`alliance fhir`: instruments as FHIR R4 Questionnaires, and back."""

from __future__ import annotations

import json
from pathlib import Path

import click
import tomli_w

from alliance.core import fhir as core_fhir
from alliance.core.errors import DefinitionError
from alliance.core.instruments import attach_text, get_instrument


@click.group("fhir")
def fhir() -> None:
    """Exchange instruments with other systems as HL7 FHIR R4 Questionnaires.

    Resources are validated with the FHIR R4B models of fhir.resources (R4B keeps
    R4's Questionnaire and QuestionnaireResponse unchanged). See docs/interop.md.

    \b
    Example:
      alliance fhir export-questionnaire alliance-client --out alliance-client.json
      alliance fhir import-questionnaire wai-sr-licensed.json --out wai-sr.toml
    """


@fhir.command("export-questionnaire")
@click.argument("instrument", metavar="ID_OR_FILE")
@click.option("--text", "text_file", type=click.Path(dir_okay=False),
              help="Attach licensed item text first (a TOML or CSV text file, as for "
                   "attach_text in docs/instruments.md).")
@click.option("--language", help="Language of the item text [default: en when present].")
@click.option("--out", type=click.Path(dir_okay=False),
              help="File to write (default: print to standard output).")
def export_questionnaire(instrument: str, text_file: str | None, language: str | None,
                         out: str | None) -> None:
    """Write an instrument as a FHIR R4 Questionnaire (JSON).

    ID_OR_FILE is a bundled instrument id or a definition file. Published
    instruments have no item text: their Questionnaire carries the scoring only,
    unless --text attaches the text your clinic is licensed to use.

    \b
    Example:
      alliance fhir export-questionnaire wai-sr --text our-wai-text.toml --out wai-sr.json
    """
    definition = get_instrument(instrument)
    if text_file:
        definition = attach_text(definition, text_file)
    _write(json.dumps(core_fhir.questionnaire(definition, language=language), indent=2,
                      ensure_ascii=False), out)


@fhir.command("import-questionnaire")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--out", type=click.Path(dir_okay=False),
              help="Definition file (TOML) to write (default: print to standard output).")
def import_questionnaire(file: str, out: str | None) -> None:
    """Read a FHIR R4 Questionnaire (JSON) as an instrument definition (TOML).

    A Questionnaire recognised as a bundled instrument (by url, identifier, name
    or title: WAI-SR, SRS, ORS, PHQ-9, GAD-7, …) keeps the bundled scoring facts
    and gains the Questionnaire's item text. Any other becomes a new definition:
    choice items scored by their ordinalValue, integer and decimal items by
    their minValue/maxValue range. Use the result with `alliance score
    --instrument FILE` or check it with `alliance instruments validate FILE`.

    \b
    Example:
      alliance fhir import-questionnaire phq9-licensed.json --out phq-9-en.toml
    """
    path = Path(file)
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise DefinitionError("file not found", file=file) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DefinitionError(f"not a JSON file: {exc}", file=file) from None
    found = core_fhir.instrument_from_questionnaire(data, source=path.name)
    definition = found.instrument.model_dump(mode="json", exclude_none=True)
    _write(tomli_w.dumps(definition, multiline_strings=True), out)
    if found.known:
        click.echo(f"Recognised as the bundled instrument '{found.known}'.", err=True)
    for note in found.notes:
        click.echo(f"Note: {note}", err=True)
    if not found.instrument.can_administer:
        click.echo(f"Note: {found.instrument.administration_problem}", err=True)


def _write(text: str, out: str | None) -> None:
    if out is None:
        click.echo(text)
        return
    Path(out).write_text(text + "\n", encoding="utf-8")
    click.echo(f"wrote {out}", err=True)


COMMANDS = [fhir]
