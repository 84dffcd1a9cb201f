"""Workbook reading in processes of their own, for the dashboard (issue 19, part 2).

openpyxl parses a sheet in pure Python and holds the interpreter lock while it
does. The dashboard runs every session's page in a thread of one process, so a
workbook that takes minutes to read would slow every other session's reruns for
those minutes. The dashboard's reads (`in_worker=True` in engine.ingest) are
therefore done in a small pool of worker processes, started with "spawn"
(forking a threaded server is unsafe), and come back as a frame of Arrow-backed
text, cheap to pass. The workers run at a lower priority (NICENESS): an import
is batch work, a page rerun is someone waiting, and on a busy machine a worker
at the same priority still takes the CPU the server's threads need. The command
line reads in its own process as before. A worker ends when the process that
started it ends, however it ended (a stopped or killed server leaves none behind).

Exceptions come back as raised (ImportRejected pickles whole). The limits
(engine.ingest.limits) are read from the environment while a file is read; the
caller's values go with every task, so a worker applies the limits the caller
has now, not those it had when the worker started.
"""
from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from engine.ingest.limits import LIMITS

WORKERS = 2   # two imports read at once; a third waits for one of them
NICENESS = 10  # added to the workers' nice value (lower priority), as `nice -n 10` would
_pool: ProcessPoolExecutor | None = None
_lock = threading.Lock()


def run(fn, *args):
    """`fn(*args)` in a worker process, under this process's limits; its result or
    exception. BrokenProcessPool when the worker died (killed, out of memory): the
    pool is then replaced for the next call."""
    pool = _executor()
    try:
        return pool.submit(_under_limits, _limit_settings(), fn, *args).result()
    except BrokenProcessPool:
        _forget(pool)
        raise


def _executor() -> ProcessPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            _pool = ProcessPoolExecutor(WORKERS, mp_context=multiprocessing.get_context("spawn"),
                                        initializer=_start_worker, initargs=(NICENESS,))
        return _pool


def _forget(pool: ProcessPoolExecutor) -> None:
    global _pool
    with _lock:
        if _pool is pool:
            _pool = None
    pool.shutdown(wait=False, cancel_futures=True)


def _start_worker(niceness: int) -> None:
    """In a new worker: lower its priority, and end it when its parent ends. The pool's
    queue does not tell a worker so (the worker holds a copy of the queue's writing end
    itself), and a server stopped by a signal does not shut its pool down."""
    os.nice(niceness)
    parent = multiprocessing.parent_process()
    threading.Thread(target=_end_with, args=(parent.sentinel,), daemon=True).start()


def _end_with(sentinel: int) -> None:
    multiprocessing.connection.wait([sentinel])
    os._exit(0)


def _limit_settings() -> dict[str, str | None]:
    """The limits' environment variables as this process has them (None: not set)."""
    return {limit.env: os.environ.get(limit.env) for limit in LIMITS.values()}


def _under_limits(settings: dict[str, str | None], fn, *args):
    """In the worker: take the caller's limits, then run `fn`."""
    for name, value in settings.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    return fn(*args)
