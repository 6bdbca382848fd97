"""A fork server ("zygote") for daemons that start many short-lived Python children.

HTCondor's schedd starts one ``condor_shadow`` per running job and the startd one
``condor_starter`` per activation (src/condor_schedd.V6/schedd.cpp StartJob ->
Create_Process; src/condor_startd.V6/starter.cpp Starter::spawn).  Those are C++ programs
that start in milliseconds; pyhtc's are Python programs that spend 0.15-0.4 s importing
themselves.  A zygote pays that once: it is a small child of the daemon, started with the
daemon's first request, that has already imported the program's module and forks a fresh
child per request.  The fork happens in the zygote, a single-threaded process, never in
the multi-threaded daemon.

Protocol (JSON, one object a line, over a ``socketpair`` the zygote inherits as fd
``argv[1]``):

- daemon -> zygote: ``{"id": n, "module": "pkg.mod", "argv": [...], "env": {...},
  "cwd": path or null, "new_session": bool, "devnull_stdin": bool}``;
- zygote -> daemon: ``{"id": n, "pid": pid}`` right after the fork (or ``{"id": n,
  "error": text}``), then, when that child exits, ``{"pid": pid, "status": s}`` with the
  raw ``waitpid`` status.  Replies are in order, so a child's exit always follows its pid.
  A threads-mode server also says ``{"ready": true}`` once it has imported and warmed up.

The child resets the zygote's signal dispositions, takes ``env`` as its whole environment,
changes to ``cwd``, starts a new session when asked (so that it survives its daemon and
the zygote: a shadow finishes its job after a schedd crash) and calls the module's
``main(argv)``; its return value is the exit code (``os._exit``).  With
``PYHTC_ZYGOTE_PROFILE=<dir>`` in the child's environment, each child writes a cProfile of its
``main`` to ``<dir>/<module>.<pid>.prof`` (in CPU seconds of the process instead of wall-clock
seconds when ``PYHTC_ZYGOTE_PROFILE_CLOCK=cpu`` is set too).

Contract with the served modules: a module may name, in ``FORK_SERVER_PRELOAD``, the
modules it imports lazily (the zygote imports them too), and may define
``fork_server_warmup()``: the zygote calls it once, after the imports and before serving,
to fill per-process caches its children then inherit (e.g. ``Config.load`` as ``main``
calls it, whose memo makes the children's load a copy -- see
:meth:`pyhtc.config.Config.load` -- or a probe of the cgroup hierarchies).  It runs in the
zygote's environment, not the child's; whatever it caches must be keyed so that a
different environment simply misses.  An exception in it is printed to the zygote's
stderr and otherwise ignored.

:class:`Zygote` is the daemon's side: :meth:`Zygote.create_process` returns the child's
pid at once and runs the DaemonCore reaper with the exit status later, exactly as
:meth:`pyhtc.daemoncore.core.DaemonCore.create_process` does (``send_signal`` works too).
When the zygote dies, its children keep running; the daemon then watches each through a
pidfd and reports an unknown status (-1) when it exits, and the next request starts a new
zygote.  When no zygote can be started the daemon falls back to ``create_process``.

**Threads mode** (``Zygote(..., threads=True)``; the schedd's shadows, SHADOW_THREADS): the
server forks nothing.  It runs each request as a thread of its own, long-lived process:
``module.thread_main(argv, env, child)`` with ``env`` the request's environment as a dict
(``os.environ`` is not changed) and ``child`` a :class:`ThreadChild`, and its return value is
the exit code, reported as a ``waitpid`` status (``code << 8``).  Each thread has a *virtual
pid* the daemon picks (``"vpid"`` in the request, between 2**30 and 2**31: never a real
pid, so a stray ``kill`` of one finds no process), under which DaemonCore tracks it as a
child; ``send_signal`` on it sends ``{"signal": n, "pid": vpid}``, which the server appends
to ``child.signals`` (and calls ``child.on_signal()``).  The server runs in its own session
and, when the daemon closes the socket or dies, accepts nothing more, lets its threads
finish, then exits: like forked children, the threads outlive a crashed daemon.  When the
server itself dies, its threads die with it: the daemon reports status -1 for each.  The
point is cost: a thread saves a child's fork, set-up, copy-on-write faults and exit (about
5-7 ms of CPU per shadow here), and a crash of one thread (an exception) is confined to it.
"""
from __future__ import annotations

