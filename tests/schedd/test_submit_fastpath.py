"""The submit fast path, end to end and against the general path:

- pyhtc's own client pipelines a 1,300-proc submit in batches (NewProc + NoAck
  SetAttribute2 per proc, replies read one batch late) to a real schedd with FS
  authentication and AES, and every proc lands with its own attributes;
- a submit refused in the middle (MAX_JOBS_PER_SUBMISSION) leaves nothing behind;
- the schedd's decoding of SetAttribute messages straight from their bytes
  (``_parse_set_attribute``, ``QmgmtSession._fast_set``) agrees with the CEDAR decoder
  on valid and malformed messages;
- the queue database's JSON encoding by hand equals ``json.dumps``.
"""
import json
import os
import random
import struct
import subprocess
import sys

import pytest

from daemon_helpers import start_daemon
from pyhtc.cedar.codec import Decoder, Encoder
from pyhtc.daemons.schedd import qmgmt as Q
from pyhtc.daemons.schedd.queue import Attrs
from pyhtc.daemons.schedd.queue_db import attrs_json

SECURE = {
    "_CONDOR_SEC_DEFAULT_AUTHENTICATION": "REQUIRED",
    "_CONDOR_SEC_DEFAULT_ENCRYPTION": "REQUIRED",
    "_CONDOR_SEC_DEFAULT_AUTHENTICATION_METHODS": "FS",
    "_CONDOR_UID_DOMAIN": "pyhtc.test",
}


def run_pyhtc(d, body: str) -> dict:
    code = f"""
import json
from pyhtc import classad
from pyhtc.htcondor._schedd import Schedd
from pyhtc.submit import Submit
s = Schedd(classad.ClassAd({{'MyAddress': {d.sinful!r}, 'CondorVersion': 'x'}}))
""" + body
    env = {k: v for k, v in os.environ.items() if not k.startswith("_CONDOR_")}
    env.update({"CONDOR_CONFIG": "ONLY_ENV", "_CONDOR_SEC_CLIENT_AUTHENTICATION_METHODS": "FS",
                "TZ": "UTC"})
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr + "\n--- schedd log ---\n" + d.log_text()[-3000:]
    return json.loads(r.stdout.strip().splitlines()[-1])


def test_pipelined_submit_and_refusal_midway(tmp_path):
    d = start_daemon("pyhtc.daemons.schedd.daemon", "SCHEDD", tmp_path, "SchedLog",
                     _CONDOR_MAX_JOBS_PER_SUBMISSION="1200", **SECURE)
    try:
        out = run_pyhtc(d, """
from pyhtc.htcondor._errors import HTCondorException
sub = Submit({'executable': '/bin/sleep', 'arguments': '60', 'output': 'out.$(Process)',
              'error': 'err.$(Process)', '+Tag': '"t$(Process)"'})
r = s.submit(sub, count=1100)
ads = s.query(f'ClusterId == {r.cluster()}', ['ProcId', 'Out', 'Err', 'Tag', 'JobStatus', 'Cmd'])
try:
    s.submit(sub, count=1300)   # the 1201st NewProc is refused (NEWJOB_ERR_MAX_JOBS_PER_SUBMISSION)
    refused = None
except HTCondorException as exc:
    refused = str(exc)
n = len(s.query('true', ['ProcId']))
print(json.dumps({'first': r.first_proc(), 'num': r.num_procs(), 'n': n, 'refused': refused,
                  'ads': sorted([a['ProcId'], a['Out'], a['Err'], a['Tag'], a['JobStatus'], a['Cmd']]
                                for a in ads)}))
""")
    finally:
        d.stop()
    assert out["first"] == 0 and out["num"] == 1100
    assert out["ads"] == [[p, f"out.{p}", f"err.{p}", f"t{p}", 1, "/bin/sleep"] for p in range(1100)]
    assert out["refused"] is not None and "NewProc" in out["refused"]
    assert out["n"] == 1100  # the refused submit left no proc behind


def _reference(payload: bytes, crypto: bool):
    """A SetAttribute(2) call decoded with the CEDAR Decoder, or None when it is not one
    or does not decode whole (what _parse_set_attribute must agree with)."""
    try:
        dec = Decoder(payload, crypto, 0, "test")
        op = dec.get_int()
        if op not in (Q.OP.SetAttribute, Q.OP.SetAttribute2):
            return None
        c, p = dec.get_int(), dec.get_int()
        value, name = dec.get_string(), dec.get_string()
        flags = dec.get_char() if op == Q.OP.SetAttribute2 else 0
        if dec.remaining or value is None or name is None:
            return None
        return c, p, value, name, flags
    except Exception:
        return None


def _call(crypto: bool, op: int, c: int, p: int, value: bytes, name: bytes, flags, rnd) -> bytes:
    enc = Encoder(crypto)
    enc.put_int(op).put_int(c).put_int(p)
    parts = [enc.data]
    for s in (value, name):
        if crypto:
            skew = rnd.choice([0, 0, 0, 0, -1, 1, -50]) if rnd else 0
            parts.append(struct.pack(">q", len(s) + 1 + skew) + s + b"\0")
        else:
            parts.append(s + b"\0")
    if flags is not None:
        parts.append(bytes(flags))
    return b"".join(parts)


