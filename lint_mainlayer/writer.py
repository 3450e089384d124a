"""Writing a fixed file without ever losing the original.

The new bytes go to a temporary file next to the target, named
`.<name>.lint-mainlayer-<random>.tmp`, are flushed to disk, and replace the target with one
`os.replace`: at every instant the target holds either its old bytes or its new ones. A
failure before the replace (full disk, read-only folder, an exception) removes the
temporary file. A process killed between the write and the replace cannot remove it: the
next write of the same file removes such leftovers once they are `STALE_SECONDS` old
(younger ones may belong to a run still in progress).
"""

from __future__ import annotations

import errno
import os
import re
import stat
import time
from contextlib import suppress
from pathlib import Path

#: What marks a temporary file as ours: `.<name>` + `TEMP_MARK` + random + `.tmp`.
TEMP_MARK = ".lint-mainlayer-"
#: A leftover temporary file this old belongs to no run still in progress.
STALE_SECONDS = 600.0


class ChangedOnDisk(Exception):
    """The file changed between reading and writing; it was left alone."""


def write_atomic(path: Path, data: bytes, expected: bytes) -> None:
    """Replace the file's bytes `expected` by `data`, atomically.

    A symlink is followed, so its target is fixed and the link stays a link. The new
    content goes to a temporary file in the same folder, is flushed to disk, takes the
    original's owner (where allowed) and mode, and replaces the original with
    `os.replace`; on any failure the temporary file is removed and the original is intact.
    Raises `ChangedOnDisk` when the file no longer holds `expected`, and `OSError`
    (`PermissionError` for a file without write permission) when it cannot be written.
    """
    # realpath, not Path.resolve: on Python 3.11 resolve raises RuntimeError on a symlink
    # loop, where reading the file below gives a plain OSError.
    target = Path(os.path.realpath(path))
    current = target.read_bytes()
    if current == data:
        return  # Another run already wrote the same fix.
    if current != expected:
        raise ChangedOnDisk("file changed on disk since it was read; not overwritten")
    info = target.stat()
    if not os.access(target, os.W_OK):
        # Replacing goes through the folder's permissions: without this check a fix would
        # overwrite a file its owner made read-only.
        raise PermissionError(errno.EACCES, "the file is read-only", str(path))
    import tempfile  # here: only fixes write (it imports shutil, random, bz2, lzma)

    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}{TEMP_MARK}", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        # Owner before mode: chown clears the set-user-ID and set-group-ID bits.
        with suppress(OSError):
            os.chown(tmp, info.st_uid, info.st_gid)
        os.chmod(tmp, stat.S_IMODE(info.st_mode))
        if _changed_since(target, info):
            if _read_or_none(target) == data:
                # A concurrent run wrote the same fix first.
                os.unlink(tmp)
                return
            raise ChangedOnDisk("file changed on disk while the fix was written; not overwritten")
        os.replace(tmp, target)
    except BaseException:
        with suppress(OSError):
            os.unlink(tmp)
        raise
    remove_stale_temporaries(target)


def _changed_since(target: Path, info: os.stat_result) -> bool:
    # Narrows the window left between the check of the content and the replace.
    try:
        now = target.stat()
    except OSError:
        return True
    return (now.st_ino, now.st_size, now.st_mtime_ns) != (info.st_ino, info.st_size, info.st_mtime_ns)


def _read_or_none(target: Path) -> bytes | None:
    try:
        return target.read_bytes()
    except OSError:
        return None


def temporary_pattern(target: Path) -> re.Pattern[str]:
    """The names `write_atomic` gives its temporary files for `target`."""
    return re.compile(re.escape(f".{target.name}{TEMP_MARK}") + r"[A-Za-z0-9_]+\.tmp")


def remove_stale_temporaries(target: Path, older_than: float = STALE_SECONDS) -> list[Path]:
    """Remove temporary files a killed run left next to `target`; return what was removed.

    Only regular files with our name pattern, owned by this user and older than
    `older_than` seconds, are removed; errors are ignored (this is housekeeping).
    """
    pattern = temporary_pattern(target)
    removed: list[Path] = []
    limit = time.time() - older_than
    try:
        entries = list(os.scandir(target.parent))
    except OSError:
        return removed
    for entry in entries:
        if not pattern.fullmatch(entry.name):
            continue
        try:
            info = entry.stat(follow_symlinks=False)
            if not stat.S_ISREG(info.st_mode) or info.st_mtime > limit:
                continue
            if hasattr(os, "getuid") and info.st_uid != os.getuid():
                continue
            os.unlink(entry.path)
        except OSError:
            continue
        removed.append(Path(entry.path))
    return removed
