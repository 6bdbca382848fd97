"""condor_q against a real schedd (FS authentication + AES): the bulk reader
(client/schedd_query.query_job_ads) returns the ads the per-message reader
(ScheddClient.query) returns, and ``condor_q -af`` prints what the general rendering of
those ads prints; the schedd's direct framing of job messages (commands.MessageBatch.put_job)
is what both read."""
import json
import os
import subprocess
import sys

import pytest

from daemon_helpers import start_daemon

SECURITY = {"_CONDOR_SEC_DEFAULT_AUTHENTICATION": "REQUIRED",
            "_CONDOR_SEC_DEFAULT_ENCRYPTION": "REQUIRED",
            "_CONDOR_SEC_DEFAULT_AUTHENTICATION_METHODS": "FS"}

CHILD = r"""
import contextlib, io, json, sys
from pyhtc import classad
from pyhtc.htcondor._schedd import Schedd
from pyhtc.htcondor import JobAction
from pyhtc.submit import Submit
from pyhtc.client.schedd import ScheddClient
from pyhtc.client.schedd_query import query_job_ads
from pyhtc.tools import q
sinful = sys.argv[1]
schedd = Schedd(classad.ClassAd({"MyAddress": sinful, "CondorVersion": "x"}))
c1 = schedd.submit(Submit({"executable": "/bin/sleep", "arguments": "60",
                           "output": "out.$(Process)"}), count=250).cluster()
c2 = schedd.submit(Submit({"executable": "/bin/true", "+Weight": "ProcId * 2",
                           "request_memory": "ifThenElse(ProcId > 1, 128, 64)"}), count=4).cluster()
schedd.act(JobAction.Hold, f"{c1}.7")
client = ScheddClient(sinful)
out = {}
def strip(ads):  # ServerTime: the second each query was answered
    return [[list(p) for p in a if p[0] != "ServerTime"] for a in ads]
for key, proj in [("full", []), ("ids", ["ClusterId", "ProcId", "JobStatus"]),
                  ("expr", ["Weight", "RequestMemory", "Out"])]:
    summary = []
    ref = client.query(None, proj, -1, 0, True, summary)
    blocks, summ = query_job_ads(client, None, proj)
    out[key] = [strip(blocks.ads()) == strip(ref), blocks.n_ads(),
                strip([summ]) == strip(summary)]
for args in (["-af", "ClusterId", "ProcId", "JobStatus"], ["-af:,", "Weight", "Out", "ProcId"],
             ["-format", "%d.", "ClusterId", "-format", "%d\n", "ProcId"]):
    ads = client.query(None, q.custom_projection(q.parse_args(args).custom))
    want = q.render(q.parse_args(args), [q.fast_classad(w) for w in ads], None, "")
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        rc = q.main(["-allusers"] + args)
    out[" ".join(args)] = [rc, buf.getvalue() == want, buf.getvalue().count("\n")]
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def schedd(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("schedd")
    d = start_daemon("pyhtc.daemons.schedd.daemon", "SCHEDD", tmp, "SchedLog", **SECURITY)
    yield d, tmp
    d.stop()


def test_bulk_reader_and_af_output_match_the_general_path(schedd):
    d, tmp = schedd
    env = {k: v for k, v in os.environ.items() if not k.startswith("_CONDOR_")}
    env.update({"CONDOR_CONFIG": "ONLY_ENV", "TZ": "UTC",
                "_CONDOR_SCHEDD_ADDRESS_FILE": str(tmp / ".schedd_address"),
                "_CONDOR_SEC_CLIENT_AUTHENTICATION_METHODS": "FS"})
    r = subprocess.run([sys.executable, "-c", CHILD, d.sinful], env=env, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["full"] == [True, 254, True]
    assert out["ids"] == [True, 254, True]
    assert out["expr"] == [True, 254, True]
    assert out["-af ClusterId ProcId JobStatus"] == [0, True, 254]
    assert out["-af:, Weight Out ProcId"] == [0, True, 254]
    assert out["-format %d. ClusterId -format %d\n ProcId"] == [0, True, 254]
