"""The startd's side of the starter fork server, without blocking the event loop.

:class:`pyhtc.daemoncore.zygote.Zygote` asks its fork server for a child and waits for the
pid synchronously: the startd's loop stops for as long as the fork server takes to be
scheduled, fork and answer (on a loaded machine, tens of milliseconds per starter).  HTCondor's
startd blocks in Create_Process too, but a C++ fork is far cheaper than waiting for another
Python process.  :class:`AsyncZygote` speaks the same protocol (the request line, then the
``{"id": n, "pid": pid}`` reply and later ``{"pid": pid, "status": s}``) on the same socket,
but sends the request and returns to the loop; the reply arrives through the reader the
Zygote already keeps on its socket.

Ordering guarantee kept from the synchronous call: the fork server sends a child's pid
before that child's exit, and both may arrive in one read.  The pid is therefore made known
(DaemonCore child registered, ``on_pid`` callback run) while the reply is being delivered,
before the next message of the same read: a reaper always finds the pid it is told about.
"""
from __future__ import annotations

import asyncio
import errno
from typing import Callable, Optional

from pyhtc.daemoncore.zygote import Zygote, encode_message

__all__ = ["AsyncZygote"]


class AsyncZygote(Zygote):
    """A :class:`~pyhtc.daemoncore.zygote.Zygote` whose :meth:`spawn` is a coroutine.

    The synchronous :meth:`create_process` still works (it is used by nobody else here);
    do not mix the two on one instance while a :meth:`spawn` is pending."""

    def __init__(self, dc, preload: list[str], name: str = "zygote", python: Optional[str] = None):
        super().__init__(dc, preload, name=name, python=python)
        #: request id -> (future, module, argv, reaper id, on_pid callback)
        self._waiting: dict[int, tuple] = {}
        self._send_lock: Optional[asyncio.Lock] = None

    async def spawn(self, module: str, argv: list[str], reaper_id: Optional[int], *,
                    env: Optional[dict] = None, cwd: Optional[str] = None,
                    new_session: bool = False, devnull_stdin: bool = False,
                    on_pid: Optional[Callable[[int], None]] = None,
                    timeout: float = 30.0) -> int:
        """Fork ``module.main(argv)`` in the fork server; returns the child's pid.

        ``on_pid(pid)`` is called as soon as the pid is known, before any later message
        from the fork server (in particular before the child's exit reaches the reaper
        ``reaper_id``).  Raises OSError when the fork server cannot be started, dies or
        cannot fork (the caller falls back to ``dc.create_process``), and when no reply
        comes within ``timeout`` seconds (the fork server is then abandoned, as
        :meth:`create_process` does)."""
        if self.sock is None:
            self.start()
        rid, req = self._request(module, argv, env, cwd, new_session, devnull_stdin)
        data = encode_message(req)
        loop = self.dc.loop
        fut = loop.create_future()
        self._waiting[rid] = (fut, module, list(argv), reaper_id, on_pid)
        if self._send_lock is None:
            self._send_lock = asyncio.Lock()
        lock = self._send_lock
        try:
            if not lock.locked():
                # the usual case: the request fits in the socket buffer at once (no other
                # request is half sent, so nothing can interleave)
                try:
                    sent = self.sock.send(data)
                except BlockingIOError:
                    sent = 0
                data = data[sent:]
            if data:  # the rest once the fork server reads, requests kept whole
                async with lock:
                    sock = self.sock
                    if sock is None:
                        raise OSError(errno.EPIPE, f"the {self.name} fork server exited")
                    await asyncio.wait_for(loop.sock_sendall(sock, data), timeout)
            timer = loop.call_later(timeout, _expire, fut)
            try:
                reply = await fut
            finally:
                timer.cancel()
        except (OSError, asyncio.TimeoutError) as exc:
            self._waiting.pop(rid, None)
            if self.sock is not None:
                self._lost()
            raise OSError(errno.EPIPE, f"the {self.name} fork server failed: "
                                       f"{exc or type(exc).__name__}") from None
        if "error" in reply:
            raise OSError(errno.EAGAIN, reply["error"])
        return int(reply["pid"])

    # -- replies ---------------------------------------------------------------------------
    def _deliver(self, msg: dict) -> None:
        rid = msg.get("id")
        if rid is None or "status" in msg:
            super()._deliver(msg)
            return
        waiting = self._waiting.pop(rid, None)
        if waiting is None:
            return
        fut, module, argv, reaper_id, on_pid = waiting
        if "pid" in msg:
            pid = int(msg["pid"])
            self._outstanding.add(pid)
            self.dc.register_child(pid, [f"{module}(zygote {self.pid})"] + argv, reaper_id)
            if on_pid is not None:
                try:
                    on_pid(pid)
                except Exception as exc:  # the child is tracked; its reaper still runs
                    self.dc.log.dprintf(_always(), f"{self.name} fork server: handling pid "
                                                   f"{pid} failed: {exc!r}")
        if not fut.done():
            fut.set_result(msg)

    def _fail_waiting(self, why: str) -> None:
        waiting, self._waiting = self._waiting, {}
        for fut, *_ in waiting.values():
            if not fut.done():
                fut.set_exception(OSError(errno.EPIPE, why))

    def _lost(self) -> None:
        super()._lost()  # delivers what was still buffered first (pids included)
        self._fail_waiting(f"the {self.name} fork server exited")

    def stop(self) -> None:
        super().stop()
        self._fail_waiting(f"the {self.name} fork server was stopped")


def _expire(fut) -> None:
    if not fut.done():
        fut.set_exception(asyncio.TimeoutError("no reply from the fork server"))


def _always():
    from pyhtc.daemoncore.log import Category
    return Category.ALWAYS
