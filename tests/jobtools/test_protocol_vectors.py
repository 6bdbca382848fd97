"""The schedd client's messages against what the real htcondor2 25.14.1 client sent in the
shared captures (vectors e08/e09 QUERY_JOB_ADS, e20-e22 ACT_ON_JOBS, e23 QMGMT submit)."""
from __future__ import annotations

import pytest

from pyhtc import classad as C
from pyhtc.cedar.codec import Decoder, Encoder
from pyhtc.cedar.replay import decode_tcp_capture
from pyhtc.cedar.wire_ad import WireAd, get_ad, put_ad
from pyhtc.client.schedd import Q, QmgmtConnection, ScheddClient, encode_call
from pyhtc.htcondor import JobAction
from pyhtc.htcondor._schedd import Schedd
from pyhtc.submit import Submit
from tests.conftest import SHARED

VDIR = SHARED / "cedar" / "vectors"


def _capture(name: str):
    import re
    c2s = (VDIR / f"{name}.conn1.c2s.bin").read_bytes()
    s2c = (VDIR / f"{name}.conn1.s2c.bin").read_bytes()
    m = re.search(r"AES-GCM enabled; key=([0-9a-f]{64})", (VDIR / f"{name}.conn1.txt").read_text(errors="replace"))
    return decode_tcp_capture(c2s, s2c, bytes.fromhex(m.group(1)) if m else None)


def _ad_message(cap, attr: str):
    """The client's message holding a ClassAd with ``attr`` (the command payload)."""
    for m in cap.c2s:
        try:
            d = m.decoder()
            ad = get_ad(d)
            d.finish()
        except Exception:
            continue
        if attr in ad:
            return m, ad
    raise AssertionError(f"no client ad with {attr}")


def _same_bytes(ours: WireAd, theirs: WireAd, message) -> None:
    """Same attributes and expressions; re-encoded in the captured order, same bytes."""
    assert dict((n.lower(), e) for n, e in ours) == dict((n.lower(), e) for n, e in theirs)
    ordered = WireAd((n, ours.expr(n)) for n, _ in theirs)
    enc = Encoder(message.crypto_mode)
    put_ad(enc, ordered)
    assert enc.data == message.payload


@pytest.mark.parametrize("name,args", [
    ("e08_schedd_query_plain", ("True", [], -1)),
    ("e09_schedd_query_aes_projection", ('Owner == "alice"', ["ClusterId", "ProcId", "Owner"], 10)),
])
def test_query_request_matches_real_client(name, args):
    cap = _capture(name)
    msg, theirs = _ad_message(cap, "SendServerTime")
    ours = ScheddClient.query_request(*args)
    _same_bytes(ours, theirs, msg)


@pytest.mark.parametrize("name", ["e20_schedd_act_raw_forceauth_fs", "e21_schedd_act_negotiated_fs_auth_aes",
                                  "e22_schedd_act_negotiation_never_forceauth"])
def test_act_request_matches_real_client(name):
    cap = _capture(name)
    msg, theirs = _ad_message(cap, "JobAction")
    # htcondor2.Schedd.act(JobAction.Hold, "ClusterId == 1") passes reason_code str(None)
    ours = ScheddClient.act_request(int(JobAction.Hold), "ClusterId == 1", None, "Python-initiated action", "None")
    _same_bytes(ours, theirs, msg)
    # after the result ad the client confirms with int 1
    last = cap.c2s[-1]
    assert last.payload == Encoder(last.crypto_mode).put_int(1).data


def test_act_request_by_ids_and_reasons():
    ad = ScheddClient.act_request(3, None, ["1.0", "2.3"], "via condor_rm", None, 1)
    assert dict(ad) == {"JobAction": "3", "ActionResultType": "1", "ActionIds": '"1.0,2.3"',
                        "RemoveReason": '"via condor_rm"'}
    ad = ScheddClient.act_request(5, "true", None, "ignored")
    assert "VacateReason" not in ad and "HoldReason" not in ad and ad.expr("ActionConstraint") == "true"
    with pytest.raises(ValueError, match="invalid constraint"):
        ScheddClient.act_request(1, "ClusterId ==", None)


