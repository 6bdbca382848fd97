"""Named file handles held by the proxy (daemonproxy ``src/fd.c``).

The proxy owns every handle; services receive copies on the descriptor slots listed by
``service.fds``.  Because the proxy keeps both ends of a pipe open, a pipe survives the restart
of either the writer or the reader, so no log line is lost while a logger restarts.

All descriptors the proxy creates are close-on-exec; a service only ever receives the ones its
``service.fds`` names.
"""
from __future__ import annotations

import fcntl
import os
import socket
import stat

from .protocol import CommandError, join

#: Handles that always exist and cannot be replaced or deleted.  ``control.*`` stand for the
#: controller connection created when a service using them starts.
SPECIAL_NAMES = ("null", "control.cmd", "control.event", "control.socket")


class Handle:
    """One named descriptor.

    Attributes: ``name``; ``fd`` (int, -1 for the control.* placeholders); ``kind`` (``file``,
    ``pipe``, ``socket`` or ``special``); ``flags`` (list of flag words as shown in fd.state);
    ``desc`` (path, address, peer name or free text); ``peer`` (the other end's name for a pipe);
    ``const`` (True for the special handles); ``sock`` (a socket object keeping it alive).
    """

    __slots__ = ("name", "fd", "kind", "flags", "desc", "peer", "const", "sock")

    def __init__(self, name, fd, kind, flags, desc, *, peer=None, const=False, sock=None):
        self.name = name
        self.fd = fd
        self.kind = kind
        self.flags = list(flags)
        self.desc = desc
        self.peer = peer
        self.const = const
        self.sock = sock

    def state_line(self) -> str:
        """The ``fd.state NAME TYPE FLAGS DESCRIPTION`` event for this handle."""
        return join("fd.state", self.name, self.kind, ",".join(self.flags) or "-", self.desc or "-")

    def close(self) -> None:
        """Close the descriptor (idempotent)."""
        if self.sock is not None:
            self.sock.close()
            self.sock = None
        elif self.fd >= 0:
            try:
                os.close(self.fd)
            except OSError:
                pass
        self.fd = -1


def _describe_inherited(fd: int) -> tuple[str, list[str]]:
    """Kind and flags of an inherited descriptor (daemonproxy ``fd_load_flags``)."""
    acc = fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE
    flags = {os.O_RDONLY: ["read"], os.O_WRONLY: ["write"]}.get(acc, ["read", "write"])
    mode = os.fstat(fd).st_mode
    kind = "socket" if stat.S_ISSOCK(mode) else "pipe" if stat.S_ISFIFO(mode) else "file"
    return kind, flags


class HandleTable:
    """The set of named handles.  Keys are names; iteration is in name order (for statedump)."""

    def __init__(self):
        self._by_name: dict[str, Handle] = {}
        null_fd = os.open(os.devnull, os.O_RDWR | os.O_NOCTTY)
        self.add(Handle("null", null_fd, "special", ["read", "write"], "/dev/null", const=True))
        self.add(Handle("control.cmd", -1, "special", ["write"], "proxy command pipe", const=True))
        self.add(Handle("control.event", -1, "special", ["read"], "proxy event stream", const=True))
        self.add(Handle("control.socket", -1, "special", ["read", "write"], "proxy control socket", const=True))

    def __contains__(self, name: str) -> bool:
        return name in self._by_name

    def get(self, name: str) -> Handle | None:
        return self._by_name.get(name)

    def sorted(self) -> list[Handle]:
        return [self._by_name[n] for n in sorted(self._by_name)]

    def check_assignable(self, name: str) -> None:
        """Raise CommandError if *name* is one of the special handles."""
        h = self._by_name.get(name)
        if h is not None and h.const:
            raise CommandError(f"file descriptor {name!r} cannot be altered")

    def add(self, handle: Handle) -> Handle | None:
        """Insert *handle*, closing and returning any handle it replaces."""
        old = self._by_name.get(handle.name)
        if old is not None:
            self._forget(old)
        self._by_name[handle.name] = handle
        return old

    def delete(self, name: str) -> Handle:
        """Remove and close handle *name*; raises CommandError if missing or special."""
        h = self._by_name.get(name)
        if h is None:
            raise CommandError(f"no such file descriptor {name!r}")
        if h.const:
            raise CommandError(f"file descriptor {name!r} cannot be altered")
        self._forget(h)
        return h

    def _forget(self, h: Handle) -> None:
        del self._by_name[h.name]
        if h.peer and h.peer in self._by_name:
            self._by_name[h.peer].peer = None
        h.close()

    def register_inherited(self, fd: int, name: str) -> Handle:
        """Name an already-open descriptor (stdin/stdout/stderr or fd_N) and make it
        close-on-exec so it is only passed on through ``service.fds``."""
        kind, flags = _describe_inherited(fd)
        os.set_inheritable(fd, False)
        h = Handle(name, fd, kind, flags, "inherited")
        self.add(h)
        return h

    def close_all(self) -> None:
        for h in list(self._by_name.values()):
            h.close()
        self._by_name.clear()


