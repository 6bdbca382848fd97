"""FS authentication (src/condor_io/condor_auth_fs.cpp; PROTOCOL.md 5).

Same-host proof of identity: the server names a directory the client must create; the owner
of what appears there is the client's identity.

Server → string ``"<FS_LOCAL_DIR>/FS_<ip>_<port>_XXXXXXXXX_"`` (the trailing ``_`` invites the
client to append its view of the server's ``ip:port``).  Client: ``mkdir(path+ext, 0700)``,
→ ``int 0`` + string ext (ext may be omitted).  Server ``lstat``s path+ext: must be a real
directory (not a symlink), mode 0700, link count 1 or 2; maps st_uid to a user name;
→ ``int 0`` (ok) or ``-1``.  The client removes the directory.
"""
from __future__ import annotations

import os
import pwd
import secrets
import stat
import string

from ..ops import RECV, Send

_ALNUM = string.ascii_letters + string.digits


def _server_template(fs_dir: str, my_ip: str, my_port: int) -> str | None:
    """Make a unique file like condor_mkstemp(), remove it, return its name + "_"."""
    for _ in range(100):
        rand = "".join(secrets.choice(_ALNUM) for _ in range(9))
        path = os.path.join(fs_dir, f"FS_{my_ip}_{my_port}_{rand}")
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        except FileExistsError:
            continue
        except OSError:
            return None
        os.close(fd)
        os.unlink(path)
        return path + "_"
    return None


def _check_ext(ext: str, my_ip: str, my_port: int) -> bool:
    """The client's extension must be our ip:port as it sees it, with no '/' (directory escape
    check in authenticate_continue)."""
    if "/" in ext:
        return False
    base = ext.split("?sock=", 1)[0]
    host, sep, port = base.rpartition(":")
    host = host.strip("[]")
    return bool(sep) and port.isdigit() and int(port) == my_port and host == my_ip


def server(conn, fs_dir: str, my_ip: str, my_port: int, uid_domain: str):
    """Server side generator; returns ``"user@uid_domain"`` on success, None on failure."""
    path = _server_template(fs_dir, my_ip, my_port)
    yield Send(conn.encoder().put_string(path or "").data)
    msg = yield RECV
    dec = msg.decoder()
    client_result = dec.get_int()
    ext = "" if dec.at_end() else dec.get_string()
    dec.finish()
    user = None
    if path and client_result == 0:
        if ext and not _check_ext(ext, my_ip, my_port):
            target = None
        else:
            target = path + ext
        if target is not None:
            try:
                st = os.lstat(target)
                if (stat.S_ISDIR(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o700
                        and 1 <= st.st_nlink <= 2):
                    try:
                        user = pwd.getpwuid(st.st_uid).pw_name
                    except KeyError:
                        user = None
            except OSError:
                user = None
    yield Send(conn.encoder().put_int(0 if user else -1).data)
    return f"{user}@{uid_domain}" if user else None


def client(conn, server_ip: str, server_port: int):
    """Client side generator; returns True when the server accepted."""
    msg = yield RECV
    dec = msg.decoder()
    path = dec.get_string()
    dec.finish()
    ext = ""
    result = -1
    made = None
    if path:
        if path.endswith("_"):
            ext = f"{server_ip}:{server_port}"
        try:
            os.mkdir(path + ext, 0o700)
            os.chmod(path + ext, 0o700)
            made = path + ext
            result = 0
        except OSError:
            result = -1
    enc = conn.encoder().put_int(result)
    if ext:
        enc.put_string(ext)
    yield Send(enc.data)
    try:
        reply = yield RECV
        dec = reply.decoder()
        ok = dec.get_int() == 0
        dec.finish()
    finally:
        if made:
            try:
                os.rmdir(made)
            except OSError:
                pass
    return ok
