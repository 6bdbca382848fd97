"""ProcFamilyServer: serve a ProcFamilyMonitor on a Unix socket.

HTCondor's ``src/condor_procd/proc_family_server.cpp`` reads commands from a
named pipe and takes snapshots whenever the (smallest) maximum snapshot
interval elapses without a request.  We listen on a Unix stream socket
(``-A`` path), one thread per connection, requests framed as described in
:mod:`pyhtc.procd.protocol`; the monitor's lock serialises the work.
"""

from __future__ import annotations

import logging
import os
import pwd
import selectors
import socket
import threading
import time

from .monitor import ProcFamilyMonitor, WatcherDied
from .procinfo import pid_alive
from .protocol import (Command, ProcFamilyError as E, ProtocolError, parse_request,
                       recv_frame, reply, send_frame)

log = logging.getLogger("pyhtc.procd")


def dispatch(monitor: ProcFamilyMonitor, cmd: Command, args: dict) -> dict:
    """Run one decoded request against ``monitor``; return the reply object."""
    if cmd == Command.REGISTER_SUBFAMILY:
        return reply(monitor.register_subfamily(args["root_pid"], args["watcher_pid"],
                                                args["max_snapshot_interval"]))
    if cmd == Command.TRACK_FAMILY_VIA_ENVIRONMENT:
        return reply(monitor.track_family_via_environment(args["pid"], args["environment"]))
    if cmd == Command.TRACK_FAMILY_VIA_LOGIN:
        return reply(monitor.track_family_via_login(args["pid"], args["login"]))
    if cmd == Command.TRACK_FAMILY_VIA_ALLOCATED_SUPPLEMENTARY_GROUP:
        err, gid = monitor.track_family_via_allocated_supplementary_group(args["pid"])
        return reply(err, gid=gid)
    if cmd == Command.TRACK_FAMILY_VIA_ASSOCIATED_SUPPLEMENTARY_GROUP:
        return reply(monitor.track_family_via_associated_supplementary_group(args["pid"], args["gid"]))
    if cmd == Command.TRACK_FAMILY_VIA_CGROUP:
        return reply(monitor.track_family_via_cgroup(args["pid"], args["cgroup"]))
    if cmd == Command.SIGNAL_PROCESS:
        err = monitor.signal_process(args["pid"], args["signal"])
        if err == E.BAD_REQUEST:
            return reply(err, f"SIGNAL_PROCESS: bad signal number {args['signal']}")
        return reply(err)
    if cmd == Command.SUSPEND_FAMILY:
        return reply(monitor.suspend_family(args["pid"]))
    if cmd == Command.CONTINUE_FAMILY:
        return reply(monitor.continue_family(args["pid"]))
    if cmd == Command.KILL_FAMILY:
        return reply(monitor.kill_family(args["pid"]))
    if cmd == Command.GET_USAGE:
        err, usage = monitor.get_usage(args["pid"])
        return reply(err, usage=usage.to_dict() if usage else None)
    if cmd == Command.UNREGISTER_FAMILY:
        return reply(monitor.unregister_family(args["pid"]))
    if cmd == Command.TAKE_SNAPSHOT:
        monitor.snapshot()
        return reply(E.SUCCESS)
    if cmd == Command.DUMP:
        err, fams = monitor.dump(args["pid"])
        return reply(err, families=[f.to_dict() for f in fams])
    if cmd == Command.QUIT:
        return reply(E.SUCCESS)
    return reply(E.BAD_REQUEST, f"unsupported command {cmd.name}")  # pragma: no cover


class ProcFamilyServer:
    """Serve ``monitor`` at Unix socket ``address``.

    ``principal`` (user name or uid, HTCondor's ``-C``) becomes the socket's
    owner so that user's daemons may connect; the socket is mode 0600.
    :meth:`serve_forever` returns the exit status: 0 after QUIT, 1 when the
    watcher (the procd's parent) died."""

    def __init__(self, monitor: ProcFamilyMonitor, address: str, principal: str | None = None):
        self.monitor = monitor
        self.address = address
        self._quit = threading.Event()
        self._status = 0
        # bind under a temporary name, set owner and start listening, then
        # rename into place: a client that sees the address can connect
        tmp = os.path.join(os.path.dirname(os.path.abspath(address)),
                           f".{os.path.basename(address)}.{os.getpid()}")
        if os.path.lexists(tmp):
            os.unlink(tmp)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old = os.umask(0o077)
        try:
            self.sock.bind(tmp)
        finally:
            os.umask(old)
        try:
            if principal:
                uid = int(principal) if principal.isdigit() else pwd.getpwnam(principal).pw_uid
                os.chown(tmp, uid, -1)
            self.sock.listen(64)
            os.replace(tmp, address)  # also replaces a stale socket of an earlier procd
        except BaseException:
            self.sock.close()
            os.unlink(tmp)
            raise

    def _serve_connection(self, conn: socket.socket) -> None:
        conn.settimeout(30)
        try:
            while not self._quit.is_set():
                try:
                    obj = recv_frame(conn)
                except ProtocolError as e:
                    send_frame(conn, reply(E.BAD_REQUEST, str(e)))
                    return  # framing is lost; close
                if obj is None:
                    return
                try:
                    cmd, args = parse_request(obj)
                except ProtocolError as e:
                    send_frame(conn, reply(E.BAD_REQUEST, str(e)))
                    continue
                log.info("command %s %s", cmd.name, args)
                try:
                    out = dispatch(self.monitor, cmd, args)
                except WatcherDied as e:
                    log.error("%s", e)
                    self._status = 1
                    self._quit.set()
                    out = reply(E.SUCCESS) if cmd == Command.QUIT else reply(E.BAD_REQUEST, str(e))
                send_frame(conn, out)
                if cmd == Command.QUIT:
                    log.info("received QUIT command; exiting")
                    self._quit.set()
                    return
        except (OSError, socket.timeout):
            pass
        finally:
            conn.close()

    def serve_forever(self) -> int:
        """Accept clients and take periodic snapshots until QUIT or watcher death."""
        sel = selectors.DefaultSelector()
        sel.register(self.sock, selectors.EVENT_READ)
        try:
            while not self._quit.is_set():
                interval = self.monitor.get_snapshot_interval()
                if interval < 0:
                    wait = 1.0
                else:
                    due = self.monitor.last_snapshot + interval
                    wait = max(0.0, min(1.0, due - time.monotonic()))
                for _key, _ in sel.select(timeout=wait):
                    try:
                        conn, _addr = self.sock.accept()
                    except OSError:
                        continue
                    threading.Thread(target=self._serve_connection, args=(conn,), daemon=True).start()
                if self._quit.is_set():
                    break
                interval = self.monitor.get_snapshot_interval()
                if interval >= 0 and time.monotonic() - self.monitor.last_snapshot >= interval:
                    try:
                        self.monitor.snapshot()
                    except WatcherDied as e:
                        log.error("%s", e)
                        self._status = 1
                        break
                elif self.monitor.except_if_root_dies and not pid_alive(self.monitor.root.root_pid):
                    # the watcher check is cheap; do not wait a whole interval
                    try:
                        self.monitor.snapshot()
                    except WatcherDied as e:
                        log.error("%s", e)
                        self._status = 1
                        break
        finally:
            sel.close()
            self.close()
        return self._status

    def close(self) -> None:
        """Stop listening, remove the socket file and release cgroups."""
        try:
            self.sock.close()
        finally:
            try:
                os.unlink(self.address)
            except OSError:
                pass
            self.monitor.shutdown()