def test_history_request_forms():
    ad = ScheddClient.history_request("ClusterId == 3", ["ClusterId", "ProcId"], 5, "ClusterID == 2")
    assert dict(ad) == {"Requirements": "ClusterId == 3", "NumJobMatches": "5",
                        "Projection": '{"ClusterId", "ProcId"}', "Since": "ClusterID == 2"}
    tool = ScheddClient.history_request(None, ["A", "B"], -1, None, tool=True, scan_limit=7)
    assert dict(tool) == {"NumJobMatches": "-1", "StreamResults": "true", "ScanLimit": "7",
                          "Projection": '"A,B"'}


class ScriptedStream:
    """Stands in for a BlockingStream: records each sent message's payload and answers
    with the captured server messages in order."""

    def __init__(self, replies):
        self.sent: list[bytes] = []
        self.replies = list(replies)
        self._out = None
        self._in = None
        self.closed = False

    def _enc(self):
        if self._out is None:
            self._out = Encoder(True)
        return self._out

    def _dec(self):
        if self._in is None:
            self._in = Decoder(self.replies.pop(0).payload, True)
        return self._in

    def get_int(self):
        return self._dec().get_int()

    def get_ad(self):
        return get_ad(self._dec())

    def end_of_message(self):
        if self._out is not None and len(self._out):
            self.sent.append(self._out.data)
            self._out = None
        elif self._in is not None:
            self._in.finish()
            self._in = None
        return self

    def close(self):
        self.closed = True


def _decode_call(payload: bytes):
    d = Decoder(payload, True)
    op = d.get_int()
    if op == Q.SetAttribute2:
        out = (op, d.get_int(), d.get_int(), d.get_string(), d.get_string(), d.get_char())
    elif op in (Q.NewProc, Q.GetCapabilities):
        out = (op, d.get_int())
    else:
        out = (op,)
    d.finish()
    return out


def test_submit_sends_the_real_clients_qmgmt_sequence(monkeypatch):
    cap = _capture("e23_schedd_submit_qmgmt_fs_aes")
    theirs = [m.payload for m in cap.c2s if m.crypto_mode]
    replies = [m for m in cap.s2c if m.crypto_mode][1:]  # skip the post-auth ad
    stream = ScriptedStream(replies)
    schedd = Schedd(C.ClassAd({"MyAddress": "<127.0.0.1:9>", "CondorVersion": "x"}))
    monkeypatch.setattr(schedd._client, "qmgmt", lambda write=True: QmgmtConnection(stream))
    result = schedd.submit(Submit({"executable": "/bin/sleep", "arguments": "60"}), count=2)
    assert (result.cluster(), result.first_proc(), result.num_procs()) == (1, 0, 2)
    assert stream.closed and not stream.replies
    ours = stream.sent
    # same calls in the same order: opcodes, job ids, attribute names and NoAck flags
    shape = lambda calls: [(c[0], c[1:3] if c[0] == Q.SetAttribute2 else None,  # noqa: E731
                            c[4] if c[0] == Q.SetAttribute2 else None,
                            c[5] if c[0] == Q.SetAttribute2 else None) for c in calls]
    ours_calls = [_decode_call(p) for p in ours]
    theirs_calls = [_decode_call(p) for p in theirs]
    cluster = lambda calls: sorted(s for s in calls if s[0] == Q.SetAttribute2 and s[2] == -1)  # noqa: E731
    assert [c[0] for c in ours_calls] == [c[0] for c in theirs_calls]
    assert {c[4] for c in cluster(ours_calls)} == {c[4] for c in cluster(theirs_calls)}
    assert [s for s in shape(ours_calls) if s[1] != (1, -1)] == [s for s in shape(theirs_calls) if s[1] != (1, -1)]
    # byte-identical messages, except values that depend on the machine and the time
    varying = {"Iwd", "QDate", "EnteredCurrentStatus", "CondorVersion", "SubmitVersion",
               "CondorPlatform", "FileSystemDomain"}
    by_name = {(c[1], c[2], c[4]): p for c, p in zip(theirs_calls, theirs) if c[0] == Q.SetAttribute2}
    for c, p in zip(ours_calls, ours):
        if c[0] != Q.SetAttribute2:
            continue
        if c[4] in varying:
            continue
        assert p == by_name[(c[1], c[2], c[4])], c
    for i in (0, 1, 2, -2, -1):  # GetCapabilities, NewCluster, NewProc, Commit, CloseSocket
        assert ours[i] == theirs[i]


