"""condor_q -analyze / -better-analyze end to end: a real condor_collector and condor_schedd
process, HTCondor's own test slot ads (../shared/real/ads/htcondor__basic4slot.ads)
advertised into the collector, jobs submitted to the schedd, and condor_q run as a separate
process (``python -m pyhtc.tools.q``) the way a user runs it."""
import os
import subprocess
import sys

import pytest

import pyhtc.classad as C
from daemon_helpers import start_daemon
from pyhtc.cedar.commands import Command
from pyhtc.client import CollectorClient
from pyhtc.config import Config

SECURITY = {
    "_CONDOR_SEC_DEFAULT_AUTHENTICATION": "REQUIRED",
    "_CONDOR_SEC_DEFAULT_ENCRYPTION": "REQUIRED",
    "_CONDOR_SEC_DEFAULT_AUTHENTICATION_METHODS": "FS",
}

_SUBMIT = """
from pyhtc import classad
from pyhtc.htcondor._schedd import Schedd
from pyhtc.submit import Submit
s = Schedd(classad.ClassAd({{'MyAddress': {sinful!r}, 'CondorVersion': 'x'}}))
for mem in ('100000', '100'):
    print(s.submit(Submit({{'executable': '/bin/sleep', 'arguments': '60', 'request_memory': mem}})).cluster())
"""


