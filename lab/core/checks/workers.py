"""Python checks in worker processes: each evaluation with a time limit and a memory limit.

Why processes. A thread cannot be stopped, and ``sum(range(10**13)) > 0`` spends its hours inside
one C call that never returns to the interpreter, so no signal handler or watchdog thread gets a
turn: only the operating system can stop it. `ExpressionPool` keeps up to `size` worker processes
and reuses them, so a run grading 10,000 outputs pays a process start (a fraction of a second)
once per worker, not once per output; an evaluation then costs about 0.1 ms more than in-process
(bench/python_check_overhead.py). An evaluation that overruns its time limit has its worker killed
(SIGKILL) and the check fails with a reason naming the limit; the next evaluation starts a fresh
worker. A worker that dies (out of memory, a crash) fails its check the same way.

Workers are started with ``spawn`` (a run has threads, and a forked copy of a threaded process can
deadlock), ignore Ctrl-C (the run stops them itself) and, where the ``resource`` module exists
(Linux, macOS), limit their address space (`MEMORY_LIMIT_BYTES`: ``'x' * 10**10`` is then a
MemoryError, a failed check) and their CPU time (a little past the evaluation's time limit, so a
worker whose run was killed outright cannot spin on forever). No core files.

`evaluate` blocks its thread until the worker answers or the limit passes; the runner calls it
from a thread of its own, never on its event loop. `abort` (a cancelled run) kills the busy
workers at once: their evaluations raise `EvaluationStopped`, which is no verdict on the output.
`close` stops every worker and waits for it; pools still open at interpreter exit are closed then.
"""

from __future__ import annotations

import atexit
import math
import multiprocessing
import os
import signal
import threading
import weakref
from multiprocessing.connection import Connection
from typing import Any

# Only the expression module, which needs nothing but the standard library: a worker process
# imports this module to start, and should start fast.
from lab.core.checks.expression import DEFAULT_TIMEOUT_S
from lab.core.checks.expression import evaluate as evaluate_here

MEMORY_LIMIT_BYTES = 1024**3
START_TIMEOUT_S = 60.0  # a worker process must be ready within this (a loaded machine is slow)
Result = tuple[bool, float | None, str]


class EvaluationStopped(Exception):
    """The pool was stopped (the run was cancelled) before this expression's evaluation ended:
    no verdict either way on the output."""


def default_size() -> int:
    """Workers a pool keeps: one per core, at most 4 (a check is short; calls are the slow part)."""
    return max(1, min(4, os.cpu_count() or 1))


def _memory_text(limit: int) -> str:
    gib = limit / 1024**3
    return f"{gib:g} GiB" if gib >= 1 else f"{limit / 1024**2:g} MiB"


# ----- the worker process ------------------------------------------------------------------------


def _set_soft_limit(which: int, value: int) -> None:
    import resource

    try:
        _, hard = resource.getrlimit(which)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        resource.setrlimit(which, (value, hard))
    except (ValueError, OSError):  # not allowed or not supported here: go without
        pass


def _limit_process(memory_limit: int | None) -> None:
    try:
        import resource
    except ImportError:  # Windows: no rlimits; the time limit still holds (the parent kills)
        return
    _set_soft_limit(resource.RLIMIT_CORE, 0)
    if memory_limit:
        _set_soft_limit(resource.RLIMIT_AS, memory_limit)


def _limit_cpu(timeout: float) -> None:
    """Let the kernel end this worker (SIGXCPU) a little after the parent would have: a safety net
    for when the parent is gone (killed outright) and cannot stop an endless expression."""
    try:
        import resource
    except ImportError:
        return
    usage = resource.getrusage(resource.RUSAGE_SELF)
    # CPU time never outruns wall time here (one thread), so the parent, which kills at `timeout`
    # of wall time, always acts first while it lives.
    _set_soft_limit(resource.RLIMIT_CPU, math.ceil(usage.ru_utime + usage.ru_stime + timeout) + 1)


def _serve(conn: Connection, memory_limit: int | None) -> None:
    """A worker's life: evaluate jobs from `conn` until told to stop or the parent is gone."""
    # Ctrl-C reaches the terminal's whole process group; it is for the run, which stops us itself.
    # (The parent started us with SIGINT blocked, so not even our start could be interrupted.)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    _limit_process(memory_limit)
    memory = _memory_text(memory_limit) if memory_limit else None
    try:
        conn.send("ready")
        while True:
            job = conn.recv()
            if job is None:
                return
            expression, output, variables, pass_threshold, timeout = job
            _limit_cpu(timeout)
            try:
                result = evaluate_here(expression, output, variables, pass_threshold,
                                       memory_limit=memory)
            except MemoryError:  # while making the reason, say
                result = (False, None, f"python check used more than {memory} of memory; stopped")
            except Exception as exc:  # a syntax error: the parent validates first, but never die
                result = (False, None, f"python check could not run: {type(exc).__name__}: {exc}")
            conn.send(result)
    except (EOFError, OSError):
        return  # the parent went away (a run killed outright): end quietly


# ----- the pool, in the parent -------------------------------------------------------------------


