"""Work files: private to the user, removed on every exit path, swept at start (issue 19).

A restore stages the whole database as a plain DuckDB file, an upload is
copied to disk before it is read, a backup is written before it is served:
each is a copy of customer data. They live in one folder of this user's
(`ROOT`, mode 0700, refused when another user owns it), each in a folder or
file of its own named with the process id, and go when their `with` block
ends, by error or not. A process killed outright (kill -9) cannot clean up,
so `sweep()` (run when the dashboard or the command line starts) removes
what a process no longer running left behind.
"""
from __future__ import annotations

import os
import shutil
import stat
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


def root() -> Path:
    """This user's work folder, made private; PermissionError when it is not ours alone."""
    folder = Path(tempfile.gettempdir()) / f"crm-work-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    info = folder.lstat()
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
        raise PermissionError(f"{folder} is not a folder of this user's; remove it")
    if stat.S_IMODE(info.st_mode) != 0o700:
        folder.chmod(0o700)
    return folder


def _prefix(kind: str) -> str:
    """`kind-pid-`: `sweep` reads the process id back (so a kind holds no "-")."""
    if not kind.isalpha():
        raise ValueError(f"a work file kind is one word, got {kind!r}")
    return f"{kind}-{os.getpid()}-"


@contextmanager
def folder(kind: str) -> Iterator[Path]:
    """A private folder for one job, removed with everything in it when the block ends."""
    with tempfile.TemporaryDirectory(prefix=_prefix(kind), dir=root()) as path:
        yield Path(path)


@contextmanager
def file(kind: str, suffix: str = "") -> Iterator[tuple[int, Path]]:
    """A private file (0600) for one job, open as the descriptor given; removed after."""
    fd, path = tempfile.mkstemp(prefix=_prefix(kind), suffix=suffix, dir=root())
    try:
        yield fd, Path(path)
    finally:
        Path(path).unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:   # someone else's process: alive
        return True
    return True


def sweep() -> list[str]:
    """Remove work files of processes that are no longer running; their names."""
    removed = []
    for entry in root().iterdir():
        parts = entry.name.split("-")
        pid = next((int(p) for p in parts[1:2] if p.isdigit()), None)
        if pid is None or pid == os.getpid() or _alive(pid):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
        removed.append(entry.name)
    return removed
