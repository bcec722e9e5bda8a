"""Every file the site hands out: one response, one safe Content-Disposition header.

File names are built from data (a client's code, a date), so the header is built by one
function: control characters (CR, LF, …) and path separators are dropped, the plain
`filename=` holds only `A–Z a–z 0–9 . _ -` (so no quote or backslash can end it early and
every browser reads it), and a name with anything else is given in full as RFC 5987's
`filename*=UTF-8''…` as RFC 6266 describes, which browsers prefer to the plain one.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

from django.http import FileResponse, HttpResponse

_NOT_PLAIN = re.compile(r"[^A-Za-z0-9._-]+")


def content_disposition(filename: str) -> str:
    """`attachment; filename="…"` (and `filename*=UTF-8''…` when the name needs it)."""
    name = unicodedata.normalize("NFC", filename)
    name = "".join("_" if ch in "/\\" else ch for ch in name
                   if unicodedata.category(ch)[0] != "C")
    name = name.strip(" .") or "download"
    plain = _NOT_PLAIN.sub("_", name).strip("._") or "download"
    header = f'attachment; filename="{plain}"'
    if plain != name:
        header += f"; filename*=UTF-8''{quote(name, safe='')}"
    return header


def attachment(content: bytes | str, content_type: str, filename: str) -> HttpResponse:
    """A download of client data: never kept by a browser or a shared cache."""
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition(filename)
    response["Cache-Control"] = "private, no-store"
    return response


def file_attachment(handle, content_type: str, filename: str) -> FileResponse:
    """`attachment` for content in an open binary file, sent in blocks (a large export is
    never held in memory); the response closes the file when sent."""
    response = FileResponse(handle, content_type=content_type)
    response["Content-Disposition"] = content_disposition(filename)
    response["Cache-Control"] = "private, no-store"
    return response