def test_encode_call_layout():
    data = encode_call(Encoder(False), Q.SetAttribute2, 4, -1, "1", "Foo", flags=2).data
    assert data == (b"\0" * 6 + b"'+" + b"\0" * 7 + b"\x04" + b"\xff" * 8 + b"1\0Foo\0\x02")
    assert encode_call(Encoder(False), Q.CommitTransaction, 0).data == b"\0" * 6 + b"'/" + b"\0" * 8


class _Reply:
    def __init__(self, payload: bytes):
        self.payload = payload


def _int_reply(*values) -> _Reply:
    enc = Encoder(True)
    for v in values:
        enc.put_int(v)
    return _Reply(enc.data)


def _scripted_schedd(monkeypatch, replies):
    stream = ScriptedStream(replies)
    schedd = Schedd(C.ClassAd({"MyAddress": "<127.0.0.1:9>", "CondorVersion": "x"}))
    monkeypatch.setattr(schedd._client, "qmgmt", lambda write=True: QmgmtConnection(stream))
    return schedd, stream


def test_submit_itemdata_and_queue_argument(monkeypatch):
    caps = Encoder(True)
    put_ad(caps, WireAd([("LateMaterialize", "true")]))
    replies = [_Reply(caps.data), _int_reply(5), _int_reply(0), _int_reply(1), _int_reply(0)]
    schedd, stream = _scripted_schedd(monkeypatch, replies)
    desc = Submit({"executable": "/bin/echo", "arguments": "$(x)"})
    r = schedd.submit(desc, itemdata=iter([{"x": "a"}, {"x": "b"}]))
    assert (r.cluster(), r.first_proc(), r.num_procs()) == (5, 0, 2)
    calls = [_decode_call(p) for p in stream.sent]
    args = {c[2]: c[3] for c in calls if c[0] == Q.SetAttribute2 and c[4] == "Args"}
    assert args == {-1: '"a"', 1: '"b"'}  # the cluster ad holds proc 0's value
    assert all(c[5] == 2 for c in calls if c[0] == Q.SetAttribute2)  # NoAck
    assert calls[-2:] == [(Q.CommitTransactionNoFlags,), (Q.CloseSocket,)]

    replies = [_Reply(caps.data), _int_reply(6)] + [_int_reply(p) for p in range(3)] + [_int_reply(0)]
    schedd, stream = _scripted_schedd(monkeypatch, replies)
    r = schedd.submit(Submit({"executable": "/bin/true"}), queue="queue 3")
    assert (r.cluster(), r.num_procs()) == (6, 3)
    with pytest.raises(ValueError, match="mutually exclusive"):
        schedd.submit(Submit({"executable": "/bin/true"}), count=2, queue="3")


def test_submit_refused_by_the_schedd(monkeypatch):
    from pyhtc.htcondor import HTCondorException
    caps = Encoder(True)
    put_ad(caps, WireAd())
    err = Encoder(True).put_int(-1).put_int(13)
    put_ad(err, WireAd([("ErrorReason", '"Submissions are disabled"'), ("ErrorCode", "13")]))
    schedd, stream = _scripted_schedd(monkeypatch, [_Reply(caps.data), _Reply(err.data)])
    with pytest.raises(HTCondorException, match="Submissions are disabled"):
        schedd.submit(Submit({"executable": "/bin/true"}))
    assert stream.closed and [_decode_call(p)[0] for p in stream.sent] == [Q.GetCapabilities, Q.NewCluster, Q.CloseSocket]
