"""DaemonCore: one event loop per daemon process, on asyncio.

HTCondor's DaemonCore (src/condor_daemon_core.V6/daemon_core.cpp, timer_manager.cpp) is a
select loop with tables of handlers for commands, timers, signals, reaped children and
sockets. pyhtc keeps that model on an asyncio loop:

- ``register_timer(delay, handler, period=None)``: call ``handler()`` after ``delay`` seconds,
  then every ``period`` seconds (HTCondor's ``Register_Timer(deltawhen, period, ...)``);
- ``register_signal(signum, handler)``: ``handler(signum)`` on the loop when the process
  receives the signal;
- ``register_reaper(name, handler)`` + ``create_process(args, reaper_id=...)``: start a child
  and get ``handler(pid, exit_status)`` (a ``waitpid`` status) on the loop when it exits.
  Children are watched through a pidfd, so no SIGCHLD handler competes with anyone;
- ``run_in_thread(fn, *args, reaper=cb)``: blocking work in a worker thread; ``cb(result,
  exception)`` runs on the loop when it finishes;
- ``register_socket(fileobj, handler)``: ``handler(fileobj)`` when it is readable.

Handlers run on the loop and must return quickly. A handler may return a coroutine: it is
then run as a task owned by this DaemonCore (tracked, and cancelled at shutdown), so every
task has an owner. Exceptions escaping a handler are logged, never kill the loop.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import inspect
import itertools
import os
import signal
import subprocess
import time
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from .log import Category, DebugLog
from .stats import LoopStats, TimedSelector

__all__ = ["DaemonCore", "Timer", "ProcessInfo"]


@dataclass
class Timer:
    """A registered timer (see :meth:`DaemonCore.register_timer`)."""

    tid: int
    name: str
    handler: Callable[[], Any]
    period: Optional[float]
    when: float
    handle: Optional[asyncio.TimerHandle] = None


@dataclass
class ProcessInfo:
    """A child started by :meth:`DaemonCore.create_process`."""

    pid: int
    args: list
    reaper_id: Optional[int]
    popen: Optional[subprocess.Popen]
    started: float
    pidfd: int = -1
    extra: dict = field(default_factory=dict)
    #: ``signaller(pid, signum) -> bool`` for a child that is not an OS process (a thread of
    #: a fork server run in threads mode, :mod:`.zygote`); None: ``os.kill``
    signaller: Optional[Callable[[int, int], bool]] = None


class DaemonCore:
    """The per-process event loop and its handler tables.

    ``log`` is the daemon's :class:`DebugLog`. The loop is created by :meth:`run` (or pass
    one that is already running via :meth:`attach`). All ``register_*`` methods must be
    called from the loop's thread.
    """

    def __init__(self, log: Optional[DebugLog] = None):
        self.log = log or DebugLog()
        self.loop: Optional[asyncio.AbstractEventLoop] = None
        self._ids = itertools.count(1)
        self.timers: dict[int, Timer] = {}
        self.signals: dict[int, Callable[[int], Any]] = {}
        self.reapers: dict[int, tuple[str, Callable[[int, int], Any]]] = {}
        self.children: dict[int, ProcessInfo] = {}
        self.sockets: dict[int, tuple[Any, Callable]] = {}
        self.tasks: set[asyncio.Task] = set()
        self._executor: Optional[concurrent.futures.ThreadPoolExecutor] = None
        self._stopped: Optional[asyncio.Future] = None
        self._shutdown_hooks: list = []
        self.exit_status = 0
        #: select-wait and pump-cycle times of the loop :meth:`run` creates (duty cycle)
        self.loop_stats = LoopStats()

    # -- running ---------------------------------------------------------------------
    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """Use an existing (running or about to run) event loop."""
        self.loop = loop
        self._stopped = loop.create_future()

    async def serve_forever(self) -> int:
        """Run until :meth:`stop` is called; return the exit status given to it."""
        if self.loop is None:
            self.attach(asyncio.get_running_loop())
        await self._stopped
        await self._shutdown()
        return self.exit_status

    def run(self, main: Callable[[], Any]) -> int:
        """Create a loop, call ``main()`` on it (it registers handlers), run until
        :meth:`stop`, and return the exit status."""

        async def runner():
            self.attach(asyncio.get_running_loop())
            self.call_handler(main)
            return await self.serve_forever()

        # the loop's selector is timed: DaemonCoreDutyCycle (see pyhtc.daemoncore.stats)
        factory = lambda: asyncio.SelectorEventLoop(TimedSelector(self.loop_stats))  # noqa: E731
        with asyncio.Runner(loop_factory=factory) as runner_:
            return runner_.run(runner())

    def stop(self, status: int = 0) -> None:
        """Leave the loop (from a handler): cancels owned tasks and timers, then returns."""
        self.exit_status = status
        if self._stopped is not None and not self._stopped.done():
            self._stopped.set_result(status)

    def add_shutdown_hook(self, hook: Callable[[], Any]) -> None:
        """Call ``hook()`` (awaited if it returns an awaitable) when the loop is left,
        before owned tasks are cancelled; hooks run in reverse order of registration."""
        self._shutdown_hooks.append(hook)

    async def _shutdown(self) -> None:
        for hook in reversed(self._shutdown_hooks):
            try:
                r = hook()
                if inspect.isawaitable(r):
                    await r
            except Exception:
                self.log.dprintf(Category.ERROR, "ERROR: shutdown hook failed:\n" + traceback.format_exc())
        for t in list(self.timers.values()):
            if t.handle:
                t.handle.cancel()
        self.timers.clear()
        for fd in list(self.sockets):
            self.cancel_socket(fd)
        for info in list(self.children.values()):
            if info.pidfd >= 0:
                self.loop.remove_reader(info.pidfd)
                os.close(info.pidfd)
                info.pidfd = -1
        for signum in list(self.signals):
            self.loop.remove_signal_handler(signum)
        self.signals.clear()
        tasks = [t for t in self.tasks if not t.done()]
        for t in tasks:
            t.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None

    # -- handlers --------------------------------------------------------------------
    def call_handler(self, fn: Callable, *args) -> Any:
        """Call a handler; log (never raise) its exceptions; run a returned coroutine as an
        owned task. Returns the handler's result (or the task)."""
        try:
            result = fn(*args)
        except Exception:  # a handler's bug must not kill the daemon
            self.log.dprintf(Category.ERROR, "ERROR: handler %s raised:\n%s"
                             % (getattr(fn, "__qualname__", fn), traceback.format_exc()))
            return None
        if inspect.iscoroutine(result):
            return self.spawn(result, name=getattr(fn, "__qualname__", "handler"))
        return result

    def spawn(self, coro, name: str = "task") -> asyncio.Task:
        """Run ``coro`` as a task owned by this DaemonCore (cancelled at shutdown)."""
        task = self.loop.create_task(coro, name=name)
        self.tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            exc = task.exception()
            self.log.dprintf(Category.ERROR, "ERROR: task %s failed:\n%s" % (
                task.get_name(), "".join(traceback.format_exception(exc))))

    # -- timers ----------------------------------------------------------------------
    def register_timer(self, delay: float, handler: Callable[[], Any],
                       period: Optional[float] = None, name: str = "") -> int:
        """Call ``handler()`` in ``delay`` seconds, then every ``period`` seconds if given.
        Returns the timer id. A periodic timer's next run is scheduled after the handler
        returns (as HTCondor's timer manager does), so a slow handler never piles up."""
        tid = next(self._ids)
        t = Timer(tid, name or getattr(handler, "__qualname__", "timer"), handler, period,
                  self.loop.time() + max(0.0, delay))
        self.timers[tid] = t
        t.handle = self.loop.call_at(t.when, self._fire_timer, tid)
        return tid

    def reset_timer(self, tid: int, delay: float, period: Optional[float] = -1) -> None:
        """Reschedule timer ``tid`` to fire in ``delay`` seconds (``period`` -1 keeps it)."""
        t = self.timers[tid]
        if t.handle:
            t.handle.cancel()
        if period != -1:
            t.period = period
        t.when = self.loop.time() + max(0.0, delay)
        t.handle = self.loop.call_at(t.when, self._fire_timer, tid)

    def cancel_timer(self, tid: int) -> bool:
        """Cancel a timer; returns False if it no longer exists."""
        t = self.timers.pop(tid, None)
        if t is None:
            return False
        if t.handle:
            t.handle.cancel()
        return True

    def _fire_timer(self, tid: int) -> None:
        t = self.timers.get(tid)
        if t is None:
            return
        if t.period is None:
            del self.timers[tid]
        self.call_handler(t.handler)
        if t.period is not None and tid in self.timers:
            t.when = self.loop.time() + t.period
            t.handle = self.loop.call_at(t.when, self._fire_timer, tid)

    # -- signals ---------------------------------------------------------------------
    def register_signal(self, signum: int, handler: Callable[[int], Any]) -> None:
        """Call ``handler(signum)`` on the loop whenever the process receives ``signum``."""
        self.signals[signum] = handler
        self.loop.add_signal_handler(signum, self._on_signal, signum)

    def cancel_signal(self, signum: int) -> None:
        """Restore the default disposition of ``signum``."""
        if self.signals.pop(signum, None) is not None:
            self.loop.remove_signal_handler(signum)

    def _on_signal(self, signum: int) -> None:
        handler = self.signals.get(signum)
        self.log.dprintf(Category.DAEMONCORE, "Got signal %s" % signal.Signals(signum).name)
        if handler is not None:
            self.call_handler(handler, signum)

    # -- children and reapers ---------------------------------------------------------
    def register_reaper(self, name: str, handler: Callable[[int, int], Any]) -> int:
        """Register ``handler(pid, status)`` (status as from ``os.waitpid``); returns its id."""
        rid = next(self._ids)
        self.reapers[rid] = (name, handler)
        return rid

    def create_process(self, args: list, reaper_id: Optional[int] = None, *,
                       env: Optional[dict] = None, cwd: Optional[str] = None,
                       stdin=None, stdout=None, stderr=None, pass_fds: tuple = (),
                       new_session: bool = False, preexec_fn=None) -> int:
        """Start ``args`` as a child; when it exits, reaper ``reaper_id`` gets
        ``(pid, status)``. Raises OSError if it cannot be started. Returns the pid."""
        popen = subprocess.Popen(args, env=env, cwd=cwd, stdin=stdin, stdout=stdout,
                                 stderr=stderr, pass_fds=pass_fds, close_fds=True,
                                 start_new_session=new_session, preexec_fn=preexec_fn)
        info = ProcessInfo(popen.pid, list(args), reaper_id, popen, time.time())
        self.children[popen.pid] = info
        info.pidfd = os.pidfd_open(popen.pid)
        self.loop.add_reader(info.pidfd, self._on_child_exit, popen.pid)
        self.log.dprintf(Category.DAEMONCORE, "Created process %d: %s" % (popen.pid, " ".join(map(str, args))))
        return popen.pid

    def register_child(self, pid: int, args: list, reaper_id: Optional[int],
                       signaller: Optional[Callable[[int, int], bool]] = None) -> ProcessInfo:
        """Track a child started elsewhere (a fork server, :mod:`.zygote`): :meth:`send_signal`
        accepts it (through ``signaller(pid, signum) -> bool`` when given: a child that is a
        thread of another process) and :meth:`deliver_exit` runs its reaper."""
        info = ProcessInfo(pid, list(args), reaper_id, None, time.time(), signaller=signaller)
        self.children[pid] = info
        self.log.dprintf(Category.DAEMONCORE, "Created process %d: %s" % (pid, " ".join(map(str, args))))
        return info

    def deliver_exit(self, pid: int, status: int) -> None:
        """A child registered with :meth:`register_child` exited with ``status`` (a
        ``waitpid`` status; negative when it is unknown): forget it and run its reaper."""
        info = self.children.pop(pid, None)
        if info is None:
            return
        self.log.dprintf(Category.DAEMONCORE, "Process %d exited, status %d" % (pid, status))
        if info.reaper_id is not None and info.reaper_id in self.reapers:
            self.call_handler(self.reapers[info.reaper_id][1], pid, status)

    def send_signal(self, pid: int, signum: int) -> bool:
        """Send ``signum`` to a child we created (False if it is already gone)."""
        info = self.children.get(pid)
        if info is None:
            return False
        if info.signaller is not None:
            return info.signaller(pid, signum)
        try:
            os.kill(pid, signum)
            return True
        except ProcessLookupError:
            return False

    def _on_child_exit(self, pid: int) -> None:
        info = self.children.get(pid)
        if info is None or info.popen is None:
            return
        try:
            wpid, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            wpid, status = pid, 0
        if wpid == 0:
            return
        self.loop.remove_reader(info.pidfd)
        os.close(info.pidfd)
        info.pidfd = -1
        del self.children[pid]
        info.popen.returncode = os.waitstatus_to_exitcode(status)
        self.log.dprintf(Category.DAEMONCORE, "Process %d exited, status %d" % (pid, status))
        if info.reaper_id is not None and info.reaper_id in self.reapers:
            self.call_handler(self.reapers[info.reaper_id][1], pid, status)

    # -- worker threads --------------------------------------------------------------
    def run_in_thread(self, fn: Callable, *args,
                      reaper: Optional[Callable[[Any, Optional[BaseException]], Any]] = None
                      ) -> asyncio.Future:
        """Run blocking ``fn(*args)`` in a worker thread. When it finishes, ``reaper(result,
        exception)`` runs on the loop. Returns an awaitable future."""
        if self._executor is None:
            self._executor = concurrent.futures.ThreadPoolExecutor(
                max_workers=4, thread_name_prefix="dc-worker")
        fut = self.loop.run_in_executor(self._executor, fn, *args)
        if reaper is not None:
            def done(f: asyncio.Future):
                if f.cancelled():
                    return
                exc = f.exception()
                self.call_handler(reaper, None if exc else f.result(), exc)
            fut.add_done_callback(done)
        return fut

    # -- sockets ---------------------------------------------------------------------
    def register_socket(self, fileobj, handler: Callable[[Any], Any], name: str = "") -> int:
        """Call ``handler(fileobj)`` whenever ``fileobj`` (socket, pipe or fd) is readable."""
        fd = fileobj if isinstance(fileobj, int) else fileobj.fileno()
        self.sockets[fd] = (fileobj, handler)
        self.loop.add_reader(fd, lambda: self.call_handler(handler, fileobj))
        return fd

    def cancel_socket(self, fileobj) -> None:
        """Stop watching a socket registered with :meth:`register_socket`."""
        fd = fileobj if isinstance(fileobj, int) else fileobj.fileno()
        if self.sockets.pop(fd, None) is not None:
            self.loop.remove_reader(fd)
