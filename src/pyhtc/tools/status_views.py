"""The further ``condor_status`` tables: ``-server``, ``-state``, ``-absent``, ``-offline``,
``-run`` (schedds running jobs), ``-java`` and ``-vm`` columns, and their totals blocks
(src/condor_status.V6/prettyPrint.cpp ``server_PrintFormat``, ``startdState_PrintFormat``,
``startdAbsent_PrintFormat``, ``startdOffline_PrintFormat``, ``scheddRun_PrintFormat``,
``initStartdNormalPFV``; totals.cpp ``StartdServerTotal``, ``StartdStateTotal``).

The print-format renderers these tables use (``TIME``, ``DUE_DATE``,
``STRINGS_FROM_LIST``) are in :data:`pyhtc.tools.common.PRINTAS` with the others.
"""
from __future__ import annotations


# -- tables (print-format SELECT lines)

SLOT_SERVER = [
    "Name WIDTH -34 FIT PRINTF %s OR ??",
    "OpSys WIDTH -10 OR ??",
    "Arch WIDTH -8 OR ??",
    "CondorLoadAvg AS LoadAv WIDTH 6 TRUNCATE PRINTAS LOAD_AVG OR ??",
    "Memory WIDTH 8 PRINTF %8d OR ??",
    "Disk WIDTH 9 PRINTF %9d OR ??",
    "Mips WIDTH 7 PRINTF %7d OR ??",
    "KFlops WIDTH 9 PRINTF %9d OR ??",
]
SLOT_STATE = [
    "Name WIDTH -34 FIT PRINTF %s OR ??",
    "Cpus AS Cpu OR ??",
    "Memory AS ' Mem' WIDTH 5 OR ??",
    "CondorLoadAvg AS LoadAv WIDTH 6 TRUNCATE PRINTAS LOAD_AVG OR ??",
    "KeyboardIdle AS '  KbdIdle' WIDTH 12 TRUNCATE PRINTAS TIME OR ??",
    "State WIDTH -7 OR ??",
    "EnteredCurrentState AS '  StateTime' WIDTH 12 TRUNCATE PRINTAS ELAPSED_TIME OR ??",
    "Activity AS Activ OR ??",
    "EnteredCurrentActivity AS '  ActvtyTime' WIDTH 12 TRUNCATE PRINTAS ELAPSED_TIME OR -",
]
SLOT_ABSENT = [
    "Name WIDTH -34 FIT PRINTF %s OR ??",
    "OpSys WIDTH -10 OR ??",
    "Arch WIDTH -8 OR ??",
    "LastHeardFrom AS 'Went Absent' WIDTH -11 PRINTAS DATE OR ??",
    "ClassAdLifetime AS 'Will Forget' WIDTH -11 PRINTAS DUE_DATE",
]
SLOT_OFFLINE = [
    "Name WIDTH -34 FIT PRINTF %s OR ??",
    "OfflineUniverses AS 'Offline Universes' WIDTH -42 PRINTAS STRINGS_FROM_LIST OR '  '",
]
SCHEDD_RUN = [
    "Name AS Name WIDTH AUTO",
    "TotalJobAds AS TotalJobs PRINTF %9d",
    "ShadowsRunning AS Shadows PRINTF %7d",
    "TotalSchedulerJobsRunning AS ActiveDAGs PRINTF %10d",
    "TotalSchedulerJobsIdle AS IdleDAGs PRINTF %8d",
    "RecentJobsCompleted AS RcntDone PRINTF %8d",
    "RecentJobsStarted AS RcntStart PRINTF %9d",
]
#: the WHERE of scheddRun_PrintFormat, and the constraints -absent, -offline, -java, -vm add
SCHEDD_RUN_CONSTRAINT = "(ShadowsRunning+TotalSchedulerJobsRunning) > 0"
ABSENT_CONSTRAINT = "Absent"
OFFLINE_CONSTRAINT = "size(OfflineUniverses) != 0"
JAVA_CONSTRAINT = "HasJava"
VM_CONSTRAINT = "HasVM"

# -java / -vm replace the OpSys, Arch (and for -vm Memory) columns of the slot tables
_JAVA_COLS = {"OpSys WIDTH -10 OR ??": "JavaVendor WIDTH -10 OR ??",
              "Arch WIDTH -8 OR ??": "JavaVersion WIDTH -6 OR ??"}
