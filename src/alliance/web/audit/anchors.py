"""The audit trail's anchor: the id and hash of its latest event, kept outside the database.

A hash chain shows an altered or deleted event, but not a trail cut short at its end or
rewritten from some event on: for that, verify compares the chain with an event written
down earlier. Alliance keeps that anchor itself, in a file of the data folder
(`AUDIT_ANCHOR_FILE`, owner-only, `var/audit-anchor` by default): after every committed
event it moves forward to that event (never back), and `alliance backup` records it too.
`alliance audit verify` checks against it by default. Someone who can rewrite the table
but not the server's files (an SQL injection, a database account) is caught; someone who
holds both can change both, so ship `verify`'s printed anchor elsewhere too.

A restore puts an older trail back on purpose: it sets the anchor to the restored trail's
last event (`reset`).
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from django.conf import settings

from alliance.web.private_files import FILE_MODE, private_folder


def anchor_file() -> Path | None:
    path = getattr(settings, "AUDIT_ANCHOR_FILE", None)
    return Path(path) if path else None


def _parse(text: str) -> tuple[int, str] | None:
    number, _, digest = text.strip().partition(":")
    if number.isdigit() and len(digest) == 64:
        return int(number), digest
    return None


def latest() -> tuple[int, str] | None:
    """The kept anchor (event id, hash), or None when there is none yet."""
    path = anchor_file()
    if path is None or not path.exists():
        return None
    return _parse(path.read_text(encoding="ascii", errors="replace"))


def keep(event_id: int, event_hash: str, *, force: bool = False) -> None:
    """Move the anchor to this event if it is later than the kept one (or always, `force`).

    Called after the event's transaction committed, so the anchor never names an event that
    was rolled back. Processes take turns through a lock on the file.
    """
    path = anchor_file()
    if path is None:
        return
    private_folder(path.parent)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, FILE_MODE)
    with os.fdopen(descriptor, "r+", encoding="ascii") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        current = _parse(handle.read())
        if force or current is None or event_id > current[0]:
            handle.seek(0)
            handle.truncate()
            handle.write(f"{event_id}:{event_hash}\n")
            handle.flush()


def keep_after_commit(event) -> None:
    if anchor_file() is None:
        return
    from django.db import transaction

    event_id, event_hash = event.id, event.hash
    transaction.on_commit(lambda: keep(event_id, event_hash))


def reset() -> tuple[int, str] | None:
    """Set the anchor to the trail's last event as it is now (after a restore)."""
    from alliance.web.audit.models import Event

    last = Event.objects.order_by("-id").values_list("id", "hash").first()
    if last is not None:
        keep(*last, force=True)
    return last