def test_parse_set_attribute_agrees_with_decoder():
    rnd = random.Random(7)
    alphabet = [b"A", b"z", b"_", b"1", b'"', b"\0", b"\xff", b"\xc3\xa9", b" "]
    agreed = parsed = 0
    for _ in range(6000):
        crypto = rnd.random() < 0.7
        op = rnd.choice([Q.OP.SetAttribute2, Q.OP.SetAttribute2, Q.OP.SetAttribute, Q.OP.NewProc])
        value = b"".join(rnd.choice(alphabet) for _ in range(rnd.choice([0, 1, 3, 8])))
        name = b"".join(rnd.choice(alphabet[:4]) for _ in range(rnd.choice([0, 1, 4])))
        flags = [rnd.choice([0, 2, 2, 16])] * rnd.choice([0, 1, 1, 1, 2])
        if op == Q.OP.SetAttribute:
            flags = flags[:0] if rnd.random() < 0.8 else flags
        payload = _call(crypto, op, rnd.randint(-1, 3), rnd.randint(-1, 3), value, name, flags, rnd)
        if rnd.random() < 0.05:
            payload = payload[:rnd.randrange(len(payload))]
        got = Q._parse_set_attribute(payload, crypto)
        want = _reference(payload, crypto)
        if got is not None:
            parsed += 1
            assert got == want, payload
        agreed += 1
    assert parsed > 1000  # the valid shapes were exercised


class _Schedd:
    secure_attrs = frozenset({"secret"})


class _Session(Q.QmgmtSession):
    """Just what _fast_set reads: a transaction with cluster 5 (procs 0..2) being submitted."""

    def __init__(self, queue):
        self.s = _Schedd()
        self.read_only = False
        self.fqu = "u@pyhtc.test"
        self.errors = []
        self._name_bytes = {}
        self.tx = queue.begin("u@pyhtc.test")
        self.tx.new_clusters.add(5)
        self.tx.staged[(5, -1)] = Attrs()
        self.tx.next_proc[5] = 0
        for _ in range(3):
            self.tx.new_proc(5)
        self.active_cluster = 5


def test_fast_set_takes_only_what_the_general_path_would_accept(tmp_path):
    from pyhtc.daemons.schedd.queue import JobQueue
    from pyhtc.daemons.schedd.queue_db import JobQueueDB
    q = JobQueue(JobQueueDB(str(tmp_path / "q.db")))
    sess = _Session(q)

    def call(c, p, value, name, flags=Q.NO_ACK):
        return _call(True, Q.OP.SetAttribute2, c, p, value.encode(), name.encode(), [flags], None)

    assert sess._fast_set(call(5, 1, '"out.1"', "Out"))
    assert sess._fast_set(call(5, 2, "1", "JobStatus"))
    assert sess.tx.staged[(5, 1)]["out"] == ("Out", '"out.1"')
    assert sess.tx.staged[(5, 2)]["jobstatus"] == ("JobStatus", "1")
    refused = [
        call(5, 3, "1", "X"),              # no such proc yet
        call(5, -1, "1", "X"),             # the cluster ad: the general path
        call(6, 0, "1", "X"),              # not the active cluster
        call(5, 0, "1", "X", flags=0),     # wants a reply
        call(5, 0, "1", "Owner"),          # special: the schedd fills it in
        call(5, 0, "1", "Secret"),         # SECURE_JOB_ATTRS are ignored, not set
        call(5, 0, "1", "bad name"),       # not an attribute name
        call(5, 0, "(1 +", "X"),           # not an expression
        call(5, 0, "", "X"),               # empty value
        call(5, 0, "a\0b", "X"),           # a NUL inside the value
    ]
    for payload in refused:
        assert not sess._fast_set(payload), payload
    assert sorted(sess.tx.staged[(5, 0)]) == []
    sess.errors.append((22, "earlier NoAck error"))
    assert not sess._fast_set(call(5, 0, "1", "X"))  # after an error: the general path


@pytest.mark.parametrize("attrs", [
    {"ProcId": "3", "Out": '"out.3"', "Note": '"caf\u00e9 \\"q\\" \\\\ \ttab"'},
    {"Weird": '"\udcff surrogate"', "Ctl": '"\x01\x1f"'},
    {},
])
def test_attrs_json_equals_json_dumps(attrs):
    want = json.dumps(attrs, separators=(",", ":"))
    assert attrs_json(attrs) == want
    a = Attrs()
    for k, v in attrs.items():
        a.set(k, v)
    assert a.json_text() == want
    assert attrs_json({"n": 5}) == '{"n":5}'  # not all strings: json.dumps itself


def test_template_diffs_with_braces_equal_the_full_build(monkeypatch):
    """The per-proc values a submit sends come from str.format_map patterns of the template
    (proctemplate._format_of): literal braces must survive, as in the full build."""
    import pyhtc.submit.submit as S
    from pyhtc.submit import Submit
    from pyhtc.submit.proctemplate import TemplateAds
    desc = {"executable": "/bin/echo", "arguments": "{a}}$(Process){{", "+Tag": '"{x}$(Process)"',
            "output": "o{$(Item)}.out"}
    fast = Submit(desc).cluster(clusterid=3, qdate=1000, itemdata=[f"i{n}" for n in range(12)])
    monkeypatch.setattr(S, "TEMPLATE_MIN_PROCS", 10 ** 9)
    slow = Submit(desc).cluster(clusterid=3, qdate=1000, itemdata=[f"i{n}" for n in range(12)])
    assert isinstance(fast.full_ads, TemplateAds) and not isinstance(slow.full_ads, TemplateAds)
    assert list(fast.proc_ads) == list(slow.proc_ads)
    assert fast.proc_ads[5]["Out"] == '"o{i5}.out"' and fast.proc_ads[5]["Tag"] == '"{x}5"'
