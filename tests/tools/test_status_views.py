"""condor_status -server, -state, -absent, -offline, -java, -vm and -run, from ad files
(``-ads FILE``, through ``python -m pyhtc.tools.status``) and from a live condor_collector.

Expected tables follow src/condor_status.V6/prettyPrint.cpp (server_PrintFormat,
startdState_PrintFormat, startdAbsent_PrintFormat, startdOffline_PrintFormat,
scheddRun_PrintFormat, initStartdNormalPFV) and totals.cpp (StartdServerTotal,
StartdStateTotal).  As in HTCondor, a WIDTH without PRINTF prints only string values (the
-state ``Mem`` column stays blank: status.cpp turns generate_printf_from_width off) and the
state totals' ``Total`` column is never counted."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

import pyhtc.classad as C
from daemon_helpers import start_daemon
from pyhtc.cedar.commands import Command
from pyhtc.client import CollectorClient
from pyhtc.config import Config, set_config
from pyhtc.tools import status
from pyhtc.tools.common import format_long

NOW = 1_800_000_000          # 01/15/27 08:00:00 UTC


def slot(name, state, act, load, mem, cpus, kbd, st_age, act_age, **kw):
    d = {"MyType": "Machine", "Name": name, "Machine": name.split("@")[1], "OpSys": "LINUX",
         "Arch": "X86_64", "State": state, "Activity": act, "CondorLoadAvg": load, "Memory": mem,
         "Disk": 400000 + mem, "Mips": 20000, "KFlops": 1500000, "Cpus": cpus, "KeyboardIdle": kbd,
         "LastHeardFrom": NOW, "MyCurrentTime": NOW, "EnteredCurrentState": NOW - st_age,
         "EnteredCurrentActivity": NOW - act_age, "MyAddress": "<127.0.0.1:1>"}
    d.update(kw)
    return C.ClassAd(d)


SLOTS = [slot("slot1@exec1.example.org", "Claimed", "Busy", 1.0, 1024, 1, 3600, 3600, 600,
              HasJava=True, JavaVendor="Oracle", JavaVersion="17.0.2"),
         slot("slot2@exec1.example.org", "Unclaimed", "Idle", 0.0, 2048, 2, 60, 100, 100)]
OTHER = [
    C.ClassAd({"MyType": "Machine", "Name": "slot1@gone.example.org", "Machine": "gone.example.org",
               "OpSys": "LINUX", "Arch": "X86_64", "State": "Unclaimed", "Activity": "Idle",
               "Absent": True, "LastHeardFrom": NOW - 86400, "ClassAdLifetime": 2592000,
               "OfflineUniverses": ["vanilla", "docker"]}),
    slot("slot1@vm.example.org", "Unclaimed", "Idle", 0.0, 4096, 4, 0, 0, 0, HasVM=True,
         VM_Type="kvm", VM_Networking_Types="nat", VM_Memory=1536),
]
SCHEDDS = [
    C.ClassAd({"MyType": "Scheduler", "Name": "submit.example.org", "Machine": "submit.example.org",
               "MyAddress": "<127.0.0.1:2>", "TotalJobAds": 12, "ShadowsRunning": 3,
               "TotalSchedulerJobsRunning": 1, "TotalSchedulerJobsIdle": 0,
               "RecentJobsCompleted": 4, "RecentJobsStarted": 5}),
    C.ClassAd({"MyType": "Scheduler", "Name": "quiet.example.org", "Machine": "quiet.example.org",
               "MyAddress": "<127.0.0.1:3>", "TotalJobAds": 0, "ShadowsRunning": 0,
               "TotalSchedulerJobsRunning": 0}),
]

SERVER = """\
Name                               OpSys      Arch     LoadAv Memory   Disk      Mips    KFlops   

slot1@exec1.example.org            LINUX      X86_64    1.000     1024    401024   20000   1500000
slot2@exec1.example.org            LINUX      X86_64    0.000     2048    402048   20000   1500000

                  Slots Avail  Memory        Disk        MIPS      KFLOPS

  X86_64/LINUX        2     2        3072      803072       40000     3000000

         Total        2     2        3072      803072       40000     3000000
"""
STATE = """\
Name                               Cpu  Mem  LoadAv   KbdIdle    State     StateTime  Activ   ActvtyTime

slot1@exec1.example.org            1          1.000   0+01:00:00 Claimed   0+01:00:00 Busy    0+00:10:00
slot2@exec1.example.org            2          0.000   0+00:01:00 Unclaimed   0+00:01:40 Idle    0+00:01:40

               Total Owner Unclaimed Claimed Preempting Matched  Drain Backfill BkIdle

          Busy     0     0         0       1          0       0      0        0      0
          Idle     0     0         1       0          0       0      0        0      0

         Total     0     0         1       1          0       0      0        0      0