class Pool:
    def __init__(self, collector, schedd, tmp, clusters):
        self.collector, self.schedd, self.tmp = collector, schedd, tmp
        self.huge, self.small = clusters

    def env(self, **extra):
        env = {k: v for k, v in os.environ.items() if not k.startswith("_CONDOR_")}
        env.update({"CONDOR_CONFIG": "ONLY_ENV", "TZ": "UTC",
                    "_CONDOR_COLLECTOR_HOST": self.collector.host_port,
                    "_CONDOR_SCHEDD_ADDRESS_FILE": str(self.tmp / "s" / ".schedd_address"),
                    "_CONDOR_SEC_CLIENT_AUTHENTICATION_METHODS": "FS"})
        env.update(extra)
        return env

    def condor_q(self, *args, **env):
        return subprocess.run([sys.executable, "-m", "pyhtc.tools.q", *args], env=self.env(**env),
                              capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def pool(tmp_path_factory, shared_dir):
    tmp = tmp_path_factory.mktemp("analyze")
    (tmp / "c").mkdir()
    (tmp / "s").mkdir()
    coll = start_daemon("pyhtc.daemons.collector.daemon", "COLLECTOR", tmp / "c", "CollectorLog")
    try:
        schedd = start_daemon("pyhtc.daemons.schedd.daemon", "SCHEDD", tmp / "s", "SchedLog",
                              _CONDOR_COLLECTOR_HOST=coll.host_port, **SECURITY)
        try:
            p = Pool(coll, schedd, tmp, (None, None))
            slots = list(C.parseAds((shared_dir / "real" / "ads" / "htcondor__basic4slot.ads").read_text(),
                                    C.ParserType.Old))
            CollectorClient(config=Config.load("TOOL", environ=p.env(), read_user_config=False)) \
                .advertise(slots, Command.UPDATE_STARTD_AD)
            r = subprocess.run([sys.executable, "-c", _SUBMIT.format(sinful=schedd.sinful)], env=p.env(),
                               capture_output=True, text=True, timeout=60)
            assert r.returncode == 0, r.stderr
            p.huge, p.small = r.stdout.split()
            yield p
        finally:
            schedd.stop()
    finally:
        coll.stop()


def test_better_analyze_names_the_clause_that_rejects_every_slot(pool):
    r = pool.condor_q("-better-analyze", f"{pool.huge}.0")
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert out.startswith("\n\n-- Schedd: ")
    assert f"The Requirements expression for job {pool.huge}.000 is\n\n    (TARGET.Arch" in out
    assert "    RequestMemory = 100000 (mb)\n" in out
    table = out[out.index("reduces to these conditions:"):]
    rows = {ln.split(None, 2)[2]: int(ln.split()[1]) for ln in table.splitlines()
            if ln.startswith("[") and ln.split()[1].isdigit()}
    assert rows["TARGET.Memory >= RequestMemory"] == 0
    assert rows['TARGET.Arch == "X86_64"'] == 4
    assert "Of 4 slots on 1 machines,\n      4 slots are rejected by your job's requirements\n" in out
    assert "WARNING:  Be advised:\n   No machines matched the job's constraints\n" in out


def test_analyze_summary_forms(pool):
    # -analyze of a job some slots accept: only the run summary (no clause table)
    r = pool.condor_q("-analyze", pool.small)
    assert r.returncode == 0, r.stderr
    assert "Requirements expression" not in r.stdout
    assert "      2 slots match but are serving other users\n      2 slots match and are willing to run your job\n" in r.stdout
    # -analyze:summary: one line per job
    r = pool.condor_q("-analyze:summary", "-allusers")
    assert r.returncode == 0, r.stderr
    assert "Analyzing matches for 4 slots\n" in r.stdout
    rows = {ln.split()[0]: ln.split()[1:] for ln in r.stdout.splitlines() if ln[:1].isdigit()}
    assert rows[f"{pool.huge}.0"] == ["0", "0", "0", "0", "0"]
    assert rows[f"{pool.small}.0"] == ["4", "0", "0", "2", "2"]


def test_reverse_analysis_of_one_machine(pool):
    r = pool.condor_q("-better-analyze", "-reverse", pool.huge, "-machine", "slot2@ingwe.cs.wisc.edu")
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "\n-- Slot: slot2@ingwe.cs.wisc.edu : Analyzing matches for 1 Jobs in 1 autoclusters\n" in out
    assert "\n  START is\n    true\n" in out
    assert "    0 (0.00 %) match both slot and job requirements.\n" in out
    assert "    1 match the requirements of this slot.\n" in out
    # -reverse over all slots (tabular), selected with -mconstraint
    r = pool.condor_q("-reverse", "-mconstraint", "SlotID <= 2", pool.small)
    assert r.returncode == 0, r.stderr
    names = [ln.split()[0] for ln in r.stdout.splitlines() if ln.startswith("slot")]
    assert names == ["slot1@ingwe.cs.wisc.edu", "slot2@ingwe.cs.wisc.edu"]
    assert all(ln.split()[1:] == ["Stat", "1", "1", "100.00"] for ln in r.stdout.splitlines() if ln.startswith("slot"))


def test_analysis_errors(pool):
    r = pool.condor_q("-better-analyze", pool.huge, _CONDOR_COLLECTOR_HOST="127.0.0.1:1")
    assert r.returncode == 1 and r.stderr.startswith("Error:  Could not fetch startd ads\n"), r.stderr
    r = pool.condor_q("-analyze:sideways", pool.huge)
    assert r.returncode == 1 and "unknown analysis qualifier 'sideways'" in r.stderr


def _user(pool):
    r = pool.condor_q(pool.small, "-af", "User")
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


def test_analysis_considering_user_priority(pool, tmp_path):
    # slot1 and slot2 of the real ads run jobs of bt@cs.wisc.edu (CurrentRank 0, Rank 0)
    me = _user(pool)
    prios = tmp_path / "prios"
    prios.write_text(f'Name1 = "{me}"\nPriority1 = 10.0\nName2 = "bt@cs.wisc.edu"\nPriority2 = 5.0\n'
                     "LastUpdate = 1700000000\n")
    r = pool.condor_q("-analyze", "-userprios", str(prios), pool.small)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert f"Submittor {me} has a priority of 10.000\n\n{int(pool.small):03d}.000:  Run analysis summary " \
           "considering user priority.  Of 4 slots on 1 machines,\n" in out
    assert ("      0 slots match and are already running one of your jobs\n"
            "      2 slots match but are serving users with a better priority in the pool\n"
            "      0 slots match but will not currently preempt their existing job\n"
            "      0 slots match but are currently offline\n\n"
            "      2 slots match and are willing to run your job\n") in out
    # a worse priority for bt: preemptable by priority, but PREEMPTION_REQUIREMENTS (False by
    # default) keeps the claims; with it true the slots are willing
    prios.write_text(f'Name1 = "{me}"\nPriority1 = 10.0\nName2 = "bt@cs.wisc.edu"\nPriority2 = 500.0\n')
    r = pool.condor_q("-better-analyze:priority", "-userprios", str(prios), "-verbose", pool.small)
    assert r.returncode == 0, r.stderr
    assert ("      0 slots match but are serving users with a better priority in the pool\n"
            "      2 slots match but will not currently preempt their existing job: "
            "slot1@ingwe.cs.wisc.edu, slot2@ingwe.cs.wisc.edu\n") in r.stdout
    r = pool.condor_q("-analyze", "-userprios", str(prios), pool.small,
                      _CONDOR_PREEMPTION_REQUIREMENTS="RemoteUserPrio > SubmittorPrio * 1.2")
    assert "      0 slots match but will not currently preempt their existing job\n" in r.stdout
    assert "      4 slots match and are willing to run your job\n" in r.stdout
    # -nouserprios after it, and the summary qualifier, turn it off again
    for args in (("-userprios", str(prios), "-nouserprios"), ("-analyze:priority,summary",)):
        r = pool.condor_q("-analyze", *args, pool.small)
        assert r.returncode == 0 and "considering user priority" not in r.stdout, r.stdout


def test_user_priority_errors(pool, tmp_path):
    r = pool.condor_q("-analyze", "-userprios", str(tmp_path / "missing"), pool.small)
    assert r.returncode == 1
    assert r.stderr.startswith(f"Can't open file of user priorities: {tmp_path / 'missing'}"), r.stderr
    r = pool.condor_q("-analyze", "-userprios")
    assert r.returncode == 1 and "-userprios requires a filename argument" in r.stderr
    # no negotiator in this pool: -analyze:priority says it cannot ask one
    r = pool.condor_q("-analyze:priority", pool.small)
    assert r.returncode == 1 and "negotiator" in r.stderr, r.stderr
