"""condor_schedd killed with SIGKILL at random moments while real htcondor2 clients submit.

Four client processes (the real ``htcondor2.Schedd.submit``, FS authentication + AES) submit
20 clusters of 100 procs in all, retrying a submission after any failure; each records the
cluster ids whose ``submit()`` returned.  Meanwhile the test kills the schedd with SIGKILL at
seeded random moments (at least 20 times) and restarts it on the same spool.  Afterwards,
in the restarted schedd: every acknowledged cluster is whole (100 procs, every attribute,
each proc its own Arguments), no cluster is half there (a cluster whose commit landed but
whose answer was lost is whole too), and no cluster id or submission tag repeats.
(HTCondor: qmgmt.cpp commits a client transaction to the job queue log atomically.)
"""
import json
import pathlib
import random
import signal
import subprocess
import sys
import time

from daemon_helpers import run_client, start_daemon

UID_DOMAIN = "pyhtc.test"
ENV = {
    "_CONDOR_SEC_DEFAULT_AUTHENTICATION": "REQUIRED",
    "_CONDOR_SEC_DEFAULT_ENCRYPTION": "REQUIRED",
    "_CONDOR_SEC_DEFAULT_AUTHENTICATION_METHODS": "FS",
    "_CONDOR_UID_DOMAIN": UID_DOMAIN,
    "_CONDOR_SCHEDD_DEBUG": "",
}
SEED = 20261122
CLIENTS, CLUSTERS_EACH, PROCS = 4, 5, 100
MIN_KILLS = 20

# One client: submits CLUSTERS_EACH clusters; every try has its own tag (+CrashTag); prints
# one JSON line per acknowledged cluster and per failed try.  It re-reads the address file
# before each try (the restarted schedd listens on a new port).
CLIENT = r"""
import random, sys, time
addr_file, me, n, procs, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
rng = random.Random(seed)
done = tries = 0
deadline = time.time() + 240
while done < n and time.time() < deadline:
    tries += 1
    tag = f"c{me}_k{done}_t{tries}"
    try:
        sinful = open(addr_file).read().splitlines()[0]
        ad = classad2.ClassAd({'MyAddress': sinful, 'Name': 'crash-schedd',
                               'CondorVersion': '$CondorVersion: 25.14.1 2026-09-24 $'})
        sub = htcondor2.Submit({'executable': '/bin/sleep', 'arguments': '$(Process)',
                                'request_memory': '64', 'output': 'out.$(Cluster).$(Process)',
                                '+CrashTag': '"%s"' % tag, '+Client': str(me)})
        r = htcondor2.Schedd(ad).submit(sub, count=procs)
        print(json.dumps({'ack': r.cluster(), 'tag': tag, 'procs': r.num_procs()}), flush=True)
        done += 1
    except Exception as exc:
        print(json.dumps({'fail': tag, 'error': str(exc)[:200]}), flush=True)
        time.sleep(rng.uniform(0.02, 0.2))
    time.sleep(rng.uniform(0.0, 0.6))
"""


def _start(tmp_path):
    return start_daemon("pyhtc.daemons.schedd.daemon", "SCHEDD", tmp_path, "SchedLog", **ENV)