"""
SLOT_TOTALS_1 = """
               Total Owner Claimed Unclaimed Matched Preempting  Drain Backfill BkIdle

  X86_64/LINUX     1     0       0         1       0          0      0        0      0

         Total     1     0       0         1       0          0      0        0      0
"""
ABSENT = """\
Name                               OpSys      Arch     Went Absent Will Forget

slot1@gone.example.org             LINUX      X86_64   01/14 08:00 02/13 08:00
""" + SLOT_TOTALS_1
OFFLINE = """\
Name                               Offline Universes                         

slot1@gone.example.org             vanilla, docker                           
""" + SLOT_TOTALS_1
VM = """\
Name                               VmType Network   State     Activity LoadAv VMMem  ActvtyTime

slot1@vm.example.org               kvm    nat       Unclaimed Idle      0.000  1536  0+00:00:00
""" + SLOT_TOTALS_1
JAVA = """\
Name                               JavaVendor JavaVersion State   Activity LoadAv Mem     ActvtyTime

slot1@exec1.example.org            Oracle     17.0.2 Claimed Busy      1.000   1024  0+00:10:00

               Total Owner Claimed Unclaimed Matched Preempting  Drain Backfill BkIdle

  X86_64/LINUX     1     0       1         0       0          0      0        0      0

         Total     1     0       1         0       0          0      0        0      0
"""
SCHEDD_RUN = """\
Name               TotalJobs Shadows ActiveDAGs IdleDAGs RcntDone RcntStart

submit.example.org        12       3          1        0        4         5
"""


def status_process(*argv, env_extra=None, stdin=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("_CONDOR_")}
    env.update({"TZ": "UTC", "CONDOR_CONFIG": "/nonexistent/condor_config", **(env_extra or {})})
    return subprocess.run([sys.executable, "-m", "pyhtc.tools.status", *argv], env=env, input=stdin,
                          capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("status_ads")
    (tmp / "slots.ads").write_text("".join(format_long(a) for a in SLOTS))
    (tmp / "other.ads").write_text("".join(format_long(a) for a in OTHER + SCHEDDS))
    return tmp


# one interpreter runs all the -ads cases (the entry point is main(argv) as for the console script)
_RUN_ALL = r"""
import contextlib, io, json, sys
from pyhtc.tools import status
out = []
for argv in json.loads(sys.argv[1]):
    buf, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(err):
        rc = status.main(argv)
    out.append([rc, buf.getvalue(), err.getvalue()])