# --- constructors for the fd.* commands -------------------------------------------------------------

def _split_flags(text: str) -> list[str]:
    return [f for f in text.split(",") if f and f != "-"]


def make_pipe(read_name: str, write_name: str, flag_text: str) -> tuple[Handle, Handle]:
    """Create a pipe (or a socketpair when a socket flag is given) for ``fd.pipe``.

    Flags: nonblock, unix, inet, inet6, tcp, udp, stream, dgram, seqpacket (daemonproxy
    ``ctl_cmd_fd_pipe``).  Raises CommandError on an unknown flag or a failed system call.
    """
    sock_flags = {"unix", "inet", "inet6", "tcp", "udp", "stream", "dgram", "seqpacket"}
    flags = _split_flags(flag_text)
    for f in flags:
        if f not in sock_flags and f != "nonblock":
            raise CommandError(f"unknown flag {f!r}")
    nonblock = "nonblock" in flags
    if any(f in sock_flags for f in flags):
        family = socket.AF_INET6 if "inet6" in flags else socket.AF_INET if {"inet", "tcp", "udp"} & set(flags) else socket.AF_UNIX
        stype = socket.SOCK_DGRAM if {"dgram", "udp"} & set(flags) else socket.SOCK_SEQPACKET if "seqpacket" in flags else socket.SOCK_STREAM
        try:
            a, b = socket.socketpair(family, stype)
        except OSError as e:
            raise CommandError(f"socketpair() failed: {e.strerror}") from None
        a.setblocking(not nonblock)
        b.setblocking(not nonblock)
        dom = {socket.AF_UNIX: "unix", socket.AF_INET: "inet", socket.AF_INET6: "inet6"}[family]
        typ = {socket.SOCK_STREAM: "stream", socket.SOCK_DGRAM: "dgram", socket.SOCK_SEQPACKET: "seqpacket"}[stype]
        fl = [dom, typ] + (["nonblock"] if nonblock else []) + ["to"]
        return (Handle(read_name, a.fileno(), "pipe", fl, write_name, peer=write_name, sock=a),
                Handle(write_name, b.fileno(), "pipe", fl, read_name, peer=read_name, sock=b))
    try:
        r, w = os.pipe()
    except OSError as e:
        raise CommandError(f"pipe() failed: {e.strerror}") from None
    if nonblock:
        os.set_blocking(r, False)
        os.set_blocking(w, False)
    nb = ["nonblock"] if nonblock else []
    return (Handle(read_name, r, "pipe", nb + ["from"], write_name, peer=write_name),
            Handle(write_name, w, "pipe", nb + ["to"], read_name, peer=read_name))


_OPEN_FLAGS = {"read", "write", "create", "trunc", "truncate", "append", "nonblock", "mkdir", "sync"}


def open_file(name: str, flag_text: str, path: str) -> Handle:
    """Open *path* for ``fd.open`` with flags read, write, create, trunc|truncate, append,
    nonblock, mkdir (create missing parent directories, mode 0700), sync.  Files are created
    with mode 0600 as in daemonproxy.  Raises CommandError."""
    flags = _split_flags(flag_text)
    for f in flags:
        if f not in _OPEN_FLAGS:
            raise CommandError(f"unknown flag {f!r}")
    fs = set("trunc" if f == "truncate" else f for f in flags)
    if not path:
        raise CommandError("missing path argument")
    if "mkdir" in fs:
        parent = os.path.dirname(path)
        if parent:
            try:
                os.makedirs(parent, mode=0o700, exist_ok=True)
            except OSError as e:
                raise CommandError(f"mkdir {parent!r} failed: {e.strerror}") from None
    mode = (os.O_RDWR if "read" in fs else os.O_WRONLY) if "write" in fs else os.O_RDONLY
    mode |= os.O_NOCTTY
    mode |= os.O_APPEND if "append" in fs else 0
    mode |= os.O_CREAT if "create" in fs else 0
    mode |= os.O_TRUNC if "trunc" in fs else 0
    mode |= os.O_NONBLOCK if "nonblock" in fs else 0
    mode |= os.O_SYNC if "sync" in fs else 0
    try:
        fd = os.open(path, mode, 0o600)
    except OSError as e:
        raise CommandError(f"open {path!r} failed: {e.strerror}") from None
    shown = ["read,write" if {"read", "write"} <= fs else "write" if "write" in fs else "read"]
    shown += [f for f in ("append", "create", "trunc", "nonblock", "mkdir", "sync") if f in fs]
    return Handle(name, fd, "file", ",".join(shown).split(","), path)


