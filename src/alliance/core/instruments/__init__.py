"""Instruments as data: validated, declarative definitions read from TOML files.

An instrument definition declares its items, response scales, subscales and
total, missing-data rule, direction, norms, cutoffs, citation and licence (the
format is described field by field in ``docs/instruments.md``). Scoring is one
generic engine, :mod:`alliance.core.scoring`.

Bundled definitions live in ``definitions/``: the project's own check-ins
(``alliance-client``, ``alliance-therapist``, ``wellbeing``) and the scoring
facts, without item text, of published instruments (``wai-sr``, ``srs``,
``ors``, ``phq-9``, ``gad-7``). A clinic attaches the text it is licensed to use
with :func:`attach_text`.

Example
-------
>>> from alliance.core.instruments import load_bundled
>>> wai = load_bundled("wai-sr")
>>> wai.score_items("bond")
['wai3', 'wai5', 'wai7', 'wai9']
>>> wai.can_administer
False
"""

from .loading import (UnknownInstrumentError, bundled_ids, bundled_instruments,
                      definition_error, get_instrument, load_bundled, load_definition,
                      parse_definition)
from .models import (TOTAL, Anchor, Cutoff, Instrument, Item, LikertScale, MissingDataRule,
                     Norm, NotAdministrableError, OpenQuestion, Score, SliderScale, Subscale,
                     text_in)
from .text import attach_text

__all__ = [
    "TOTAL", "Anchor", "Cutoff", "Instrument", "Item", "LikertScale", "MissingDataRule", "Norm",
    "NotAdministrableError", "OpenQuestion", "Score", "SliderScale", "Subscale",
    "UnknownInstrumentError", "attach_text", "bundled_ids", "bundled_instruments",
    "definition_error", "get_instrument", "load_bundled", "load_definition", "parse_definition",
    "text_in",
]
