"""condor_status against a real condor_collector process.

Ads are advertised once per module; most checks call ``pyhtc.tools.status.main`` in this
process (real sockets to the collector), a few run ``python -m pyhtc.tools.status`` as a
subprocess with CONDOR_CONFIG=ONLY_ENV and _CONDOR_COLLECTOR_HOST, as a user would.
Expected tables follow src/condor_status.V6/prettyPrint.cpp and totals.cpp."""
import json
import os
import subprocess
import sys

import classad2
import pytest

import pyhtc.classad as C
from daemon_helpers import start_daemon
from pyhtc.cedar.commands import Command
from pyhtc.client import CollectorClient
from pyhtc.config import Config, set_config
from pyhtc.tools import status

NOW = 1_800_000_000


def slot(name, machine, arch, state, activity, load, mem, age):
    return C.ClassAd({
        "MyType": "Machine", "Name": name, "Machine": machine, "OpSys": "LINUX", "Arch": arch,
        "State": state, "Activity": activity, "CondorLoadAvg": load, "Memory": mem, "Cpus": 1,
        "EnteredCurrentActivity": NOW - age, "MyCurrentTime": NOW, "MyAddress": "<127.0.0.1:1>",
        "ClaimId": "secret-claim",
    })


SLOTS = [
    slot("slot1@node1.example.org", "node1.example.org", "X86_64", "Claimed", "Busy", 0.25, 1024, 3700),
    slot("slot2@node0.example.org", "node0.example.org", "X86_64", "Owner", "Idle", 0.5, 2048, 7400),
    slot("slot3@node1.example.org", "node1.example.org", "X86_64", "Unclaimed", "Idle", 0.75, 3072, 11100),
    slot("slot4@node0.example.org", "node0.example.org", "X86_64", "Claimed", "Busy", 1.0, 4096, 100000),
    slot("slot1@arm.example.org", "arm.example.org", "aarch64", "Unclaimed", "Idle", 0.0, 512, 0),
]
for _ad, _user in ((SLOTS[0], "alice@example.org"), (SLOTS[3], "bob@example.org")):
    _ad.update({"RemoteUser": _user, "ClientMachine": "ap1.example.org", "Mips": 1000,
                "KFlops": 500000, "LoadAvg": _ad["CondorLoadAvg"]})


def tool_env(collector) -> dict:
    return {"CONDOR_CONFIG": "ONLY_ENV", "_CONDOR_COLLECTOR_HOST": collector.host_port}


