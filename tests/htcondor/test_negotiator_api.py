"""pyhtc.htcondor.Negotiator and ping mirror htcondor2's: one program, run with each module
against the same real negotiator process, edits and reads the accounting and pings the
daemon; the answers must agree."""
import json
import os
import subprocess
import sys

from daemon_helpers import start_daemon

PROGRAM = r"""
import json, sys
H = __import__(sys.argv[1])
C = __import__(sys.argv[2])
who, addr = sys.argv[3], sys.argv[4]
neg = H.Negotiator(C.ClassAd({'MyAddress': addr}))
user = who + '@example.org'
neg.setPriority(user, 42.0)
neg.setFactor(user, 3.0)
neg.setUsage(user, 7.5)
neg.setCeiling(user, 9)
neg.setBeginUsage(user, 1700000000)
neg.setLastUsage(user, 1700000100)
out = {}
recs = {r['Name']: r for r in neg.getPriorities()}
r = recs[user]
# the priority decays while the program runs: compare to 0.1
out['rec'] = [round(r['Priority'], 1), round(r['PriorityFactor'], 1), round(r['WeightedAccumulatedUsage'], 1),
              r['Ceiling'], r['BeginUsageTime'], r['LastUsageTime']]
out['reslist'] = list(map(dict, neg.getResourceUsage(user)))
errors = []
for call in (lambda: neg.setFactor(user, 0.5), lambda: neg.setPriority('nodomain', 1.0),
             lambda: neg.setCeiling(user, -1), lambda: neg.getResourceUsage(5)):
    try:
        call()
        errors.append(None)
    except Exception as e:
        errors.append([type(e).__name__, str(e)])
out['errors'] = errors
neg.resetUsage(user)
out['after_reset'] = [x['WeightedAccumulatedUsage'] for x in neg.getPriorities() if x['Name'] == user]
neg.deleteUser(user)
out['deleted'] = user not in {x['Name'] for x in neg.getPriorities()}
p = H.ping(addr)
# a second ping in the same process: the daemon must not offer DC_SEC_QUERY for session reuse
# (htcondor2's ping cannot find a resumed session: "Failed to find session.")
p2 = H.ping(addr, 'WRITE')
out['ping'] = [p['AuthorizationSucceeded'], p['AuthCommand'], p['RemoteVersion'].split()[1],
               p2['AuthCommand'], '60040' in p['ValidCommands'].split(',')]
print(json.dumps(out, sort_keys=True))
"""


def run(module, classad_module, who, addr):
    env = {"PATH": os.environ["PATH"], "HOME": "/tmp", "CONDOR_CONFIG": "/dev/null", "TZ": "UTC"}
    r = subprocess.run([sys.executable, "-c", PROGRAM, module, classad_module, who, addr], env=env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_same_answers_as_htcondor2(tmp_path):
    neg = start_daemon("pyhtc.daemons.negotiator.daemon", "NEGOTIATOR", tmp_path, "NegotiatorLog",
                       _CONDOR_COLLECTOR_HOST="127.0.0.1:1", _CONDOR_NEGOTIATOR_INTERVAL=3600)
    try:
        real = run("htcondor2", "classad2", "real", neg.sinful)
        ours = run("htcondor", "classad", "ours", neg.sinful)
    finally:
        neg.stop()
    assert real == ours
    assert ours["rec"] == [126.0, 3.0, 7.5, 9, 1700000000, 1700000100]   # Priority = real * factor
    assert ours["deleted"] is True
    assert ours["errors"][0] == ["ValueError", "Priority factors must be >= 1"]
    assert ours["ping"] == [True, 60011, "25.14.1", 60021, False]