import errno
import gc
import importlib
import json
import os
import select
import signal
import socket
import sys
import threading
import time
import traceback
from typing import Callable, Optional

__all__ = ["ThreadChild", "Zygote", "encode_message", "serve", "THREADS_FLAG", "VPID_BASE"]

#: the argument that puts :func:`serve` in threads mode
THREADS_FLAG = "--threads"
#: virtual pids of thread children are in [VPID_BASE, 2 * VPID_BASE): above any pid_max
VPID_BASE = 1 << 30



def encode_message(obj: dict) -> bytes:
    """One message of the fork server's protocol: compact JSON and a newline."""
    return json.dumps(obj, separators=(",", ":")).encode() + b"\n"

class _Conn:
    """Line-framed JSON over a stream socket (blocking reads, buffered)."""

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.buf = b""

    def send(self, obj: dict) -> None:
        self.sock.sendall(encode_message(obj))

    def read_available(self) -> Optional[list]:
        """Read once (the socket must be readable); the complete messages, or None at EOF."""
        try:
            data = self.sock.recv(65536)
        except BlockingIOError:
            return []
        except ConnectionError:
            data = b""
        if not data:
            return None
        self.buf += data
        out = []
        while b"\n" in self.buf:
            line, self.buf = self.buf.split(b"\n", 1)
            out.append(json.loads(line))
        return out


# -- the zygote process -----------------------------------------------------------------
def _crashed() -> int:
    """Print the exception being handled (best effort); the exit code 1."""
    try:
        traceback.print_exc()
        sys.stderr.flush()
    except BaseException:
        pass
    return 1


def _call(env, tag: str, fn, *args, thread: bool = False) -> int:
    """``fn(*args)`` as a child's main: its return value as an exit code (not an int: 0),
    SystemExit's code, 1 (traceback on stderr) for any other exception.  With
    ``PYHTC_ZYGOTE_PROFILE=<dir>`` in ``env`` it runs under cProfile, written to
    ``<dir>/<tag>.prof``, in CPU seconds (of the process, or of the thread with ``thread``)
    when ``PYHTC_ZYGOTE_PROFILE_CLOCK=cpu`` too, else wall-clock seconds."""
    try:
        prof_dir = env.get("PYHTC_ZYGOTE_PROFILE")
        if prof_dir:
            import cProfile
            cpu = env.get("PYHTC_ZYGOTE_PROFILE_CLOCK", "").lower() == "cpu"
            clock = (time.thread_time if thread else time.process_time) if cpu else None
            prof = cProfile.Profile(clock) if clock else cProfile.Profile()
            try:
                rc = prof.runcall(fn, *args)
            finally:
                prof.dump_stats(os.path.join(prof_dir, f"{tag}.prof"))
        else:
            rc = fn(*args)
        return rc if isinstance(rc, int) else 0
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:
        return _crashed()


def _child(req: dict, sock: socket.socket, wake_fds: tuple) -> None:
    """In the forked child: become the requested program; never returns."""
    code = 1
    try:
        sock.close()
        for fd in wake_fds:
            os.close(fd)
        signal.set_wakeup_fd(-1)
        for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGQUIT, signal.SIGINT, signal.SIGHUP,
                    signal.SIGTSTP, signal.SIGCONT, signal.SIGPIPE):
            signal.signal(sig, signal.SIG_DFL)
        if req.get("new_session"):
            os.setsid()
        if req.get("devnull_stdin"):
            fd = os.open(os.devnull, os.O_RDONLY)
            os.dup2(fd, 0)
            os.close(fd)
        _replace_environ(req.get("env") or {})
        if req.get("cwd"):
            os.chdir(req["cwd"])
        mod = sys.modules.get(req["module"]) or importlib.import_module(req["module"])
        argv = list(req.get("argv") or [])
        _set_cmdline([sys.executable, "-m", req["module"]] + argv)
        sys.argv = [getattr(mod, "__file__", req["module"])] + argv
        code = _call(os.environ, f"{req['module']}.{os.getpid()}", mod.main, argv)
    except BaseException:   # the set-up failed
        code = _crashed()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except BaseException:
            pass
        os._exit(code & 0xFF)