def _spawn_clients(tmp_path):
    import os
    env = {"PATH": os.environ["PATH"], "HOME": "/tmp", "CONDOR_CONFIG": "/dev/null", "TZ": "UTC"}
    code = "import htcondor2, classad2, json\n" + CLIENT
    addr = str(tmp_path / ".schedd_address")
    return [subprocess.Popen([sys.executable, "-c", code, addr, str(i), str(CLUSTERS_EACH),
                              str(PROCS), str(SEED + i)], env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
            for i in range(CLIENTS)]


def test_sigkill_while_real_clients_submit(tmp_path):
    t0 = time.time()
    rng = random.Random(SEED)
    addr = tmp_path / ".schedd_address"
    d = _start(tmp_path)
    clients = _spawn_clients(tmp_path)
    kills = 0
    try:
        # MIN_KILLS kills at random moments while the clients work (if they finish first,
        # the rest hit an idle queue); then the last schedd stays up for them to finish
        while kills < MIN_KILLS and time.time() - t0 < 180:  # generous: a loaded machine starts daemons slowly
            time.sleep(rng.uniform(0.05, 1.2))
            d.proc.send_signal(signal.SIGKILL)
            d.proc.wait()
            kills += 1
            addr.unlink(missing_ok=True)  # a killed schedd leaves its address file behind
            d = _start(tmp_path)
        outs = []
        for c in clients:
            out, err = c.communicate(timeout=max(30.0, 250 - (time.time() - t0)))
            assert c.returncode == 0, err
            outs.append(out)
        verify = run_client(f"""
sinful = open({str(addr)!r}).read().splitlines()[0]
s = htcondor2.Schedd(classad2.ClassAd({{'MyAddress': sinful, 'Name': 'crash-schedd',
                    'CondorVersion': '$CondorVersion: 25.14.1 2026-09-24 $'}}))
jobs = [{{'c': a['ClusterId'], 'p': a['ProcId'], 'tag': a.get('CrashTag'), 'args': a.get('Args'),
          'names': sorted(k.lower() for k in a.keys() if k != 'ServerTime')}} for a in s.query()]
print(json.dumps(jobs))
""")
        assert verify.returncode == 0, verify.stderr + d.log_text()[-3000:]
    finally:
        for c in clients:
            if c.poll() is None:
                c.kill()
        d.stop()
    assert kills >= MIN_KILLS
    acks, fails = [], []
    for out in outs:
        for line in out.splitlines():
            rec = json.loads(line)
            (acks if "ack" in rec else fails).append(rec)
    assert len(acks) == CLIENTS * CLUSTERS_EACH, (len(acks), fails[-3:])
    print(f"crash test: {kills} kills, {len(acks)} acknowledged, {len(fails)} failed tries, "
          f"{time.time() - t0:.1f} s")
    assert fails, "no submission was ever interrupted: the kills missed every client"

    jobs = json.loads(verify.stdout.strip().splitlines()[-1])
    by_cluster: dict[int, list] = {}
    for j in jobs:
        by_cluster.setdefault(j["c"], []).append(j)
    # a retried submission gets a new id: acknowledged ids are all distinct
    ack_ids = [a["ack"] for a in acks]
    assert len(set(ack_ids)) == len(ack_ids)
    reference = None
    tags_seen = set()
    for cid, procs in by_cluster.items():
        # no cluster is half there: whole, one tag, procs 0..99, each its own Arguments
        assert sorted(j["p"] for j in procs) == list(range(PROCS)), (cid, len(procs))
        tags = {j["tag"] for j in procs}
        assert len(tags) == 1 and None not in tags, (cid, tags)
        tag = tags.pop()
        assert tag not in tags_seen, f"submission {tag} landed twice"
        tags_seen.add(tag)
        assert all(j["args"] == str(j["p"]) for j in procs), cid
        for j in procs:
            if reference is None:
                reference = j["names"]
            assert j["names"] == reference, (cid, j["p"], set(reference) ^ set(j["names"]))
    for a in acks:  # every acknowledged cluster is there, with the tag its client sent
        assert a["ack"] in by_cluster, f"acknowledged cluster {a['ack']} ({a['tag']}) is missing"
        assert by_cluster[a["ack"]][0]["tag"] == a["tag"]
        assert a["procs"] == PROCS
    # clusters present but never acknowledged are only ones whose answer was lost in a kill
    unacked = set(by_cluster) - set(ack_ids)
    fail_tags = {f["fail"] for f in fails}
    assert all(by_cluster[c][0]["tag"] in fail_tags for c in unacked)
    assert {"clusterid", "procid", "owner", "cmd", "args", "jobstatus", "qdate", "requestmemory",
            "crashtag", "client"} <= set(reference)
