"""pyhtc.htcondor mirrors htcondor2: the same program, run once with each module against our
collector, gives the same answers."""
import json
import os
import subprocess
import sys

import pytest

from daemon_helpers import start_daemon

PROGRAM = r"""
import json, sys, time
H = __import__(sys.argv[1])
C = __import__(sys.argv[2])
coll = H.Collector(sys.argv[3])
slots = [C.ClassAd({'MyType': 'Machine', 'Name': 'slot%d@%s' % (i, sys.argv[1]), 'Machine': 'm',
                    'Cpus': i, 'MyAddress': '<127.0.0.1:9>'}) for i in range(1, 4)]
coll.advertise(slots, 'UPDATE_STARTD_AD')
coll.advertise([C.ClassAd({'MyType': 'Scheduler', 'Name': 'schedd-' + sys.argv[1], 'MyAddress': '<127.0.0.1:8>'})], 'UPDATE_SCHEDD_AD')
out = {}
mine = 'regexp("%s$", Name)' % sys.argv[1]
out['startd'] = sorted((a['Name'].split('@')[0], a['Cpus']) for a in coll.query(H.AdTypes.Startd, constraint=mine, projection=['Name', 'Cpus']))
out['big'] = sorted(a['Name'].split('@')[0] for a in coll.query(H.AdType.Startd, constraint='Cpus > 1 && ' + mine))
loc = coll.locate(H.DaemonType.Schedd, 'schedd-' + sys.argv[1])
out['locate'] = [loc['Name'].split('-')[0], loc['MyAddress']]
out['missing'] = repr(coll.locate(H.DaemonType.Schedd, 'nosuch'))
out['enums'] = [int(H.JobStatus.HELD), int(H.DaemonCommand.Reconfig), int(H.AdTypes.Generic), int(H.JobAction.Release)]
print(json.dumps(out, sort_keys=True))
"""


def run(module, classad_module, pool, tmp_path):
    env = {"PATH": os.environ["PATH"], "HOME": "/tmp", "CONDOR_CONFIG": "/dev/null", "TZ": "UTC"}
    r = subprocess.run([sys.executable, "-c", PROGRAM, module, classad_module, pool], env=env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_same_answers_as_htcondor2(tmp_path):
    coll = start_daemon("pyhtc.daemons.collector.daemon", "COLLECTOR", tmp_path, "CollectorLog")
    try:
        real = run("htcondor2", "classad2", coll.host_port, tmp_path)
        ours = run("htcondor", "classad", coll.host_port, tmp_path)
    finally:
        coll.stop()
    assert real == ours
    assert ours["startd"] == [["slot1", 1], ["slot2", 2], ["slot3", 3]]
    assert ours["missing"] == "None"
