"""condor_userprio against a real negotiator process (and the real htcondor2.Negotiator as
a second client of the same commands); the accountant survives a restart."""
import json
import subprocess
import sys
import time

import pytest

from daemon_helpers import daemon_env, run_client, start_daemon


def start_negotiator(tmp_path):
    return start_daemon("pyhtc.daemons.negotiator.daemon", "NEGOTIATOR", tmp_path, "NegotiatorLog",
                        _CONDOR_NEGOTIATOR_CHANGE_POLL_INTERVAL=0)


@pytest.fixture
def userprio(tmp_path):
    env = daemon_env(tmp_path, "TOOL")
    env["_CONDOR_NEGOTIATOR_ADDRESS_FILE"] = str(tmp_path / ".negotiator_address")
    env["TZ"] = "UTC"

    def run(*args):
        return subprocess.run([sys.executable, "-m", "pyhtc.tools.userprio", *args], env=env,
                              capture_output=True, text=True, timeout=60)
    return run


def test_setfactor_table_restart_and_edits(tmp_path, userprio):
    neg = start_negotiator(tmp_path)
    try:
        r = userprio("-setfactor", "alice@pool.test", "2500")
        assert r.returncode == 0, r.stderr + neg.log_text()
        assert r.stdout == "The priority factor of alice@pool.test was set to 2500.000000\n"
        assert userprio("-setfactor", "bob@pool.test", "1000").returncode == 0
        # bob was active 10 minutes ago and used 2 hours; alice never ran anything
        assert userprio("-setlast", "bob@pool.test", str(int(time.time()) - 600)).returncode == 0
        assert userprio("-setaccum", "bob@pool.test", "7200").returncode == 0
        r = userprio()
        assert r.returncode == 0, r.stderr
        lines = r.stdout.splitlines()
        assert lines[0].startswith("Last Priority Update: ")
        assert lines[1].split() == ["Effective", "Priority", "Wghted", "Total", "Usage",
                                    "Time", "Since", "Submitter", "Submitter"]
        assert lines[2].split() == ["User", "Name", "Priority", "Factor", "In", "Use",
                                    "(wghted-hrs)", "Last", "Usage", "Floor", "Ceiling"]
        assert set(lines[3]) == {"-", " "}
        # only users active in the last day by default: bob, not alice
        assert lines[4].split()[:5] == ["bob@pool.test", "500.00", "1000.00", "0", "2.00"]
        assert lines[4].split()[5] == "0+00:10"
        assert lines[6].startswith("Number of users: 1")
        r = userprio("-allusers")
        rows = {ln.split()[0]: ln.split() for ln in r.stdout.splitlines()[4:6]}
        assert rows["alice@pool.test"][1:3] == ["1250.00", "2500.00"]
        assert r.stdout.splitlines()[7].startswith("Number of users: 2")
        # sorted by effective priority, best first
        assert [ln.split()[0] for ln in r.stdout.splitlines()[4:6]] == ["bob@pool.test", "alice@pool.test"]
    finally:
        neg.stop()

    (tmp_path / ".negotiator_address").unlink()  # wait for the new daemon's address
    neg = start_negotiator(tmp_path)  # same SPOOL: the accountant database is kept
    try:
        r = userprio("-json", "-allusers")
        assert r.returncode == 0, r.stderr
        ads = {a["Name"]: a for a in json.loads(r.stdout)}
        assert ads["alice@pool.test"]["PriorityFactor"] == pytest.approx(2500)
        assert ads["bob@pool.test"]["WeightedAccumulatedUsage"] == pytest.approx(7200)
        # the real htcondor2.Negotiator reads the same state and edits it
        code = f"""
n = htcondor2.Negotiator(classad2.ClassAd({{'MyAddress': {neg.sinful!r}, 'Name': 'neg', 'MyType': 'Negotiator'}}))
prios = {{a['Name']: a['PriorityFactor'] for a in n.getPriorities()}}
n.setFactor('carol@pool.test', 4000.0)
n.resetUsage('bob@pool.test')
n.deleteUser('alice@pool.test')
print(json.dumps(prios))
"""
        r = run_client(code)
        assert r.returncode == 0, r.stderr + neg.log_text()
        prios = json.loads(r.stdout)
        assert prios["alice@pool.test"] == pytest.approx(2500) and prios["<none>"] == 0
        r = userprio("-long", "-allusers")
        assert 'Name = "carol@pool.test"' in r.stdout and "alice@pool.test" not in r.stdout
        assert "WeightedAccumulatedUsage = 0.0" in r.stdout
        r = userprio("-resetusage", "bob@pool.test")
        assert r.stdout == "The accumulated usage of bob@pool.test was reset\n", r.stderr + neg.log_text()[-2000:]
        r = userprio("-delete", "bob@pool.test")
        assert r.stdout == "The accountant record named bob@pool.test was deleted\n"
        assert "bob@pool.test" not in userprio("-allusers").stdout
    finally:
        neg.stop()


def test_errors(tmp_path, userprio):
    r = userprio("-setfactor", "nodomain", "5")
    assert r.returncode == 1 and "full name of the submittor" in r.stderr
    r = userprio("-setfactor", "a@b", "0.5")
    assert r.returncode == 1 and "greater than or equal to 1" in r.stderr
    r = userprio("-setprio", "a@b")
    assert r.returncode == 1 and "requires 2 argument" in r.stderr
    r = userprio()  # no negotiator running
    assert r.returncode == 1 and "condor_userprio:" in r.stderr