def _replace_environ(env: dict) -> None:
    """Make ``os.environ`` (and the C environment) exactly ``env``, changing only what
    differs: a daemon asks for nearly the environment the zygote inherited from it."""
    cur = os.environ
    for key in [k for k in cur if k not in env]:
        del cur[key]
    for key, value in env.items():
        if cur.get(key) != value:
            cur[key] = value


#: room left in the zygote's own command line for its children's (see :func:`_set_cmdline`)
CMDLINE_ROOM = 4096
_PR_SET_MM, _PR_SET_MM_ARG_END = 35, 9


class _ArgArea:
    """Where the zygote's argument strings are in its memory (proc(5) ``arg_start`` /
    ``arg_end`` of /proc/self/stat) and how to rewrite them, found once in the zygote
    (:meth:`probe`): a fork keeps the address space, so every child writes its command line
    at the same addresses without reading /proc again."""

    start = end = 0          # the argument area [start, end); 0, 0: unknown
    memmove = None           # ctypes.memmove once probed
    prctl = None             # libc prctl when PR_SET_MM_ARG_END is permitted here, else None
    c_ulong = None

    @classmethod
    def probe(cls) -> None:
        """Read the argument area's bounds and try PR_SET_MM_ARG_END once (setting the end
        to where it already is: a no-op when permitted; EPERM without CAP_SYS_RESOURCE, in
        which case children fill the rest with NULs instead of asking again).  Best effort:
        on any failure children keep the zygote's command line."""
        try:
            import ctypes
            with open("/proc/self/stat", "rb") as f:
                stat = f.read()
            fields = stat[stat.rindex(b")") + 2:].split()
            start, end = int(fields[45]), int(fields[46])   # proc(5): arg_start, arg_end
            cls.memmove, cls.c_ulong = ctypes.memmove, ctypes.c_ulong
            try:
                libc = ctypes.CDLL(None, use_errno=True)
                prctl = libc.prctl
                if prctl(_PR_SET_MM, _PR_SET_MM_ARG_END, ctypes.c_ulong(end),
                         ctypes.c_ulong(0), ctypes.c_ulong(0)) == 0:
                    cls.prctl = prctl
            except (OSError, AttributeError):
                pass
            cls.start, cls.end = start, end
        except (OSError, ValueError, IndexError, ImportError):
            cls.start = cls.end = 0


def _set_cmdline(args: list[str]) -> None:
    """Make /proc/self/cmdline (what ``ps`` and psutil show) read ``args``, as if the child
    had been started as ``python -m module argv...``: the NUL-separated words are written
    over the zygote's argument area (started with :data:`CMDLINE_ROOM` bytes of padding,
    located once by :meth:`_ArgArea.probe`), whose end is then moved back (prctl
    PR_SET_MM_ARG_END, when permitted) or filled with NULs.  Best effort: any failure
    leaves the command line as it was."""
    area = _ArgArea
    if not area.end and not area.start:
        area.probe()
    start, end = area.start, area.end
    room = end - start
    if room <= 1 or area.memmove is None:
        return
    data = b"\0".join(a.encode(errors="replace") for a in args) + b"\0"
    if len(data) > room:
        data = data[:room - 1] + b"\0"
    try:
        # the argument strings are in our own (writable) memory: write them in place
        area.memmove(start, data + b"\0" * (room - len(data)), room)
        if area.prctl is not None:
            u = area.c_ulong
            area.prctl(_PR_SET_MM, _PR_SET_MM_ARG_END, u(start + len(data)), u(0), u(0))
    except (OSError, ValueError, TypeError):
        pass


