"""Offline decoding of captured CEDAR TCP connections (both directions), for tests and
debugging: ``decode_tcp_capture(c2s_bytes, s2c_bytes, key)`` follows the handshake of
PROTOCOL.md 4 (raw command, new session with optional FS/CLAIMTOBE authentication, or session
resumption), switches to AES-GCM where the real peers did, and returns every message of both
directions in order.  Needs the session key for encrypted captures (printed in the
transcripts of the shared vectors).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .commands import AUTH_BIT_NAMES, Command
from .errors import ConnectionClosed, ProtocolError
from .framing import Message, ReliConnection
from .wire_ad import WireAd, get_ad


@dataclass
class Capture:
    """Decoded capture: messages per direction, first command int, the DC_AUTHENTICATE ad
    and the server's first reply ad (if negotiated), and where AES started."""
    c2s: list[Message] = field(default_factory=list)
    s2c: list[Message] = field(default_factory=list)
    first_int: int | None = None
    auth_ad: WireAd | None = None
    reply_ad: WireAd | None = None
    encrypted: bool = False
    s2c_base_iv: bytes | None = None
    c2s_base_iv: bytes | None = None
    c2s_cleartext_bytes: int = 0
    s2c_cleartext_bytes: int = 0
    auth_method: str | None = None


def _next(conn: ReliConnection, out: list[Message]) -> Message | None:
    try:
        m = conn.next_message()
    except ConnectionClosed:
        return None
    if m is not None:
        out.append(m)
    return m


def decode_tcp_capture(c2s: bytes, s2c: bytes, key: bytes | None = None) -> Capture:
    """Decode both directions of one connection.  Raises ProtocolError on malformed data
    (including a trailing partial packet)."""
    srv = ReliConnection(keep_cleartext=True)  # server's view: receives c2s
    cli = ReliConnection(keep_cleartext=True)  # client's view: receives s2c
    srv.receive_data(c2s)
    srv.receive_data(b"")
    cli.receive_data(s2c)
    cli.receive_data(b"")
    cap = Capture()
    m1 = _next(srv, cap.c2s)
    if m1 is None:
        _drain(srv, cli, cap)
        return cap
    dec = m1.decoder()
    cap.first_int = dec.get_int()
    if cap.first_int == Command.DC_AUTHENTICATE:
        cap.auth_ad = get_ad(dec)
        dec.finish()
        _handshake(srv, cli, cap, key)
    _drain(srv, cli, cap)
    return cap


def _int_of(m: Message | None) -> int | None:
    if m is None:
        return None
    d = m.decoder()
    v = d.get_int()
    return v


def _handshake(srv, cli, cap: Capture, key: bytes | None) -> None:
    reply = _next(cli, cap.s2c)
    if reply is None:
        return
    d = reply.decoder()
    cap.reply_ad = get_ad(d)
    d.finish()
    resume = (cap.auth_ad.get_str("UseSession") or "").upper() == "YES"
    if not resume and (cap.reply_ad.get_str("Authentication") or "").upper() == "YES":
        if not _authentication(srv, cli, cap):
            return
        _next(cli, cap.s2c)  # int hasKey
    keyed = cap.reply_ad.get_str("ECDHPublicKey") if not resume else True
    if key is not None and keyed:
        cap.c2s_cleartext_bytes = srv.bytes_received
        cap.s2c_cleartext_bytes = cli.bytes_received

        _account(srv, cli)
        srv.enable_aes(key)
        cli.enable_aes(key)
        cap.encrypted = True


