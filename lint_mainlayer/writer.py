"""Writing a fixed file without ever losing the original."""

from __future__ import annotations

import os
import stat
import tempfile
from contextlib import suppress
from pathlib import Path


class ChangedOnDisk(Exception):
    """The file changed between reading and writing; it was left alone."""


def write_atomic(path: Path, data: bytes, expected: bytes) -> None:
    """Replace the file's bytes `expected` by `data`, atomically.

    A symlink is followed, so its target is fixed and the link stays a link. The new
    content goes to a temporary file in the same folder, is flushed to disk, takes the
    original's mode (and owner, where allowed), and replaces the original with
    `os.replace`; on any failure the temporary file is removed and the original is intact.
    """
    target = path.resolve()
    current = target.read_bytes()
    if current == data:
        return  # Another run already wrote the same fix.
    if current != expected:
        raise ChangedOnDisk("file changed on disk since it was read; not overwritten")
    info = target.stat()
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, stat.S_IMODE(info.st_mode))
        with suppress(OSError):
            os.chown(tmp, info.st_uid, info.st_gid)
        os.replace(tmp, target)
    except BaseException:
        with suppress(OSError):
            os.unlink(tmp)
        raise