def serve(fd: int, preload: list[str]) -> int:
    """The zygote's main loop on the inherited socket ``fd``: import ``preload``, then fork
    one child per request and report pids and exit statuses until the daemon closes the
    socket (with :data:`THREADS_FLAG` among ``preload``: run each request as a thread,
    :func:`_serve_threads`).  Returns 0."""
    threads = THREADS_FLAG in preload
    modules = []
    for name in preload:
        if name.strip() and name != THREADS_FLAG:   # the padding argument is blank
            mod = importlib.import_module(name.strip())
            modules.append(mod)
            # what the program imports lazily (at first use) is imported here too
            for extra in getattr(mod, "FORK_SERVER_PRELOAD", ()):
                try:
                    importlib.import_module(extra)
                except ImportError:
                    pass
    for mod in modules:
        warmup = getattr(mod, "fork_server_warmup", None)
        if callable(warmup):
            try:
                warmup()
            except Exception:  # not fatal: the children just start colder
                print(f"{mod.__name__}.fork_server_warmup() failed:", file=sys.stderr)
                traceback.print_exc()
                sys.stderr.flush()
    if threads:
        return _serve_threads(fd)
    _ArgArea.probe()    # the children's command lines go there (see _set_cmdline)
    # everything imported and warmed up so far is shared with the children copy-on-write;
    # a child's garbage collector would write to every object's header and so copy every
    # page: move them out of its reach (gc.freeze, CPython 3.7+)
    gc.collect()
    gc.freeze()
    sock = socket.socket(fileno=fd)
    sock.setblocking(True)
    conn = _Conn(sock)
    wake_r, wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda s, f: None)
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)  # the daemon ends us by closing the socket
    children: set[int] = set()

    def reap() -> None:
        while children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            children.discard(pid)
            conn.send({"pid": pid, "status": status})

    while True:
        try:
            ready, _, _ = select.select([sock, wake_r], [], [])
        except InterruptedError:
            continue
        if wake_r in ready:
            try:
                while os.read(wake_r, 512):
                    pass
            except BlockingIOError:
                pass
        reap()
        if sock in ready:
            msgs = conn.read_available()
            if msgs is None:
                return 0  # the daemon is gone; our children live on in their sessions
            for req in msgs:
                try:
                    pid = os.fork()
                except OSError as exc:
                    conn.send({"id": req.get("id"), "error": f"fork: {exc}"})
                    continue
                if pid == 0:
                    _child(req, sock, (wake_r, wake_w))
                children.add(pid)
                conn.send({"id": req.get("id"), "pid": pid})
        reap()


# -- threads mode -----------------------------------------------------------------------
class ThreadChild:
    """What a thread child's ``thread_main(argv, env, child)`` gets: ``pid`` (its virtual
    pid), ``signals`` (the signal numbers the daemon sent it, appended in order; the thread
    consumes them) and ``on_signal``, which the thread may set to a callable run (in the
    server's main thread, so it must be quick and must not raise) after each append."""

    def __init__(self, pid: int):
        self.pid = pid
        self.signals: list[int] = []
        self.on_signal: Optional[Callable[[], None]] = None

    def deliver(self, signum: int) -> None:
        """Queue ``signum`` for the thread and wake it up."""
        self.signals.append(signum)
        wake = self.on_signal
        if wake is not None:
            try:
                wake()
            except Exception:
                pass


def _raise_fd_limit() -> None:
    """Each thread child holds a few descriptors for its whole run: lift the soft
    RLIMIT_NOFILE to the hard limit (best effort)."""
    try:
        import resource
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if hard == resource.RLIM_INFINITY or soft < hard:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    except (ImportError, ValueError, OSError):
        pass


def _run_thread(req: dict, child: ThreadChild, send: Callable[[dict], None]) -> None:
    """A thread child's body: ``module.thread_main(argv, env, child)``; reports its exit."""
    code = 1
    try:
        mod = sys.modules.get(req["module"]) or importlib.import_module(req["module"])
        env = dict(req.get("env") or {})
        argv = list(req.get("argv") or [])
        code = _call(env, f"{req['module']}.t{child.pid}", mod.thread_main, argv, env, child,
                     thread=True)
    except BaseException:   # the module could not be imported
        code = _crashed()
    finally:
        send({"pid": child.pid, "status": (code & 0xFF) << 8})