class _Worker:
    def __init__(self, context: Any, memory_limit: int | None) -> None:
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_serve, args=(child, memory_limit),
                                       name="lab-python-check", daemon=True)
        blocks = hasattr(signal, "pthread_sigmask")  # a child inherits its parent thread's mask
        if blocks:
            old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            self.process.start()
        finally:
            if blocks:
                signal.pthread_sigmask(signal.SIG_SETMASK, old)
            child.close()
        try:
            ready = self.conn.poll(START_TIMEOUT_S) and self.conn.recv() == "ready"
        except (EOFError, OSError):
            ready = False
        if not ready:
            self.stop()
            raise OSError(f"the worker process did not start within {START_TIMEOUT_S:g} s")

    def kill(self) -> None:
        """Stop the process at once (any thread; the thread using `conn` then sees EOF)."""
        if self.process.is_alive():
            self.process.kill()
        self.process.join(5)

    def stop(self, *, politely: bool = False) -> None:
        if politely and self.process.is_alive():
            try:
                self.conn.send(None)
                self.process.join(1)
            except OSError:
                pass
        self.kill()
        self.conn.close()


class ExpressionPool:
    """Worker processes evaluating python checks with a time limit; thread-safe.

        with ExpressionPool() as pool:
            passed, score, reason = pool.evaluate("len(output) < 200", output, case.vars)

    Workers start when first needed (a run without python checks starts none).
    """

    def __init__(self, size: int | None = None, *,
                 memory_limit: int | None = MEMORY_LIMIT_BYTES) -> None:
        self.size = size or default_size()
        self.memory_limit = memory_limit
        self._context = multiprocessing.get_context("spawn")
        self._lock = threading.Condition()
        self._idle: list[_Worker] = []
        self._busy: set[_Worker] = set()
        self._count = 0  # workers started or starting, not yet stopped
        self._closed = False
        _open_pools.add(self)

    def __enter__(self) -> ExpressionPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def pids(self) -> list[int]:
        """Process ids of the live workers (for tests and diagnostics)."""
        with self._lock:
            return [w.process.pid for w in (*self._idle, *self._busy) if w.process.pid]

    def evaluate(self, expression: str, output: str, variables: dict[str, Any],
                 pass_threshold: float = 0.5, timeout: float = DEFAULT_TIMEOUT_S) -> Result:
        """(passed, score, reason), like `lab.core.checks.expression.evaluate`, but an expression
        still running after `timeout` seconds is stopped and fails. Waiting for a free worker
        does not count against the limit. Raises `EvaluationStopped` if the pool is (or gets)
        stopped first."""
        try:
            worker = self._acquire()
        except OSError as exc:
            return False, None, f"python check could not start its worker process: {exc}"
        if worker is None:
            raise EvaluationStopped("the python-check workers were stopped")
        healthy = False
        try:
            worker.conn.send((expression, output, dict(variables), pass_threshold, timeout))
            if worker.conn.poll(timeout):
                result = worker.conn.recv()
                healthy = True
            else:
                result = (False, None, f"python check took longer than {timeout:g} s; stopped "
                          "(its 'timeout' option allows more)")
        except (EOFError, OSError):
            worker.kill()
            code = worker.process.exitcode
            if self._closed:
                raise EvaluationStopped("the python-check workers were stopped") from None
            if code in (-getattr(signal, "SIGKILL", 9), -getattr(signal, "SIGXCPU", 24)):
                why = "it was killed (out of memory or CPU time?)"
            else:
                why = f"its worker process ended (exit status {code})"
            result = (False, None, f"python check stopped: {why}")
        finally:
            self._release(worker, healthy)
        return result

    def abort(self) -> None:
        """Stop at once, from any thread, without waiting: busy workers are killed (their
        evaluations raise `EvaluationStopped`), and no new evaluation starts. `close` reaps."""
        with self._lock:
            self._closed = True
            busy = list(self._busy)
            self._lock.notify_all()
        for worker in busy:
            if worker.process.is_alive():
                worker.process.kill()  # a signal; the evaluating thread joins it

    def close(self) -> None:
        """Stop every worker and wait for it; an evaluation in progress raises
        `EvaluationStopped`. Idempotent."""
        with self._lock:
            self._closed = True
            idle, busy = self._idle, list(self._busy)
            self._idle = []
            self._count -= len(idle)
            self._lock.notify_all()
        for worker in busy:
            worker.kill()  # its evaluating thread sees EOF, and closes the connection
        for worker in idle:
            worker.stop(politely=True)
        _open_pools.discard(self)

    def _acquire(self) -> _Worker | None:
        with self._lock:
            while True:
                if self._closed:
                    return None
                if self._idle:
                    worker = self._idle.pop()
                    self._busy.add(worker)
                    return worker
                if self._count < self.size:
                    self._count += 1
                    break
                self._lock.wait()
        try:  # started outside the lock: other threads keep using the idle workers meanwhile
            worker = _Worker(self._context, self.memory_limit)
        except BaseException:
            with self._lock:
                self._count -= 1
                self._lock.notify()
            raise
        with self._lock:
            if not self._closed:
                self._busy.add(worker)
                return worker
            self._count -= 1
        worker.stop()
        return None

    def _release(self, worker: _Worker, healthy: bool) -> None:
        with self._lock:
            self._busy.discard(worker)
            keep = healthy and not self._closed
            if keep:
                self._idle.append(worker)
            else:
                self._count -= 1
            self._lock.notify()
        if not keep:
            worker.stop(politely=healthy)


_open_pools: weakref.WeakSet[ExpressionPool] = weakref.WeakSet()


@atexit.register
def _close_open_pools() -> None:
    for pool in list(_open_pools):
        pool.close()
