"""Files that hold client data, or keys to it, readable by their owner only.

The SQLite database (and its -wal and -shm files), every backup, the audit trail's anchor
and the demo's key files are created 0600, and the data folder holding them 0700, whatever
the process's umask. A file or folder made by an earlier version with looser rights is
tightened when Alliance next opens it (when it may: a file of another user is left alone).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

FILE_MODE = 0o600
FOLDER_MODE = 0o700


def _tighten(path: Path, mode: int) -> None:
    try:
        current = stat.S_IMODE(path.stat().st_mode)
        if current & ~mode:
            os.chmod(path, current & mode)
    except FileNotFoundError:
        pass
    except PermissionError:
        # Not ours (e.g. a folder shared read-only with a backup user): leave it.
        pass


def private_folder(path: str | Path, *, tighten_existing: bool = True) -> Path:
    """Create `path` (and missing parents) if needed, owner-only.

    An existing folder is tightened too (Alliance's own data folder left looser by an
    earlier version), unless `tighten_existing` is false (a folder someone named for their
    backups) or it is a shared folder with the sticky bit, such as /tmp: changing that
    would lock every other user out.
    """
    path = Path(path)
    existed = path.is_dir()
    path.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
    shared = existed and bool(path.stat().st_mode & stat.S_ISVTX)
    if not existed or (tighten_existing and not shared):
        _tighten(path, FOLDER_MODE)
    return path


def private_file(path: str | Path) -> Path:
    """Tighten an existing file to owner-only."""
    path = Path(path)
    _tighten(path, FILE_MODE)
    return path


def new_private_file(path: str | Path) -> Path:
    """Create an empty file, owner-only; fails if it exists (it is never replaced)."""
    path = Path(path)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    return path


def tighten_sqlite(path: str | Path) -> None:
    """The database file and its journals owner-only (SQLite gives a new -wal or -shm
    file the rights of the database file)."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        private_file(f"{path}{suffix}")