def _serve_threads(fd: int) -> int:
    """Threads mode (see the module doc): one thread per request on the socket ``fd``
    until the daemon closes it, or, once the daemon sent ``{"retire": true}``, until no
    thread runs (signals for the running ones are still taken meanwhile); then wait for
    the running threads and return 0."""
    _raise_fd_limit()
    sock = socket.socket(fileno=fd)
    sock.setblocking(True)
    conn = _Conn(sock)
    lock = threading.Lock()
    children: dict[int, ThreadChild] = {}
    wake_r, wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)   # a thread ended
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)  # the daemon ends us by closing the socket

    def send(obj: dict) -> None:
        with lock:
            if obj.get("status") is not None:
                children.pop(obj.get("pid"), None)
                try:
                    os.write(wake_w, b"!")
                except OSError:
                    pass
            try:
                conn.send(obj)
            except OSError:
                pass  # the daemon is gone: a restarted one learns the outcome otherwise

    send({"ready": True})   # imports and warm-up are done
    retiring = False
    while not (retiring and not children):
        try:
            ready, _, _ = select.select([sock, wake_r], [], [])
        except InterruptedError:
            continue
        if wake_r in ready:
            try:
                while os.read(wake_r, 512):
                    pass
            except BlockingIOError:
                pass
        if sock not in ready:
            continue
        msgs = conn.read_available()
        if msgs is None:
            break
        for req in msgs:
            if "signal" in req:
                with lock:
                    child = children.get(req.get("pid"))
                if child is not None:
                    child.deliver(int(req["signal"]))
                continue
            if req.get("retire"):
                retiring = True
                continue
            vpid = req.get("vpid")
            if retiring or not isinstance(vpid, int) or req.get("cwd"):
                send({"id": req.get("id"), "error": "a retiring server, or a thread request "
                                                    "without a vpid or with a cwd"})
                continue
            child = ThreadChild(vpid)
            with lock:
                children[vpid] = child
            send({"id": req.get("id"), "pid": vpid})   # before the thread can report its exit
            try:
                threading.Thread(target=_run_thread, args=(req, child, send),
                                 name=f"{req.get('module')} {vpid}").start()
            except RuntimeError as exc:   # cannot start a thread: it exits at once
                print(f"cannot start a thread: {exc}", file=sys.stderr)
                send({"pid": vpid, "status": 1 << 8})
    for t in threading.enumerate():
        if t is not threading.current_thread() and not t.daemon:
            t.join()
    return 0