def _parse_addr(family: int, spec: str):
    """Parse a bind address: a path (unix), ``IP:PORT`` / ``*:PORT`` (inet), ``[IP6]:PORT``."""
    if family == socket.AF_UNIX:
        return spec
    host, sep, port = spec.rpartition(":")
    if not sep:
        host, port = spec, "0"
    if family == socket.AF_INET6:
        host = host.strip("[]")
    if host in ("*", ""):
        host = "::" if family == socket.AF_INET6 else "0.0.0.0"
    try:
        return (host, int(port))
    except ValueError:
        raise CommandError(f"invalid address {spec!r}") from None


def make_socket(name: str, flag_text: str, addr: str | None) -> Handle:
    """Create (and optionally bind and listen on) a socket for ``fd.socket``.

    Flags: unix (default), inet, inet6, tcp, udp, stream (default), dgram, seqpacket, bind,
    listen[=N] (implies bind, default backlog 32), mkdir, nonblock.  An address implies bind.
    There is deliberately no connect (daemonproxy ``ctl_cmd_fd_socket``).  Raises CommandError.
    """
    flags = _split_flags(flag_text)
    family, stype, bind, listen, nonblock, mkdir = socket.AF_UNIX, socket.SOCK_STREAM, False, 0, False, False
    for f in flags:
        key, _, val = f.partition("=")
        if key == "unix":
            family = socket.AF_UNIX
        elif key in ("inet", "tcp", "udp"):
            family = socket.AF_INET
            stype = socket.SOCK_DGRAM if key == "udp" else socket.SOCK_STREAM if key == "tcp" else stype
        elif key == "inet6":
            family = socket.AF_INET6
        elif key == "stream":
            stype = socket.SOCK_STREAM
        elif key == "dgram":
            stype = socket.SOCK_DGRAM
        elif key == "seqpacket":
            stype = socket.SOCK_SEQPACKET
        elif key == "bind":
            bind = True
        elif key == "listen":
            bind = True
            listen = 32
            if val:
                if not val.isdigit() or not 0 < int(val) < 65536:
                    raise CommandError("invalid listen queue length")
                listen = int(val)
        elif key == "nonblock":
            nonblock = True
        elif key == "mkdir":
            mkdir = True
        else:
            raise CommandError(f"unknown flag {f!r}")
    if addr:
        bind = True
    elif bind:
        raise CommandError("expected address argument")
    address = _parse_addr(family, addr) if addr else None
    if mkdir and family == socket.AF_UNIX and address:
        parent = os.path.dirname(address)
        if parent:
            os.makedirs(parent, mode=0o700, exist_ok=True)
    try:
        s = socket.socket(family, stype)
    except OSError as e:
        raise CommandError(f"socket: {e.strerror}") from None
    step = "setsockopt"
    try:
        if bind:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            step = "bind"
            s.bind(address)
        if listen:
            step = "listen"
            s.listen(listen)
        if nonblock:
            s.setblocking(False)
    except OSError as e:
        s.close()
        raise CommandError(f"{step} {addr!r}: {e.strerror}") from None
    shown = [{socket.AF_UNIX: "unix", socket.AF_INET: "inet", socket.AF_INET6: "inet6"}[family],
             {socket.SOCK_STREAM: "stream", socket.SOCK_DGRAM: "dgram", socket.SOCK_SEQPACKET: "seqpacket"}[stype]]
    shown += ["bind"] if bind else []
    shown += [f"listen={listen}"] if listen else []
    shown += ["mkdir"] if mkdir else []
    shown += ["nonblock"] if nonblock else []
    desc = addr or "-"
    if bind and family != socket.AF_UNIX:
        h, p = s.getsockname()[:2]
        desc = f"[{h}]:{p}" if family == socket.AF_INET6 else f"{h}:{p}"
    return Handle(name, s.fileno(), "socket", shown, desc, sock=s)