def _authentication(srv, cli, cap: Capture) -> bool:
    """Follow authentication.cpp handshake rounds; True when a method succeeded."""
    for _ in range(16):
        if _next(srv, cap.c2s) is None:  # client's method bitmask
            return False
        chosen = _int_of(_next(cli, cap.s2c))
        if not chosen:
            return False
        method = AUTH_BIT_NAMES.get(chosen)
        if method == "FS":
            _next(cli, cap.s2c)
            _next(srv, cap.c2s)
            ok = _int_of(_next(cli, cap.s2c)) == 0
        elif method == "CLAIMTOBE":
            _next(srv, cap.c2s)
            ok = _int_of(_next(cli, cap.s2c)) == 1
        elif method == "TOKEN":  # M1, M2, M3 (AUTH.md 1.4); no verdict message
            m1 = _next(srv, cap.c2s)
            m2 = _next(cli, cap.s2c)
            ok = _int_of(m1) == 0 and _int_of(m2) == 0
            m3 = _next(srv, cap.c2s) if ok else None
            ok = ok and _int_of(m3) == 0
            if not ok:
                return False
        elif method == "SSL":
            ok = _ssl_rounds(srv, cli, cap)
        else:
            return False
        if ok:
            cap.auth_method = method
            return True
    return False


# condor_auth_ssl.cpp status codes (AUTH.md 3)
_SSL_HOLDING, _SSL_QUITTING, _SSL_ERROR = 4, 3, -1


def _ssl_status(m: Message | None) -> int | None:
    """Status of a tunnelled-TLS data message ``int status, int len, bytes(len)``."""
    if m is None:
        return None
    d = m.decoder()
    status = d.get_int()
    if not d.at_end():
        n = d.get_int()
        if not 0 <= n <= 1 << 20:
            raise ProtocolError(f"{d.what}: bad SSL chunk length {n}", d.offset)
        d.get_bytes(n)
    d.finish()
    return status


def _ssl_rounds(srv, cli, cap: Capture) -> bool:
    """SSL: status exchange, lock-step handshake rounds (client first), key rounds (server
    first), stopping when both sides report HOLDING (AUTH.md 3)."""
    if _ssl_status(_next(cli, cap.s2c)) != 0 or _ssl_status(_next(srv, cap.c2s)) != 0:
        return False
    for first, second in (((srv, cap.c2s), (cli, cap.s2c)), ((cli, cap.s2c), (srv, cap.c2s))):
        states = [None, None]
        turn = 0
        for _ in range(64):
            conn, out = (first, second)[turn]
            st = _ssl_status(_next(conn, out))
            if st is None or st in (_SSL_QUITTING, _SSL_ERROR):
                return False
            states[turn] = st
            if states == [_SSL_HOLDING, _SSL_HOLDING]:
                break
            turn ^= 1
        else:
            return False
    return True


def _account(srv: ReliConnection, cli: ReliConnection) -> None:
    srv.record_sent(cli._consumed_wire())
    cli.record_sent(srv._consumed_wire())


def _drain(srv, cli, cap: Capture) -> None:
    while _next(srv, cap.c2s) is not None:
        pass
    while _next(cli, cap.s2c) is not None:
        pass
    cap.s2c_base_iv = cli.recv_base_iv
    cap.c2s_base_iv = srv.recv_base_iv


def main(argv: list[str] | None = None) -> int:
    """``python -m pyhtc.cedar.replay C2S.bin S2C.bin [HEXKEY]``: print every message of a
    captured connection (direction, packets, length, payload preview)."""
    import sys
    args = sys.argv[1:] if argv is None else argv
    if len(args) not in (2, 3):
        print(main.__doc__, file=sys.stderr)
        return 2
    with open(args[0], "rb") as f:
        c2s = f.read()
    with open(args[1], "rb") as f:
        s2c = f.read()
    key = bytes.fromhex(args[2]) if len(args) == 3 else None
    try:
        cap = decode_tcp_capture(c2s, s2c, key)
    except ProtocolError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"first int {cap.first_int}, encrypted={cap.encrypted}, auth={cap.auth_method}")
    for label, msgs in (("C->S", cap.c2s), ("S->C", cap.s2c)):
        for m in msgs:
            mode = "aes" if m.crypto_mode else "clear"
            print(f"{label} #{m.index} @{m.offset} {m.packets} pkt {len(m.payload)} B {mode}: "
                  f"{m.payload[:60]!r}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
