"""The shadow's claim commands (pyhtc.daemons.shadow.claimcmd): the session the schedd hands
over in the claim file is exactly the claim's match session, the claim file keeps its old
one-line form readable, numeric addresses connect without resolving, and ACTIVATE-style
commands resume the session at a real CEDAR server (or negotiate when it is unknown)."""
import asyncio
import socket
import threading
import time

import pytest

from pyhtc.cedar.security.match import (EXECUTE_SIDE_MATCHSESSION_FQU, SUBMIT_SIDE_MATCHSESSION_FQU,
                                        ClaimId, claim_session, new_claim_id)
from pyhtc.cedar.security.policy import SecurityPolicy
from pyhtc.cedar.transport_asyncio import CommandServer
from pyhtc.daemoncore import handoff as H
from pyhtc.daemoncore.handoff import read_claim_file, session_line, write_claim_file
from pyhtc.daemons.shadow.claimcmd import ClaimCommands, connect

CMD = 444


@pytest.mark.parametrize("duration", [0, 600])
def test_session_line_is_the_claim_session(duration):
    cid = new_claim_id("<127.0.0.1:5?addrs=127.0.0.1-5&noUDP>", 1700000000, 3, duration=duration)
    line = session_line(cid.text)
    assert "\n" not in line
    got = H._session_from_line(line, cid.text)
    assert got == claim_session(cid, EXECUTE_SIDE_MATCHSESSION_FQU)


def test_session_line_refusals():
    assert session_line("<h:1>#1#1#abcd") == ""          # no session in the claim id
    assert session_line("") == ""
    a = new_claim_id("<127.0.0.1:5>", 1, 1).text
    b = new_claim_id("<127.0.0.1:5>", 1, 2).text
    assert H._session_from_line(session_line(a), b) is None   # made for another claim
    assert H._session_from_line("{not json", a) is None
    assert H._session_from_line('{"sid": 3}', a) is None


def test_claim_file_forms(tmp_path):
    cid = new_claim_id("<127.0.0.1:5>", 1, 1).text
    p = str(tmp_path / "c")
    write_claim_file(p, cid, session_line(cid))
    assert (tmp_path / "c").stat().st_mode & 0o777 == 0o600
    claim, session = read_claim_file(p)
    assert claim == cid and session == claim_session(ClaimId(cid), EXECUTE_SIDE_MATCHSESSION_FQU)
    (tmp_path / "old").write_text(cid + "\n")               # the one-line form
    assert read_claim_file(str(tmp_path / "old")) == (cid, None)
    write_claim_file(p, cid)
    assert read_claim_file(p) == (cid, None)
    with pytest.raises(FileNotFoundError):
        read_claim_file(str(tmp_path / "absent"))


def test_connect_numeric_and_named():
    srv = socket.create_server(("127.0.0.1", 0))
    port = srv.getsockname()[1]
    try:
        for host in ("127.0.0.1", "localhost"):
            s = connect(host, port, 5)
            peer, _ = srv.accept()
            assert s.gettimeout() == 5 and s.getpeername()[1] == port
            s.close()
            peer.close()
        with pytest.raises(OSError):
            connect("127.0.0.1", 1, 5)
    finally:
        srv.close()


@pytest.fixture
def server():
    """A CEDAR command server in a thread answering CMD with an echo of one string."""
    loop = asyncio.new_event_loop()
    got = []

    async def handler(stream):
        got.append(await stream.get_string())
        await stream.end_of_message()
        stream.put_string("ok:" + got[-1])
        await stream.end_of_message()

    srv = CommandServer(SecurityPolicy(), {CMD: handler}, udp=False)
    ready = threading.Event()

    def run():
        asyncio.set_event_loop(loop)
        loop.run_until_complete(srv.start("127.0.0.1", 0))
        ready.set()
        loop.run_forever()

    t = threading.Thread(target=run, daemon=True)
    t.start()
    assert ready.wait(10)
    yield srv, got
    loop.call_soon_threadsafe(loop.stop)
    t.join(5)


def _roundtrip(cc, text):
    with cc.start(CMD) as s:
        s.put_string(text)
        s.end_of_message()
        reply = s.get_string()
        s.end_of_message()
        return reply, s.result


@pytest.mark.parametrize("handed_over", [True, False])
def test_resume_claim_session(server, handed_over):
    srv, got = server
    cid = new_claim_id(f"<127.0.0.1:{srv.port}>", int(time.time()), 1)
    srv.sessions.add(claim_session(cid, SUBMIT_SIDE_MATCHSESSION_FQU))
    session = H._session_from_line(session_line(cid.text), cid.text) if handed_over else None
    cc = ClaimCommands(f"<127.0.0.1:{srv.port}?addrs=127.0.0.1-{srv.port}&noUDP>", cid.text,
                       SecurityPolicy(), True, session)
    for i in range(2):
        reply, result = _roundtrip(cc, f"x{i}")
        assert reply == f"ok:x{i}"
        assert result.session.sid == cid.session_id and result.encrypted   # resumed, AES on


def test_unknown_session_falls_back_to_negotiation(server):
    srv, got = server
    cid = new_claim_id(f"<127.0.0.1:{srv.port}>", int(time.time()), 2)   # never registered
    cc = ClaimCommands(f"<127.0.0.1:{srv.port}>", cid.text, SecurityPolicy())
    reply, result = _roundtrip(cc, "y")
    assert reply == "ok:y" and result.session.sid != cid.session_id


def test_no_session_wanted(server):
    srv, got = server
    cid = new_claim_id(f"<127.0.0.1:{srv.port}>", int(time.time()), 3)
    srv.sessions.add(claim_session(cid, SUBMIT_SIDE_MATCHSESSION_FQU))
    cc = ClaimCommands(f"127.0.0.1:{srv.port}", cid.text, SecurityPolicy(), use_session=False)
    assert cc.session is None
    reply, result = _roundtrip(cc, "z")
    assert reply == "ok:z" and result.session.sid != cid.session_id


def test_bad_address():
    with pytest.raises(ValueError):
        ClaimCommands("not an address", "c", SecurityPolicy())