print(json.dumps(out))
"""


def test_tables_from_ads_files(files):
    s, o = str(files / "slots.ads"), str(files / "other.ads")
    cases = [(["-ads", s, "-server"], SERVER), (["-ads", s, "-state"], STATE),
             (["-ads", s, "-java"], JAVA), (["-ads", o, "-absent"], ABSENT),
             (["-ads", o, "-offline"], OFFLINE), (["-ads", o, "-vm"], VM),
             (["-ads", o, "-run"], SCHEDD_RUN), (["-ads", o, "-schedd", "-run"], SCHEDD_RUN),
             # -run after -slots shows the claimed slots (none here)
             (["-ads", o, "-slots", "-run"], "")]
    env = {k: v for k, v in os.environ.items() if not k.startswith("_CONDOR_")}
    env.update({"TZ": "UTC", "CONDOR_CONFIG": "/nonexistent/condor_config"})
    r = subprocess.run([sys.executable, "-c", _RUN_ALL, json.dumps([c for c, _ in cases])], env=env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    for (argv, want), (rc, out, err) in zip(cases, json.loads(r.stdout)):
        assert (rc, err) == (0, ""), argv
        assert out == want, argv


def status_many(*argvs):
    """condor_status's entry point run once per argv in one interpreter: [(rc, out, err)]."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("_CONDOR_")}
    env.update({"TZ": "UTC", "CONDOR_CONFIG": "/nonexistent/condor_config"})
    r = subprocess.run([sys.executable, "-c", _RUN_ALL, json.dumps([list(a) for a in argvs])], env=env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_ads_file_formats_and_constraint(files, tmp_path):
    s, o = str(files / "slots.ads"), str(files / "other.ads")
    (js,) = status_many(["-ads", s, "-json"])
    (tmp_path / "slots.json").write_text(js[1])
    j = str(tmp_path / "slots.json")
    as_json, as_auto, as_long, cons, lim = status_many(
        ["-ads:json", j, "-af", "Name", "Cpus"], ["-ads:auto", j, "-af", "Name", "Cpus"], ["-ads", j],
        ["-ads", o, "-constraint", "TotalJobAds > 0", "-af", "Name"], ["-ads", o, "-af", "Name", "-limit", "1"])
    # -ads reads long form unless told otherwise (status.cpp); -ads:json and -ads:auto read JSON
    for rc, out, err in (as_json, as_auto):
        assert (rc, out) == (0, "slot1@exec1.example.org 1\nslot2@exec1.example.org 2\n"), err
    assert as_long[0] == 1 and as_long[2].startswith(f"Error: {j}:1: ")
    # the constraint and -limit apply; the ad type does not (HTCondor reads the file as is)
    assert cons[1] == "submit.example.org\n"
    assert lim[1] == "slot1@gone.example.org\n"
    r = status_process("-ads", "-", "-af", "Name", stdin=open(s).read())
    assert r.stdout.split() == ["slot1@exec1.example.org", "slot2@exec1.example.org"]


def test_ads_file_errors(tmp_path):
    bad = tmp_path / "bad.ads"
    bad.write_text('MyType = "Machine"\nName = "x"\n\nName = "y"\nMemory = 1 +\n')
    missing, noarg, broken = status_many(["-ads", str(tmp_path / "none")], ["-ads"], ["-ads", str(bad)])
    assert missing == [1, "", f"Can't open file of ClassAds: {tmp_path / 'none'}\n"]
    assert noarg == [1, "", 'condor_status: -ads requires a filename argument\n'
                            'Use "condor_status -help" for details\n']
    assert broken[0] == 1 and broken[2].startswith(f"Error: {bad}:5: "), broken


USE = 'Use "condor_status -help" for details\n'
BAD_ARGUMENTS = [
    (["-nosuchoption"], "Error:  Unknown option -nosuchoption\n" + USE),
    (["-jsonl"], "Error:  Unknown option -jsonl\n" + USE),
    (["-const"], "condor_status: -constraint requires another argument\n" + USE),
    # print_wrapped_text.cpp: 78 columns, a blank after every word
    (["-pool"], "condor_status: -pool requires a hostname as an argument.\nExtra Info: The hostname should "
                "be the central manager of the Condor pool you \nwish to work with. \n" + USE),
    (["-attr"], "condor_status: -attributes requires one additional argument\n" + USE),
    (["-limit"], "condor_status: -limit requires one additional argument\n" + USE),
    (["-format", "%s"], "condor_status: -format requires two other arguments\n" + USE),
    (["-sort"], "condor_status: -sort requires another argument\n" + USE),
    (["-ads:json"], "condor_status: -ads requires a filename argument\n" + USE),
    (["-print-format"], "Error: Argument -print-format requires a filename argument\n"),
    (["-af"], "Error: Argument -af requires at least one attribute parameter\n" + USE),
]


def test_bad_arguments():
    # status.cpp's messages (the option named in full), exit status 1
    for (argv, message), got in zip(BAD_ARGUMENTS, status_many(*[a for a, _ in BAD_ARGUMENTS])):
        assert got == [1, "\n\n" if argv == ["-pool"] else "", message], argv


# -- against a live collector

def tool_env(collector) -> dict:
    return {"CONDOR_CONFIG": "ONLY_ENV", "_CONDOR_COLLECTOR_HOST": collector.host_port}


@pytest.fixture(scope="module")
def collector(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("status_views")
    d = start_daemon("pyhtc.daemons.collector.daemon", "COLLECTOR", tmp, "CollectorLog")
    cc = CollectorClient(config=Config.load("TOOL", environ=tool_env(d), read_user_config=False))
    cc.advertise(SLOTS, Command.UPDATE_STARTD_AD)
    cc.advertise(SCHEDDS, Command.UPDATE_SCHEDD_AD)
    yield d
    d.stop()


def test_live_collector_views(collector, capsys):
    set_config(Config.load("TOOL", environ=tool_env(collector), read_user_config=False))
    try:
        results = {}
        for argv in (["-server"], ["-state"], ["-run"], ["-java", "-af", "Name"]):
            rc = status.main(argv)
            results[argv[0]] = (rc, capsys.readouterr().out)
    finally:
        set_config(None)
    assert results["-server"] == (0, SERVER)
    assert results["-state"] == (0, STATE)
    assert results["-run"] == (0, SCHEDD_RUN)      # quiet.example.org runs nothing
    assert results["-java"] == (0, "slot1@exec1.example.org\n")
    # and once as a user runs it
    r = status_process("-run", env_extra=tool_env(collector))
    assert (r.returncode, r.stdout) == (0, SCHEDD_RUN), r.stderr