@pytest.fixture(scope="module")
def collector(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("status")
    d = start_daemon("pyhtc.daemons.collector.daemon", "COLLECTOR", tmp, "CollectorLog")
    cc = CollectorClient(config=Config.load("TOOL", environ=tool_env(d), read_user_config=False))
    cc.advertise(SLOTS, Command.UPDATE_STARTD_AD)
    cc.advertise([C.ClassAd({"MyType": "Scheduler", "Name": name, "Machine": mach,
                             "MyAddress": "<127.0.0.1:2>", "TotalRunningJobs": run,
                             "TotalIdleJobs": idle, "TotalHeldJobs": held})
                  for name, mach, run, idle, held in (("ap1.example.org", "ap1.example.org", 3, 10, 1),
                                                      ("alice@ap2", "ap2.example.org", 0, 2, 0))],
                 Command.UPDATE_SCHEDD_AD)
    cc.advertise([C.ClassAd({
        "MyType": "DaemonMaster", "Name": "cm.example.org", "Machine": "cm.example.org",
        "MyAddress": "<127.0.0.1:3>", "DetectedCpus": 8, "DetectedMemory": 16000,
        "CondorVersion": "$CondorVersion: 25.14.1 2026-09-24 BuildID: 812345 PackageID: 25.14.1-1 $",
        "DaemonStartTime": NOW - 90061, "LastHeardFrom": NOW})], Command.UPDATE_MASTER_AD)
    cc.advertise([C.ClassAd({"MyType": "Submitter", "Name": n, "Machine": "ap1.example.org",
                             "MyAddress": "<127.0.0.1:2>", "RunningJobs": r, "IdleJobs": i,
                             "HeldJobs": 0}) for n, r, i in (("bob@example.org", 1, 4),
                                                             ("alice@example.org", 2, 6))],
                 Command.UPDATE_SUBMITTOR_AD)
    yield d
    d.stop()


@pytest.fixture
def run(collector, capsys):
    """Run condor_status in this process: returns (exit status, stdout, stderr)."""
    set_config(Config.load("TOOL", environ=tool_env(collector), read_user_config=False))

    def go(*argv):
        rc = status.main(list(argv))
        out = capsys.readouterr()
        return rc, out.out, out.err
    yield go
    set_config(None)


def run_process(env_extra, *argv):
    env = {k: v for k, v in os.environ.items() if not k.startswith("_CONDOR_")}
    env.update(env_extra)
    return subprocess.run([sys.executable, "-m", "pyhtc.tools.status", *argv], env=env,
                          capture_output=True, text=True, timeout=60)


DEFAULT_TABLE = """\
Name                               OpSys      Arch     State     Activity LoadAv Mem     ActvtyTime

slot1@arm.example.org              LINUX      aarch64  Unclaimed Idle      0.000    512  0+00:00:00
slot2@node0.example.org            LINUX      X86_64   Owner     Idle      0.500   2048  0+02:03:20
slot4@node0.example.org            LINUX      X86_64   Claimed   Busy      1.000   4096  1+03:46:40
slot1@node1.example.org            LINUX      X86_64   Claimed   Busy      0.250   1024  0+01:01:40
slot3@node1.example.org            LINUX      X86_64   Unclaimed Idle      0.750   3072  0+03:05:00

               Total Owner Claimed Unclaimed Matched Preempting  Drain Backfill BkIdle

  X86_64/LINUX     4     1       2         1       0          0      0        0      0
 aarch64/LINUX     1     0       0         1       0          0      0        0      0

         Total     5     1       2         2       0          0      0        0      0
"""


def test_default_slot_table_subprocess(collector):
    r = run_process(tool_env(collector))
    assert r.returncode == 0, r.stderr
    assert r.stdout == DEFAULT_TABLE


def test_totals_only_and_positional_names(run):
    rc, out, _ = run("-tot")
    assert rc == 0
    assert out == "\n" + DEFAULT_TABLE.split("\n\n", 2)[2]
    # a name matches Name or Machine (status.cpp secondPass); several names are ORed
    rc, out, _ = run("slot1@arm.example.org", "node0.example.org", "-af", "Name")
    assert out == "slot1@arm.example.org\nslot2@node0.example.org\nslot4@node0.example.org\n"
    rc, out, _ = run("no-such-slot")
    assert (rc, out) == (0, "")
    # -af takes every following non-option argument as an expression
    rc, out, err = run("-af", "Name", "slot1@arm.example.org")
    assert (rc, out, err) == (1, "", "Error: -af: invalid expression: slot1@arm.example.org\n")


def test_constraint_avail_limit(run):
    rc, out, _ = run("-const", "Memory >= 2048 && State != \"Owner\"", "-af", "Name", "Memory")
    assert (rc, out) == (0, "slot4@node0.example.org 4096\nslot3@node1.example.org 3072\n")
    rc, out, _ = run("-avail", "-af", "Name")
    assert out == "slot1@arm.example.org\nslot3@node1.example.org\n"
    rc, out, _ = run("-claimed", "-af", "Name")
    assert out == "slot4@node0.example.org\nslot1@node1.example.org\n"
    rc, out, _ = run("-claimed", "bob@example.org", "-af", "Name")   # names select RemoteUser
    assert out == "slot4@node0.example.org\n"
    rc, out, _ = run("-limit", "2", "-af", "Name")
    assert len(out.splitlines()) == 2


def test_autoformat_and_format(run):
    rc, out, _ = run("-af:h", "Name", "Memory", "NoSuchAttr", "-const", "Arch == \"aarch64\"")
    assert out == ("Name                  Memory NoSuchAttr\n"
                   "slot1@arm.example.org 512    undefined \n")
    rc, out, _ = run("slot1@arm.example.org", "-af:lV,", "Name", "State")
    assert out == 'Name = "slot1@arm.example.org", State = "Unclaimed"\n'
    rc, out, _ = run("node0.example.org", "-format", "%s:", "Name", "-format", "%d\\n", "Memory * 2")
    assert out == "slot2@node0.example.org:4096\nslot4@node0.example.org:8192\n"
    rc, out, err = run("-af")
    assert rc == 1 and "-af requires at least one attribute" in err


def test_long_and_json(run, collector):
    rc, out, _ = run("-long", "node1.example.org")
    assert rc == 0 and out.endswith("\n\n")
    blocks = [b for b in out.split("\n\n") if b.strip()]
    assert len(blocks) == 2
    for block in blocks:
        names = [line.split(" = ", 1)[0] for line in block.splitlines()]
        assert names == sorted(names, key=str.lower)
        assert "ClaimId" not in names           # private attributes are not printed
        ad = classad2.parseOne(block, classad2.ParserType.Old)
        assert ad["Machine"] == "node1.example.org" and "LastHeardFrom" in ad
    rc, out, _ = run("-l", "-attributes", "Name,Memory", "slot3@node1.example.org")
    assert out == 'Memory = 3072\nName = "slot3@node1.example.org"\n\n'

    r = run_process(tool_env(collector), "-json", "-const", "Memory > 1024")
    assert r.returncode == 0
    ads = json.loads(r.stdout)
    assert [a["Name"] for a in ads] == ["slot2@node0.example.org", "slot4@node0.example.org",
                                         "slot3@node1.example.org"]
    assert ads[0]["CondorLoadAvg"] == 0.5 and ads[0]["MyType"] == "Machine"
    rc, out, _ = run("-json", "no-such-slot")
    assert (rc, out) == (0, "")


def test_daemon_tables(run):
    rc, out, _ = run("-schedd")
    assert out == (
        "Name            Machine         RunningJobs   IdleJobs   HeldJobs\n\n"
        "ap1.example.org ap1.example.org           3         10          1\n"
        "alice@ap2       ap2.example.org           0          2          0\n\n"
        "                TotalRunningJobs      TotalIdleJobs      TotalHeldJobs\n\n"
        "              \n"
        "         Total" + "%18d %18d %18d\n" % (3, 12, 1))
    rc, out, _ = run("-master")
    assert out == ("Name           Version        Cpus   Memory      Uptime    \n\n"
                   "cm.example.org 25.14.1.812345    8    15.6 GB    1+01:01:01\n")
    rc, out, _ = run("-submitters")
    assert out == (
        "Name              Machine         RunningJobs   IdleJobs   HeldJobs\n\n"
        "alice@example.org ap1.example.org           2          6          0\n"
        "bob@example.org   ap1.example.org           1          4          0\n\n"
        "                 RunningJobs   IdleJobs   HeldJobs\n\n"
        "alice@example.org          2          6          0\n"
        "  bob@example.org          1          4          0\n\n"
        "            Total          3         10          0\n")
    rc, out, _ = run("-any", "-const", 'MyType != "Collector"')
    lines = out.splitlines()
    assert lines[0] == "MyType             TargetType         Name" + " " * 37
    assert lines[2] == "Submitter          None               alice@example.org" + " " * 24
    assert "DaemonMaster       None               cm.example.org" + " " * 27 in lines
    assert len(lines) == 2 + 1 + 2 + 2 + 5
    rc, out, _ = run("-collector", "-af", "MyType")
    assert out == "Collector\n"


def test_errors(run, collector):
    rc, out, err = run("-const", "Memory >")
    assert (rc, out, err) == (1, "", "Error: invalid constraint\n\n")
    rc, out, err = run("-bogus")
    assert rc == 1 and err.startswith("Error:  Unknown option -bogus\n")
    # -pool overrides COLLECTOR_HOST
    r = run_process({"CONDOR_CONFIG": "ONLY_ENV", "_CONDOR_COLLECTOR_HOST": "127.0.0.1:1"},
                    "-pool", collector.host_port, "-af", "Name", "-const", 'Arch == "aarch64"')
    assert (r.returncode, r.stdout) == (0, "slot1@arm.example.org\n")
    r = run_process({"CONDOR_CONFIG": "ONLY_ENV"})
    assert r.returncode == 1 and r.stderr.startswith("Error: can't find collector\n")
    r = run_process({"CONDOR_CONFIG": "ONLY_ENV"}, "-pool", "127.0.0.1:1")
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr.startswith("Error: communication error\nCEDAR:6001:Failed to connect to <127.0.0.1:1>\n"
                               "Error: Couldn't contact the condor_collector on 127.0.0.1:1")


def test_claimed_table(run):
    rc, out, _ = run("-claimed")
    assert out == (
        "Name                               OpSys      Arch     LoadAv RemoteUser           ClientMachine   \n\n"
        "slot4@node0.example.org            LINUX      X86_64    1.000 bob@example.org      ap1.example.org \n"
        "slot1@node1.example.org            LINUX      X86_64    0.250 alice@example.org    ap1.example.org \n\n"
        "               Machines         MIPS       KFLOPS   AvgLoadAvg\n\n"
        "  X86_64/LINUX        2         2000      1000000   0.625\n\n"
        "         Total        2         2000      1000000   0.625\n")


def test_sort_wide_and_print_format(run, tmp_path):
    # -sort replaces Machine/Name; keys compare "naturally" (numbers by value), or as plain
    # strings with -natural:off
    rc, out, _ = run("-sort", "Memory", "-af", "Memory")
    assert out == "512\n1024\n2048\n3072\n4096\n"
    rc, out, _ = run("-natural:off", "-sort", "Memory", "-af", "Memory")
    assert out == "1024\n2048\n3072\n4096\n512\n"
    rc, out, _ = run("-sort", "-CondorLoadAvg", "-sort", "Name", "-af", "Name")
    assert out.splitlines()[0] == "slot4@node0.example.org"
    rc, out, _ = run("-wide", "slot1@arm.example.org")
    assert out.splitlines()[0].endswith(" Mem    ActivityTime")
    assert out.splitlines()[2].endswith("    512   0+00:00:00")
    pf = tmp_path / "slots.cpf"
    pf.write_text("# my slots\n"
                  "SELECT\n"
                  "   Name AS Slot WIDTH -25\n"
                  "   Memory AS '  MB' PRINTF %4d OR -\n"
                  "   State WIDTH AUTO\n"
                  "WHERE Arch == \"X86_64\"\n"
                  "GROUP BY Memory\n"
                  "SUMMARY STANDARD\n")
    rc, out, err = run("-pr", str(pf), "-const", "Memory < 4000")
    assert rc == 0, err
    assert out.split("\n\n")[0] == (
        "Slot                        MB State    \n"
        "slot1@node1.example.org   1024 Claimed  \n"
        "slot2@node0.example.org   2048 Owner    \n"
        "slot3@node1.example.org   3072 Unclaimed")
    assert out.endswith("         Total     3     1       1         1       0          0      0        0      0\n")
    pf.write_text("SELECT FROM Schedd NOHEADER\nName\nTotalIdleJobs PRINTF %d\nSUMMARY NONE\n")
    rc, out, _ = run("-pr", str(pf))
    # a column with no WIDTH is as wide as its label; printf numbers are right-justified
    # in it (ad_printmask.cpp format_value)
    assert out == "ap1.example.org            10\nalice@ap2                   2\n"
    pf.write_text("SELECT\nName PRINTAS NO_SUCH_FUNCTION\n")
    rc, out, err = run("-pr", str(pf))
    assert rc == 1 and f"{pf}:2: Unknown argument NO_SUCH_FUNCTION for PRINTAS" in err
    rc, out, _ = run("no-such-slot", "-af:h", "Name", "Memory")   # headings even with no ads
    assert out == "Name Memory\n"


def run_on_terminal(collector, columns, *argv):
    """Run condor_status with stdout on a pseudo-terminal ``columns`` wide."""
    import fcntl
    import pty
    import struct
    import termios
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    attrs = termios.tcgetattr(slave)
    attrs[1] &= ~termios.ONLCR                 # keep "\n" as is
    termios.tcsetattr(slave, termios.TCSANOW, attrs)
    env = {k: v for k, v in os.environ.items() if not k.startswith("_CONDOR_")}
    env.update(tool_env(collector))
    p = subprocess.Popen([sys.executable, "-m", "pyhtc.tools.status", *argv], env=env,
                         stdout=slave, stderr=subprocess.PIPE)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:                        # EIO once the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    assert p.wait(timeout=60) == 0, p.stderr.read()
    return b"".join(chunks).decode()


def test_terminal_width_crops_name_column(collector):
    out = run_on_terminal(collector, 80, "-const", 'Arch == "aarch64"')
    lines = out.splitlines()
    # 79 usable columns: 65 for the fixed columns leaves 14 for Name, which now truncates
    assert lines[0] == "Name           OpSys      Arch     State     Activity LoadAv Mem     ActvtyTime"
    assert lines[2] == "slot1@arm.exam LINUX      aarch64  Unclaimed Idle      0.000    512  0+00:00:00"
    out = run_on_terminal(collector, 120, "-const", 'Arch == "aarch64"')
    lines = out.splitlines()
    assert lines[0].startswith("Name                               OpSys") and lines[0].endswith("Mem    ActivityTime")


def compact_slot(**kw):
    base = {"MyType": "Machine", "OpSys": "LINUX", "OpSysAndVer": "AlmaLinux9", "Arch": "X86_64",
            "Activity": "Idle", "State": "Unclaimed", "TotalSlotCpus": 1, "TotalSlotMemory": 2048,
            "Cpus": 1, "Memory": 2048, "TotalLoadAvg": 0.5, "TotalCpus": 4,
            "MyAddress": "<127.0.0.1:1>"}
    base.update(kw)
    return C.ClassAd(base)


def test_compact(tmp_path):
    """-compact: a partitionable slot with two claimed dynamic children, four static slots
    (two claimed) folded into one row, and a machine with two static slot types."""
    d = start_daemon("pyhtc.daemons.collector.daemon", "COLLECTOR", tmp_path, "CollectorLog")
    try:
        ads = [compact_slot(Name="slot1@p.example.org", Machine="p.example.org",
                            SlotType="Partitionable", PartitionableSlot=True, SlotTypeId=1,
                            NumDynamicSlots=2, TotalSlotCpus=16, TotalSlotMemory=65536, Cpus=12,
                            Memory=49152, TotalCpus=16, TotalLoadAvg=4.0,
                            ChildState=["Claimed", "Claimed"], ChildActivity=["Busy", "Busy"],
                            ChildMemory=[8192, 8192], RecentJobStarts=10)]
        ads += [compact_slot(Name=f"slot1_{i}@p.example.org", Machine="p.example.org",
                             SlotType="Dynamic", DynamicSlot=True, SlotTypeId=-1, State="Claimed",
                             Activity="Busy", Memory=8192) for i in (1, 2)]
        ads += [compact_slot(Name=f"slot{i}@s.example.org", Machine="s.example.org",
                             SlotType="Static", SlotTypeId=1,
                             State="Claimed" if i < 3 else "Unclaimed",
                             Activity="Busy" if i < 3 else "Idle") for i in range(1, 5)]
        ads += [compact_slot(Name="slot1@m.example.org", Machine="m.example.org", SlotType="Static",
                             SlotTypeId=1),
                compact_slot(Name="slot2@m.example.org", Machine="m.example.org", SlotType="Static",
                             SlotTypeId=2, State="Owner")]
        CollectorClient(config=Config.load("TOOL", environ=tool_env(d), read_user_config=False)
                        ).advertise(ads, Command.UPDATE_STARTD_AD)
        r = run_process(tool_env(d), "-compact")
        assert r.returncode == 0, r.stderr
        assert r.stdout == (
            "Machine       Platform       Slots Cpus Gpus  TotalGb FreCpu  FreeGb  CpuLoad ST Jobs/Min MaxSlotGb\n"
            "\n"
            "m.example.org x64/AlmaLinux9    1S    1          2.00      1     2.00    0.12 Ui _             2.00\n"
            "   slot2      x64/AlmaLinux9    1S    1          2.00      1     2.00    0.12 Oi _             2.00\n"
            "p.example.org x64/AlmaLinux9    2    16         64.00     12    48.00    0.25 **     0.50      8.00\n"
            "s.example.org x64/AlmaLinux9    4S    1          2.00      2     4.00    0.12 ** _             2.00\n"
            "\n"
            "               Total Owner Claimed Unclaimed Matched Preempting  Drain Backfill BkIdle\n"
            "\n"
            "x64/AlmaLinux9     9     1       4         4       0          0      0        0      0\n"
            "\n"
            "         Total     9     1       4         4       0          0      0        0      0\n")
        # the compact constraint also applies to -af: dynamic slots are left out
        r = run_process(tool_env(d), "-compact", "-af", "Name")
        assert "slot1_1@p.example.org" not in r.stdout and len(r.stdout.splitlines()) == 7
    finally:
        d.stop()


def test_read_denied(tmp_path):
    d = start_daemon("pyhtc.daemons.collector.daemon", "COLLECTOR", tmp_path, "CollectorLog",
                     _CONDOR_DENY_READ="*")
    try:
        r = run_process(tool_env(d))
    finally:
        d.stop()
    assert (r.returncode, r.stdout) == (1, "")
    first, second = r.stderr.splitlines()[:2]
    assert first == "Error: communication error"
    assert second.startswith("SECMAN:2010:") and "DENIED" in second


def test_af_and_attributes_ask_the_collector_for_a_projection():
    # status.cpp: -af/-format project the columns' references plus the sort keys';
    # -long/-json with -attributes project those; a renderer (printas) needs whole ads
    proj = status.status_projection
    assert proj(status.parse_args(["-af", "Name", "Memory * 2"])) == ["Machine", "Memory", "Name"]
    assert proj(status.parse_args(["-sort", "Cpus", "-af", "Name"])) == ["Cpus", "Name"]
    assert proj(status.parse_args(["-long", "-attributes", "Name,Cpus"])) == ["Name", "Cpus"]
    assert proj(status.parse_args(["-long"])) == []
    assert proj(status.parse_args([])) == []


def test_xml_and_new_forms(run, collector):
    import xml.etree.ElementTree as ET
    rc, out, _ = run("-xml", "-attributes", "Name,Memory,CondorLoadAvg,Arch", "node0.example.org")
    assert rc == 0
    head = '<?xml version="1.0"?>\n<!DOCTYPE classads SYSTEM "classads.dtd">\n<classads>\n'
    assert out.startswith(head) and out.endswith("</c>\n</classads>\n")
    assert ('<c>\n    <a n="Arch"><s>X86_64</s></a>\n    <a n="CondorLoadAvg"><r>5.000000000000000E-01</r></a>\n'
            '    <a n="Memory"><i>2048</i></a>\n    <a n="Name"><s>slot2@node0.example.org</s></a>\n</c>\n') in out
    root = ET.fromstring(out.split("\n", 2)[2])           # well-formed after the prolog
    assert [c.find("a[@n='Name']/s").text for c in root] == ["slot2@node0.example.org",
                                                            "slot4@node0.example.org"]
    # whole ads: every attribute but the private ones, sorted; -long:xml is the same output
    rc, out, _ = run("-xml", "slot1@arm.example.org")
    names = [a.get("n") for a in ET.fromstring(out.split("\n", 2)[2]).find("c")]
    assert "ClaimId" not in names and names == sorted(names, key=str.lower) and "MyType" in names
    assert run("-long:xml", "slot1@arm.example.org")[1] == out
    # no ads: the header and footer all the same
    assert run("-xml", "no-such-slot")[1] == head + "</classads>\n"
    # -long:new: one new-syntax ad per line inside { }, a ClassAd list expression
    rc, out, _ = run("-long:new", "-attributes", "Name,Memory", "node1.example.org")
    assert out == ('{\n[ Memory = 1024; Name = "slot1@node1.example.org" ]\n,\n'
                   '[ Memory = 3072; Name = "slot3@node1.example.org" ]\n}\n')
    assert [ad["Memory"] for ad in classad2.ExprTree(out).eval()] == [1024, 3072]
