"""Running sympy work under a time and a memory limit, in a forked child process.

sympy cannot be interrupted from inside the process: a derivative that
evaluates a huge constant, or an expansion with millions of terms, runs in
one call until it finishes or memory runs out. The work therefore runs in a
forked child (which shares the parent's loaded modules, so it starts in
milliseconds), with its address space capped (Linux) and a deadline after
which the parent stops it. The child returns bytes (the caller decides the
format); the parent learns which limit, if any, stopped it.

Where ``fork`` is not available the work runs in the process, without limits.

References
----------
.. [1] Python Software Foundation (2024). multiprocessing: process-based
   parallelism, contexts and start methods. Python 3 documentation.
.. [2] The Open Group (2018). The Open Group Base Specifications Issue 7
   (POSIX.1-2017): getrlimit, setrlimit, RLIMIT_AS.
"""

from __future__ import annotations

import multiprocessing as mp
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["Outcome", "limit_memory", "run_bounded"]


@dataclass(frozen=True)
class Outcome:
    """How bounded work ended: ``ok`` with its bytes, or the limit that stopped it."""

    status: Literal["ok", "timeout", "memory", "error", "unbounded"]
    data: bytes = b""
    detail: str = ""


def limit_memory(extra: int) -> None:
    """Cap this process's address space at its current size plus ``extra`` bytes (Linux)."""
    try:
        import resource

        with open("/proc/self/statm") as handle:
            pages = int(handle.read().split()[0])
        limit = pages * os.sysconf("SC_PAGE_SIZE") + extra
        _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard == resource.RLIM_INFINITY or limit < hard:
            resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (ImportError, OSError, ValueError):
        pass  # elsewhere only the time limit applies


def _child(work: Callable[[], bytes], memory: int, conn: Any) -> None:
    limit_memory(memory)
    try:
        conn.send(("ok", work()))
    except MemoryError:
        conn.send(("memory", b""))
    except BaseException as exc:  # every failure is reported to the parent
        conn.send(("error", f"{type(exc).__name__}: {exc}".encode()))
    finally:
        conn.close()


def run_bounded(work: Callable[[], bytes], *, seconds: float, memory: int) -> Outcome:
    """Run ``work`` in a forked child for at most ``seconds`` and ``memory`` extra bytes.

    Parameters
    ----------
    work
        Computes the result and returns it as bytes (it runs in the child).
    seconds
        Wall-clock time limit.
    memory
        Address space the child may add to what it starts with.

    Returns
    -------
    Outcome
        ``ok`` with the bytes, ``timeout``, ``memory``, ``error`` (with the
        exception as text), or ``unbounded`` when fork is not available (the
        caller then runs the work itself).
    """
    if "fork" not in mp.get_all_start_methods():
        return Outcome("unbounded")
    ctx = mp.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)
    worker = ctx.Process(target=_child, args=(work, memory, send), daemon=True)
    worker.start()
    send.close()
    try:
        if not receive.poll(seconds):
            return Outcome("timeout")
        try:
            status, payload = receive.recv()
        except (EOFError, OSError):
            # The child died without a word: the kernel's out-of-memory killer, say.
            return Outcome("memory", detail="the child process was killed")
    finally:
        if worker.is_alive():
            worker.terminate()
        worker.join()
        receive.close()
    if status == "ok":
        return Outcome("ok", payload)
    return Outcome(status, detail=payload.decode(errors="replace"))