_VM_COLS = {"OpSys WIDTH -10 OR ??": "VM_Type AS VmType WIDTH -6 OR ??",
            "Arch WIDTH -8 OR ??": "VM_Networking_Types AS Network WIDTH -9 OR ??",
            "Memory AS Mem WIDTH 6 PRINTF %6d OR ??": "VM_Memory AS VMMem WIDTH 5 PRINTF %4d OR ??"}


def java_vm_lines(lines: list[str], java: bool, vm: bool) -> list[str]:
    """A slot table's lines with the -java (JavaVendor, JavaVersion) or -vm (VmType, Network,
    VMMem) columns in place of OpSys, Arch and Mem (prettyPrint.cpp initStartdNormalPFV)."""
    swap = _JAVA_COLS if java else _VM_COLS if vm else {}
    return [swap.get(line, line) for line in lines]


# -- totals


def server_totals(ads, keylen: int = 14) -> str:
    """``Slots Avail Memory Disk MIPS KFLOPS`` by Arch/OpSys (totals.cpp StartdServerTotal):
    Avail counts Claimed and Unclaimed slots; an ad without State is malformed and not
    counted; one without Memory, Disk, Mips or KFlops is counted (as 0) and malformed."""
    def blank():
        return dict(machines=0, avail=0, memory=0, disk=0, mips=0, kflops=0)
    groups: dict = {}
    top = blank()
    malformed = 0
    for ad in ads:
        arch, opsys = ad.get("Arch"), ad.get("OpSys")
        if type(arch) is not str or type(opsys) is not str:
            malformed += 1
            continue
        state = ad.get("State")
        if type(state) is not str:
            malformed += 1
            continue
        vals, bad = [], False
        for attr in ("Memory", "Disk", "Mips", "KFlops"):
            v = ad.get(attr)
            if type(v) is int:
                vals.append(v)
            else:
                vals.append(0)
                bad = True
        malformed += bad
        for t in (groups.setdefault(f"{arch}/{opsys}", blank()), top):
            t["machines"] += 1
            t["avail"] += state in ("Claimed", "Unclaimed")
            t["memory"] += vals[0]
            t["disk"] += vals[1]
            t["mips"] += vals[2]
            t["kflops"] += vals[3]
    head = "%9.9s %5.5s %7.7s %11.11s %11.11s %11.11s\n" % ("Slots", "Avail", "Memory", "Disk",
                                                          "MIPS", "KFLOPS")

    def info(t):
        return "%9d %5d %11d %11d %11d %11d\n" % (t["machines"], t["avail"], t["memory"],
                                                  t["disk"], t["mips"], t["kflops"])
    from pyhtc.tools.status import _totals_block
    return _totals_block(keylen, head, [(k, info(g)) for k, g in sorted(groups.items())],
                         info(top), malformed)


_STATE_COLS = ("Owner", "Unclaimed", "Claimed", "Preempting", "Matched", "Drained", "Backfill")


def state_totals(ads, keylen: int = 14) -> str:
    """``Total Owner Unclaimed Claimed Preempting Matched Drain Backfill BkIdle`` by Activity
    (totals.cpp StartdStateTotal).  HTCondor 25 never adds to this block's ``Total``
    column, so it shows 0, as here; a slot in a state without a column is malformed."""
    def blank():
        return dict.fromkeys(_STATE_COLS + ("BkIdle",), 0)
    groups: dict = {}
    top = blank()
    malformed = 0
    for ad in ads:
        act = ad.get("Activity")
        if type(act) is not str:
            malformed += 1
            continue
        state = ad.get("State")
        if type(state) is not str or state not in _STATE_COLS:
            groups.setdefault(act, blank())
            malformed += 1
            continue
        for t in (groups.setdefault(act, blank()), top):
            t[state] += 1
    head = "%6.6s %5.5s %9.9s %7.7s %10.10s %7.7s %6.6s %8.8s %6.6s\n" % (
        "Total", "Owner", "Unclaimed", "Claimed", "Preempting", "Matched", "Drain", "Backfill",
        "BkIdle")

    def info(t):
        return "%6d %5d %9d %7d %10d %7d %6d %8d %6d\n" % (
            0, t["Owner"], t["Unclaimed"], t["Claimed"], t["Preempting"], t["Matched"],
            t["Drained"], t["Backfill"], t["BkIdle"])
    from pyhtc.tools.status import _totals_block
    return _totals_block(keylen, head, [(k, info(g)) for k, g in sorted(groups.items())],
                         info(top), malformed)