# -- the daemon's side ------------------------------------------------------------------
class Zygote:
    """A fork server for the DaemonCore ``dc`` that preloads the modules ``preload``
    (names, e.g. ``["pyhtc.daemons.shadow.main"]``); ``name`` is used in log lines.

    :meth:`create_process` starts ``module.main(argv)`` in a fresh child and returns its pid;
    the reaper registered with ``dc.register_reaper`` then gets ``(pid, status)``.  Raises
    OSError when the zygote cannot be started or cannot fork (callers fall back to
    ``dc.create_process``).  Must be called on the DaemonCore loop's thread.
    """

    def __init__(self, dc, preload: list[str], name: str = "zygote",
                 python: Optional[str] = None, threads: bool = False):
        self.dc, self.preload, self.name = dc, list(preload), name
        self.python = python or sys.executable
        #: threads mode (see the module doc): children are threads of the server
        self.threads = bool(threads)
        self._vpids = 0
        #: when the server process started (time.monotonic(); None: not running)
        self.started_at: Optional[float] = None
        #: a threads-mode server retired by :meth:`retire`: it takes no more requests
        self.retired = False
        #: a threads-mode server said it has imported and warmed up its modules
        self.ready = False
        self.pid: Optional[int] = None
        self.sock: Optional[socket.socket] = None
        self.conn: Optional[_Conn] = None
        self._ids = 0
        self._pending_exits: list[dict] = []
        self._outstanding: set[int] = set()    # children whose exit we still expect
        self._pidfds: dict[int, int] = {}
        self._reaper = dc.register_reaper(f"{name} zygote", self._exited)
        dc.add_shutdown_hook(self.stop)

    # -- lifecycle ---------------------------------------------------------------------
    def start(self) -> int:
        """Start the zygote process (it imports ``preload`` in the background); returns its
        pid.  Raises OSError."""
        if self.pid is not None:
            return self.pid
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            code = "import sys; from pyhtc.daemoncore.zygote import serve; " \
                   "sys.exit(serve(int(sys.argv[1]), sys.argv[2:]))"
            env = dict(os.environ)
            pad = " " * CMDLINE_ROOM  # room for the children's command lines
            mode = [THREADS_FLAG] if self.threads else []
            # a threads-mode server outlives its daemon as forked children do: own session
            pid = self.dc.create_process([self.python, "-c", code, str(theirs.fileno())]
                                         + mode + self.preload + [pad],
                                         self._reaper,
                                         env=env, pass_fds=(theirs.fileno(),),
                                         stdin=None, stdout=None, stderr=None,
                                         new_session=self.threads)
        finally:
            theirs.close()
        self.pid, self.sock, self.conn = pid, ours, _Conn(ours)
        self.started_at = time.monotonic()
        self.ready = False
        ours.setblocking(False)
        self.dc.loop.add_reader(ours.fileno(), self._readable)
        self.dc.log.dprintf(_always(), f"Started the {self.name} fork server, pid {pid}")
        return pid

    def age(self) -> float:
        """Seconds since the server process started (0 when none runs)."""
        return 0.0 if self.started_at is None else time.monotonic() - self.started_at

    def retire(self) -> None:
        """Threads mode: ask the server to take no more requests and to exit once its last
        thread has ended (their exits and signals still go through this object); the
        daemon starts another :class:`Zygote` for new children (SHADOW_WORKLIFE).
        Raises ValueError in fork mode."""
        if not self.threads:
            raise ValueError("only a threads-mode server retires")
        self.retired = True
        if self.sock is None:
            return
        try:
            self.sock.setblocking(True)
            self.sock.settimeout(5.0)
            self.conn.send({"retire": True})
        except OSError:
            self._lost()
        finally:
            if self.sock is not None:
                self.sock.setblocking(False)
        self.dc.log.dprintf(_always(), f"Retired the {self.name} server (pid {self.pid}): "
                                       f"{len(self._outstanding)} thread(s) still running")

    def stop(self) -> None:
        """Close the zygote's socket (it exits; children it forked keep running)."""
        if self.sock is not None:
            try:
                self.dc.loop.remove_reader(self.sock.fileno())
            except Exception:
                pass
            self.sock.close()
        self.sock = self.conn = None
        self.pid = None

    def _exited(self, pid: int, status: int) -> None:
        if pid != self.pid:
            return
        self.dc.log.dprintf(_always(), f"The {self.name} fork server (pid {pid}) exited "
                                       f"with status {status}")
        self._lost()

    def _lost(self) -> None:
        """The zygote is gone: watch its surviving children through pidfds."""
        if self.sock is not None:
            self._drain_nonblocking()
        self.stop()
        for pid in list(self._outstanding):
            if self.threads:   # threads die with their server
                self._deliver({"pid": pid, "status": -1})
            else:
                self._watch_orphan(pid)

    def _watch_orphan(self, pid: int) -> None:
        try:
            pfd = os.pidfd_open(pid)
        except ProcessLookupError:
            self._deliver({"pid": pid, "status": -1})
            return
        self._pidfds[pid] = pfd

        def gone():
            self.dc.loop.remove_reader(pfd)
            os.close(pfd)
            self._pidfds.pop(pid, None)
            self._deliver({"pid": pid, "status": -1})
        self.dc.loop.add_reader(pfd, gone)

    # -- messages ----------------------------------------------------------------------
    def _drain_nonblocking(self) -> None:
        while self.conn is not None:
            msgs = self.conn.read_available()
            if not msgs:
                return
            for m in msgs:
                self._deliver(m)

    def _readable(self) -> None:
        if self.conn is None:
            return
        msgs = self.conn.read_available()
        if msgs is None:
            self.dc.log.dprintf(_always(), f"The {self.name} fork server closed its socket")
            self._lost()
            return
        for m in msgs:
            self._deliver(m)

    def _deliver(self, msg: dict) -> None:
        if msg.get("ready"):
            self.ready = True
            return
        pid = msg.get("pid")
        if "status" not in msg or pid not in self._outstanding:
            return
        self._outstanding.discard(pid)
        self.dc.deliver_exit(pid, int(msg["status"]))

    # -- requests ----------------------------------------------------------------------
    def _request(self, module: str, argv, env, cwd, new_session: bool,
                 devnull_stdin: bool) -> tuple[int, dict]:
        """``(request id, request)`` for forking ``module.main(argv)`` (the protocol's fork
        request; ``env`` None: this process's environment)."""
        self._ids += 1
        req = {"id": self._ids, "module": module, "argv": list(argv),
               "env": dict(os.environ if env is None else env), "cwd": cwd,
               "new_session": bool(new_session), "devnull_stdin": bool(devnull_stdin)}
        if self.threads:
            req["vpid"] = self._new_vpid()
        return self._ids, req

    def _new_vpid(self) -> int:
        """A virtual pid for a thread child: in [VPID_BASE, 2 * VPID_BASE) and not the key
        of any child DaemonCore tracks (children adopted after a restart included)."""
        while True:
            self._vpids = self._vpids % (VPID_BASE - 1) + 1
            vpid = VPID_BASE + self._vpids
            if vpid not in self.dc.children:
                return vpid

    def _signal_thread(self, vpid: int, signum: int) -> bool:
        """``send_signal`` for a thread child: ask the server to queue ``signum`` for it."""
        if vpid not in self._outstanding or self.sock is None:
            return False
        try:
            self.sock.setblocking(True)
            self.sock.settimeout(5.0)
            self.conn.send({"signal": int(signum), "pid": vpid})
            return True
        except OSError:
            return False
        finally:
            if self.sock is not None:
                self.sock.setblocking(False)

    def create_process(self, module: str, argv: list[str], reaper_id: Optional[int], *,
                       env: Optional[dict] = None, cwd: Optional[str] = None,
                       new_session: bool = False, devnull_stdin: bool = False,
                       timeout: float = 30.0) -> int:
        """Fork ``module.main(argv)`` in the zygote (see the class doc); returns the pid (in
        threads mode: start ``module.thread_main`` in a thread of the server and return its
        virtual pid; ``cwd``, ``new_session`` and ``devnull_stdin`` do not apply then).
        Raises OSError (zygote not startable, dead, or fork failed) or TimeoutError."""
        if self.retired:
            raise OSError(errno.EPIPE, f"the {self.name} server is retired")
        if self.sock is None:
            self.start()
        rid, req = self._request(module, argv, env, cwd, new_session, devnull_stdin)
        try:
            self.sock.setblocking(True)
            self.sock.settimeout(timeout)
            self.conn.send(req)
            reply = None
            while reply is None:
                msgs = self.conn.read_available()
                if msgs is None:
                    raise OSError(errno.EPIPE, f"the {self.name} fork server exited")
                for m in msgs:
                    if m.get("id") == rid and reply is None:
                        reply = m
                    else:
                        self._pending_exits.append(m)
        except (OSError, socket.timeout) as exc:
            self._lost()
            raise OSError(errno.EPIPE, f"the {self.name} fork server failed: {exc}") from None
        finally:
            if self.sock is not None:
                self.sock.setblocking(False)
        if "error" in reply:
            raise OSError(errno.EAGAIN, reply["error"])
        pid = int(reply["pid"])
        self._outstanding.add(pid)
        if self.threads:
            self.dc.register_child(pid, [f"{module}(thread of {self.pid})"] + list(argv),
                                   reaper_id, signaller=self._signal_thread)
        else:
            self.dc.register_child(pid, [f"{module}(zygote {self.pid})"] + list(argv), reaper_id)
        if self._pending_exits:
            pend, self._pending_exits = self._pending_exits, []
            self.dc.loop.call_soon(lambda: [self._deliver(m) for m in pend])
        # data may have arrived while we read synchronously: the reader will not fire for it
        self.dc.loop.call_soon(self._readable_if_buffered)
        return pid

    def _readable_if_buffered(self) -> None:
        if self.conn is not None and b"\n" in self.conn.buf:
            line, self.conn.buf = self.conn.buf.split(b"\n", 1)
            self._deliver(json.loads(line))
            self._readable_if_buffered()


def _always():
    from .log import Category
    return Category.ALWAYS


if __name__ == "__main__":
    sys.exit(serve(int(sys.argv[1]), sys.argv[2:]))
