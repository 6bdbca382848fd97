"""condor_status: query the collector for slot and daemon ads and print them.

Follows the manual page docs/man-pages/condor_status.rst and the HTCondor 25 sources
src/condor_status.V6/status.cpp (options, sort order, errors), prettyPrint.cpp (the
default tables) and totals.cpp (the summary blocks)::

    condor_status [-pool HOST[:PORT] | -ads[:FORM] FILE] [ad-type] [-constraint EXPR] [-limit N] [-sort EXPR]
                  [-long | -json | -af[:lhtrV,ng] EXPR... | -format FMT EXPR | -total
                   | -print-format FILE | -compact] [-attributes A,B] [-wide]
                  [-natural[:off]] [name ...]

Ad types: slots (default; ``-avail`` adds HTCondor's available-slot constraint,
``-claimed`` shows the claimed-slot table; ``-server``/``-state``/``-absent``/``-offline``
other slot tables), ``-schedd`` (``-run``: those running jobs), ``-master``, ``-collector``,
``-negotiator``, ``-submitters``, ``-any``.  The normal (not compact) slot table is
HTCondor 25's default.  When stdout is not a terminal, tables are laid out as HTCondor
lays them out for a pipe (80 columns, nothing cropped, ``ActvtyTime`` last); on a
terminal the Name/Machine columns shrink to fit its width and rows are cropped.
Exit status 0, or 1 on a usage error, a bad constraint or an unreachable collector.

``-compact`` folds a machine's static slots (of one slot type) into one row and shows
partitionable slots with their free resources (GPU property columns are not shown).
``-server``, ``-state``, ``-absent``, ``-offline``, ``-java``, ``-vm`` and ``-run`` (schedds
running jobs) tables: :mod:`pyhtc.tools.status_views`.  ``-ads[:FORM] FILE`` reads the ads
from a file instead of the collector (:mod:`pyhtc.tools.ads_file`).
Not handled: ``-direct``, ``-gpus``, ``-merge``, the ``-compact`` forms of ``-server``,
``-state`` and ``-run``.  A positional name is matched as given
(``Name == NAME || Machine == NAME``); HTCondor would first canonicalize its host part
through DNS.
"""
from __future__ import annotations

import os
import shutil
import struct
import sys
from typing import Optional

from pyhtc import classad as C
from pyhtc.cedar.errors import CedarError, SecurityError
from pyhtc.client import CollectorClient, DaemonNotFound
from pyhtc.config import ConfigError, get_config
from pyhtc.tools import common
from pyhtc.tools.common import (Column, PrintMask, UsageError, autoformat_mask, eval_text,
                                format_json, format_long, is_dash_arg_colon_prefix,
                                is_dash_arg_prefix, load_print_format, parse_constraint,
                                parse_print_format, print_wrapped_text)
from pyhtc.classad.unparse import quote_name, unparse_node, unparse_value
from pyhtc.classad.xmlsink import format_xml_ads
from pyhtc.classad.values import ERROR
from pyhtc.tools.ads_file import AdsFileError, parse_ads_format, read_ads_file
from pyhtc.tools.status_views import (ABSENT_CONSTRAINT, JAVA_CONSTRAINT, OFFLINE_CONSTRAINT,
                                      SCHEDD_RUN, SCHEDD_RUN_CONSTRAINT, SLOT_ABSENT,
                                      SLOT_OFFLINE, SLOT_SERVER, SLOT_STATE, VM_CONSTRAINT,
                                      java_vm_lines, server_totals, state_totals)

PROG = "condor_status"

#: ``-long:FORM`` (compat_classad_util.cpp parseAdsFileFormat): the output style it selects
_LONG_FORMS = {"long": "long", "xml": "xml", "json": "json", "new": "new"}

# -- default tables (prettyPrint.cpp); piped output, so the narrow ActvtyTime column
SLOT_NORMAL = [
    "Name WIDTH -34 FIT PRINTF %s OR ??",
    "OpSys WIDTH -10 OR ??",
    "Arch WIDTH -8 OR ??",
    "State WIDTH AUTO OR ??",
    "Activity WIDTH -8 PRINTAS ACTIVITY_OR_OCU OR ??",
    "CondorLoadAvg AS LoadAv WIDTH 6 TRUNCATE PRINTAS LOAD_AVG OR ??",
    "Memory AS Mem WIDTH 6 PRINTF %6d OR ??",
    "EnteredCurrentActivity AS '  ActvtyTime' WIDTH 12 NOPREFIX TRUNCATE PRINTAS ACTIVITY_TIME OR -",
]
# -compact (prettyPrint.cpp startdCompact_PrintFormat): one row per machine and slot type
STARTD_COMPACT = [
    "Machine AS Machine WIDTH AUTO",
    "OpSys AS Platform PRINTAS PLATFORM",
    "NumDynamicSlots AS Slot PRINTF %4d OR ' '",
    "SlotType AS s NOPREFIX PRINTAS SLOT_COUNT_TAG",
    "TotalSlotCpus AS Cpus PRINTF %4d",
    "TotalSlotGpus AS Gpus PRINTF %4d",
    "TotalSlotMemory/1024.0 AS ' TotalGb' PRINTF %8.2f",
    "Cpus AS FreCpu PRINTF %6d",
    "Memory/1024.0 AS ' FreeGb ' PRINTF %8.2f",
    "TotalLoadAvg*1.0/TotalCpus AS CpuLoad PRINTF %7.2f",
    "Activity AS ST WIDTH 2 PRINTAS ACTIVITY_CODE",
    "RecentJobStarts/20.0 AS Jobs/Min PRINTF %8.2f OR _",
    "Max(ChildMemory)/1024.0 AS MaxSlotGb PRINTF %9.2f OR *",
]
COMPACT_CONSTRAINT = "PartitionableSlot =?= true || DynamicSlot =!= true"
# column numbers in STARTD_COMPACT (status.cpp startdCompact_ixCol_*)
IX_MACHINE, IX_PLATFORM, IX_SLOTS, IX_FREE_CPUS, IX_FREE_MEM, IX_ACT, IX_STARTS, IX_MAX_MEM = \
    0, 1, 2, 7, 8, 10, 11, 12

SLOT_CLAIMED = [SLOT_NORMAL[0], SLOT_NORMAL[1], SLOT_NORMAL[2], SLOT_NORMAL[5],
                "RemoteUser WIDTH -20 OR ??",
                "ClientMachine WIDTH -16 OR ??"]
SCHEDD_NORMAL = [
    "Name AS Name WIDTH AUTO",
    "Machine AS Machine WIDTH AUTO",
    "TotalRunningJobs AS RunningJobs PRINTF %11d",
    "TotalIdleJobs AS '  IdleJobs' PRINTF %10d",
    "TotalHeldJobs AS '  HeldJobs' PRINTF %10d",
]
SUBMITTER_NORMAL = [
    "Name WIDTH AUTO",
    "Machine WIDTH AUTO",
    "RunningJobs AS RunningJobs PRINTF %11d",
    "IdleJobs AS '  IdleJobs' PRINTF %10d",
    "HeldJobs AS '  HeldJobs' PRINTF %10d",
]
COLLECTOR_NORMAL = [
    "Name WIDTH AUTO",
    "Machine WIDTH AUTO",
    "RunningJobs PRINTF %11d",
    "IdleJobs AS '  IdleJobs' PRINTF %10d",
    "HostsTotal PRINTF %10d",
]
MASTER_NORMAL = [
    "Name AS Name WIDTH AUTO",
    "CondorVersion AS Version WIDTH -14 PRINTAS CONDOR_VERSION",
    "DetectedCpus AS Cpus WIDTH 4 PRINTF %4d OR ??",
    "DetectedMemory AS '  Memory' WIDTH 10 PRINTAS READABLE_MB OR ??",
    "DaemonStartTime AS '   Uptime' WIDTH 13 PRINTAS ELAPSED_TIME",
]
NEGOTIATOR_NORMAL = [
    "Name AS Name WIDTH AUTO",
    "LastNegotiationCycleEnd0 AS LastCycleEnd WIDTH 12 PRINTF %Y",
    "LastNegotiationCycleDuration0 AS (Sec) PRINTF %5d",
    "LastNegotiationCycleCandidateSlots0 AS '  Slots' PRINTF %7d",
    "LastNegotiationCycleActiveSubmitterCount0 AS Submitrs PRINTF %8d",
    "LastNegotiationCycleNumSchedulers0 AS Schedds PRINTF %7d",
    "LastNegotiationCycleNumIdleJobs0 AS '   Jobs' PRINTF %7d",
    "LastNegotiationCycleMatches0 AS Matches PRINTF %7d",
    "LastNegotiationCycleRejections0 AS Rejections PRINTF %10d",
]
ANY_NORMAL = [
    'MyType?:"None" AS MyType WIDTH -18',
    'TargetType?:"None" AS TargetType WIDTH -18',
    "Name WIDTH -41 FIT OR ?",
]

#: mode -> (collector ad type, table lines, Name column minimum width, Machine width, totals)
MODES = {
    "slots": ("Startd", SLOT_NORMAL, None, None, "slots"),
    "claimed": ("Startd", SLOT_CLAIMED, None, None, "run"),
    "schedd": ("Schedd", SCHEDD_NORMAL, 15, 12, "schedd"),
    "submitters": ("Submitter", SUBMITTER_NORMAL, 15, 12, "submitter"),
    "collector": ("Collector", COLLECTOR_NORMAL, None, -18, None),
    "master": ("Master", MASTER_NORMAL, 12, None, None),
    "negotiator": ("Negotiator", NEGOTIATOR_NORMAL, 12, None, None),
    "any": ("Any", ANY_NORMAL, None, None, None),
    "server": ("Startd", SLOT_SERVER, None, None, "server"),
    "state": ("Startd", SLOT_STATE, None, None, "state"),
    "absent": ("Startd", SLOT_ABSENT, None, None, "slots"),
    "offline": ("Startd", SLOT_OFFLINE, None, None, "slots"),
    "schedd_run": ("Schedd", SCHEDD_RUN, 15, None, None),
}

AVAIL_CONSTRAINT = 'State == "Unclaimed" && Cpus > 0 && Memory > 0'
CLAIMED_CONSTRAINT = 'State == "Claimed"'

USAGE = """Usage: condor_status [help-opt] [query-opt] [custom-opts] [display-opts] [name ...]
    where [help-opt] is one of
\t-help\t\t\tPrint this screen and exit
    and [query-opt] is one of
\t-any\t\t\tDisplay any ads
\t-collector\t\tDisplay collector daemon ads
\t-master\t\t\tDisplay daemon master ads
\t-negotiator\t\tDisplay negotiator daemon ads
\t-schedd\t\t\tDisplay attributes of schedds
\t-submitters\t\tDisplay information about request submitters
\t-avail\t\t\tDisplay available slots
\t-claimed\t\tDisplay claimed slots
\t-run\t\t\tDisplay schedds running jobs (claimed slots after -slots)
\t-server\t\t\tDisplay important attributes of resources
\t-state\t\t\tDisplay state of resources
\t-absent\t\t\tDisplay absent resources
\t-offline\t\tDisplay resources with offline universes
\t-java\t\t\tDisplay Java-capable hosts
\t-vm\t\t\tDisplay VM information
\t-ads[:<form>] <file>\tGet ads from <file> (long, json, jsonl, xml, new or auto)
    and [custom-opts ...] are one or more of
\t-constraint <const>\tAdd constraint on classads
\t-limit <num>\t\tLimit the number of results to <num>
\t-pool <name>\t\tGet information from collector <name>
\t-sort <expr>\t\tSort entries by expressions. -sort can be repeated
    and [display-opts] are one or more of
\t-long\t\t\tDisplay entire classads
\t-xml\t\t\tDisplay entire classads, but in XML
\t-json\t\t\tDisplay entire classads in JSON format
\t-long:<form>\t\tDisplay entire classads in <form>: long, xml, json or new
\t-attributes X,Y,...\tAttributes to show in -xml, -json or -long
\t-total\t\t\tDisplay totals only
\t-compact\t\tShow compact form, rolling up slots into a single line
\t-wide\t\t\tDon't truncate data to fit in 80 columns
\t-print-format <file>\tUse <file> to specify the attributes and formatting
\t-format <fmt> <attr>\tPrint attribute attr using format fmt
\t-autoformat[:lhVr,tng] <attr> [<attr2> ...] or -af <attr> ...
\t\t\t\tPrint attr(s) with automatic formatting
"""


class Options:
    """The parsed command line (names as in status.cpp)."""

    def __init__(self):
        self.mode = "slots"
        self.style = "normal"       # normal | long | json | custom
        self.pool: Optional[str] = None
        self.constraints: list[str] = []
        self.names: list[str] = []
        self.limit: Optional[int] = None
        self.only_totals = False
        self.attributes: list[str] = []
        self.custom = PrintMask()
        self.sdo_constraint: Optional[str] = None
        self.mode_set = False
        self.sort_exprs: list[str] = []
        self.wide = False
        self.print_format = None
        self.display_width: Optional[int] = None   # terminal columns - 1, None if piped
        self.compact = False
        self.natural = True      # -natural[:off]: natural (numeric-aware) row order
        self.ads_file: Optional[str] = None   # -ads FILE: ads from a file, not the collector
        self.ads_fmt = "long"                 # -ads:FORM (status.cpp: long unless given)
        self.absent = False      # -absent: absent slots (Absent), their own table
        self.offline = False     # -offline: slots with offline universes
        self.java = False        # -java: slots with HasJava, Java columns
        self.vm = False          # -vm: slots with HasVM, VM columns


#: options that choose what condor_status shows, with the characters each needs
#: (status.cpp's is_dash_arg_prefix calls), in the order they are tried
_MODE_OPTIONS = (("claimed", 2), ("schedd", 2), ("submitters", 4), ("master", 1),
                 ("collector", 3), ("negotiator", 1), ("any", 2), ("slots", 2),
                 ("server", 2), ("state", 4))


def _mode_option(arg: str) -> Optional[str]:
    """The mode a command-line word selects (``-sch`` -> ``"schedd"``), or None."""
    for name, least in _MODE_OPTIONS:
        if is_dash_arg_prefix(arg, name, least):
            return name
    return None


def parse_args(argv: list[str]) -> Options:
    """Parse condor_status arguments; raises UsageError with HTCondor's message."""
    o = Options()
    i = 0

    def need(n: int, what: str, opt: str = ""):
        # status.cpp names the option in full (-pool, not what was typed)
        if i + n >= len(argv):
            raise UsageError(f"{PROG}: {opt or argv[i]} requires {what}\nUse \"{PROG} -help\" for details")
        return argv[i + 1:i + 1 + n]

    while i < len(argv):
        a = argv[i]
        if not a.startswith("-"):
            o.names.append(a)
        elif is_dash_arg_prefix(a, "help", 1):
            sys.stderr.write(USAGE)     # status.cpp usage() writes to stderr
            raise SystemExit(0)
        elif is_dash_arg_prefix(a, "pool", 1):
            if i + 1 >= len(argv):      # status.cpp adds the "Extra Info" (blank lines on stdout)
                sys.stdout.write("\n\n")
                raise UsageError(f"{PROG}: -pool requires a hostname as an argument.\n"
                                 + print_wrapped_text("Extra Info: The hostname should be the central "
                                                "manager of the Condor pool you wish to work with.")
                                 + f"Use \"{PROG} -help\" for details")
            o.pool = argv[i + 1]
            i += 1
        elif is_dash_arg_prefix(a, "constraint", 3):
            o.constraints.append(need(1, "another argument", "-constraint")[0])
            i += 1
        elif is_dash_arg_prefix(a, "limit", 2):
            v = need(1, "one additional argument", "-limit")[0]
            try:
                o.limit = int(v)
            except ValueError:
                raise UsageError(f"{PROG}: -limit needs a number, got {v!r}") from None
            i += 1
        elif is_dash_arg_colon_prefix(a, "long", 1)[0]:
            # -long[:xml|json|new|long,...]: the form of the whole ads (parseAdsFileFormat)
            o.style = "long"
            for form in (is_dash_arg_colon_prefix(a, "long", 1)[1] or "").split(","):
                if form in _LONG_FORMS:
                    o.style = _LONG_FORMS[form]
        elif is_dash_arg_prefix(a, "xml", 1):
            o.style = "xml"
        elif is_dash_arg_prefix(a, "json", 2):
            o.style = "json"
        elif is_dash_arg_prefix(a, "attributes", 2):
            o.attributes += [s.strip() for s in need(1, "one additional argument", "-attributes")[0].split(",")
                             if s.strip()]
            i += 1
        elif is_dash_arg_prefix(a, "format", 1):
            fmt, expr = need(2, "two other arguments", "-format")
            try:
                parse_constraint(expr)
            except C.ClassAdParseError:
                raise UsageError(f"Error:  Parse error of: {expr}") from None
            o.style = "custom"
            o.custom.add(Column(expr=expr, printf=fmt))
            i += 2
        elif a.startswith("-") and (is_dash_arg_colon_prefix(a, "autoformat", 5)[0]
                                    or is_dash_arg_colon_prefix(a, "af", 2)[0]):
            opts = a.split(":", 1)[1] if ":" in a else ""
            exprs = []
            while i + 1 < len(argv) and not argv[i + 1].startswith("-"):
                i += 1
                exprs.append(argv[i])
            if not exprs:
                raise UsageError(f"Error: Argument {a} requires at least one attribute parameter\n"
                                 f"Use \"{PROG} -help\" for details")
            try:
                autoformat_mask(exprs, opts, o.custom)
            except ValueError as exc:
                # HTCondor exits 1 silently here; say which argument was wrong
                raise UsageError(f"Error: {a}: {exc}") from None
            o.style = "custom"
        elif is_dash_arg_prefix(a, "sort", 2):
            expr = need(1, "another argument", "-sort")[0]
            try:
                parse_constraint(expr)
            except C.ClassAdParseError:
                raise UsageError(f"Error: Parse error of: {expr}") from None
            o.sort_exprs.append(expr)
            i += 1
        elif is_dash_arg_colon_prefix(a, "wide", 3)[0]:
            o.wide = True
        elif is_dash_arg_colon_prefix(a, "print-format", 2)[0]:
            if i + 1 >= len(argv) or (argv[i + 1].startswith("-") and argv[i + 1] != "-"):
                raise UsageError("Error: Argument -print-format requires a filename argument")
            path = argv[i + 1]
            try:
                with open(path, encoding="utf-8") as fh:
                    o.print_format = load_print_format(fh.read(), path)
            except OSError as exc:
                raise UsageError(f"Error: can't open print-format file {path}: {exc.strerror}") from None
            except ValueError as exc:
                raise UsageError(f"Error: invalid print-format file {exc}") from None
            o.style = "printformat"
            i += 1
        elif is_dash_arg_colon_prefix(a, "natural", 3)[0]:
            opt = is_dash_arg_colon_prefix(a, "natural", 3)[1]
            o.natural = not (opt and opt.lower() in ("off", "false", "no", "0"))
        elif is_dash_arg_prefix(a, "compact", 3):
            o.compact = True
        elif is_dash_arg_prefix(a, "nocompact", 5):
            o.compact = False
        elif is_dash_arg_prefix(a, "totals", 1):
            o.only_totals = True
        elif is_dash_arg_prefix(a, "avail", 2):
            o.sdo_constraint = AVAIL_CONSTRAINT
        elif (mode := _mode_option(a)) is not None:
            o.mode, o.mode_set = mode, True
        elif is_dash_arg_colon_prefix(a, "ads", 2)[0]:
            o.ads_file = need(1, "a filename argument", "-ads")[0]
            o.ads_fmt = parse_ads_format(is_dash_arg_colon_prefix(a, "ads", 2)[1], "long")
            i += 1
        elif is_dash_arg_prefix(a, "run", 1):
            # status.cpp: -run after -slots/-claimed shows claimed slots, otherwise (since
            # 8.5.7) the schedds that are running jobs
            if o.mode_set and o.mode in ("slots", "claimed"):
                o.mode = "claimed"
            else:
                o.mode, o.mode_set = "schedd_run", True
        elif is_dash_arg_prefix(a, "java", 1):
            o.java = True
        elif is_dash_arg_prefix(a, "absent", 2):
            o.absent = True
        elif is_dash_arg_prefix(a, "offline", 2):
            o.offline = True
        elif is_dash_arg_prefix(a, "vm", 2):
            o.vm = True
        elif is_dash_arg_colon_prefix(a, "debug", 2)[0] or is_dash_arg_prefix(a, "expert", 1):
            pass
        elif (is_dash_arg_prefix(a, "direct", 3) or is_dash_arg_prefix(a, "gpus", 3)):
            raise UsageError(f"Error: option {a} is not supported by this condor_status")
        else:
            raise UsageError(f"Error:  Unknown option {a}\nUse \"{PROG} -help\" for details")
        i += 1
    pf = o.print_format
    if pf is not None and pf.select_from and not o.mode_set:
        o.mode = SELECT_FROM.get(pf.select_from.lower(), o.mode)
    return o


#: SELECT FROM <type> of a print-format file -> mode
SELECT_FROM = {"startd": "slots", "machine": "slots", "schedd": "schedd", "scheduler": "schedd",
               "submitter": "submitters", "submitters": "submitters", "master": "master",
               "daemonmaster": "master", "collector": "collector", "negotiator": "negotiator",
               "any": "any"}


def query_constraint(o: Options) -> Optional[str]:
    """The Requirements of the query: -constraint and mode constraints ANDed, positional
    names ORed (status.cpp secondPass). Raises ValueError for a bad constraint."""
    ands = list(o.constraints)
    if o.sdo_constraint and o.mode == "slots":
        ands.insert(0, o.sdo_constraint)
    if o.mode == "claimed":
        ands.insert(0, CLAIMED_CONSTRAINT)
    if o.compact and o.mode in ("slots", "claimed") and not (o.java or o.vm):
        ands.insert(0, COMPACT_CONSTRAINT)
    if o.print_format is not None and o.print_format.where:
        ands.append(o.print_format.where)
    if o.mode == "schedd_run":
        ands.append(SCHEDD_RUN_CONSTRAINT)
    # status.cpp: these flags add their constraint whatever the ad type
    ands += [c for flag, c in ((o.java, JAVA_CONSTRAINT), (o.offline, OFFLINE_CONSTRAINT),
                               (o.absent, ABSENT_CONSTRAINT), (o.vm, VM_CONSTRAINT)) if flag]
    for c in ands:
        parse_constraint(c)
    if o.mode == "claimed":     # -claimed NAME selects by the claiming user
        ors = [f'RemoteUser == "{n}"' for n in o.names]
    else:
        ors = [f'Name=="{n}" || Machine=="{n}"' for n in o.names]
    parts = [f"({c})" for c in ands]
    if ors:
        parts.append("(" + " || ".join(f"({c})" for c in ors) + ")")
    return " && ".join(parts) if parts else None


def sort_key(ad: C.ClassAd, ordinal: int, exprs=("Machine", "Name")) -> str:
    """The row's sort key (status.cpp ``ClassadSortSpecs::RenderKey``): each sort
    expression's value as text (strings as is, integers and booleans in decimal, reals by
    their IEEE bits as an integer, others unparsed), each followed by a newline, then the
    arrival ordinal in hex.  Keys are compared with :func:`~pyhtc.tools.common.natural_cmp`
    (``-natural:off``: as plain strings), as status.cpp's row map does."""
    key = []
    for expr in exprs:
        v = eval_text(expr, ad)
        if type(v) is str:
            key.append(v + "\n")
        elif type(v) is bool or type(v) is int:
            key.append(str(int(v)) + "\n")
        elif type(v) is float:
            key.append(str(struct.unpack("<q", struct.pack("<d", v))[0]) + "\n")
        elif v is ERROR:
            key.append("\n")           # EvaluateExpr failed: nothing but the separator
        else:
            key.append(unparse_value(v, True) + "\n")
    return "".join(key) + "%08X" % ordinal


#: mode -> width of the columns other than Name and Machine (prettyPrint.cpp
#: ``width_of_fixed_cols``), used to fit a table to a terminal
FIXED_WIDTH = {"slots": 65, "claimed": 63, "schedd": 35, "submitters": 35, "server": 65,
               "state": 34 + 3 * 12, "schedd_run": 35,
               "negotiator": 12 + 5 + 7 + 8 + 7 + 7 + 7 + 10}


def table_mode(o: Options) -> str:
    """The table shown: ``-absent`` and ``-offline`` replace the slot table (prettyPrint.cpp
    ppSetStartdCols)."""
    if o.mode == "slots" and o.absent:
        return "absent"
    if o.mode == "slots" and o.offline:
        return "offline"
    return o.mode


def table_mask(mode: str, wide: bool = False, width: Optional[int] = None,
               java: bool = False, vm: bool = False) -> PrintMask:
    """The default table of ``mode`` with status.cpp's Name/Machine width adjustments
    (``ppAdjustProjection``).  ``width`` is the terminal width - 1 (None when output is
    not a terminal: HTCondor then lays tables out for 80 columns without cropping);
    ``wide`` (-wide) or a terminal of 100+ columns shows the slot table's ActivityTime
    column instead of ActvtyTime; -wide makes the collector Machine column 34 wide."""
    _, lines, name_width, machine_width, _ = MODES[mode]
    if mode in ("slots", "claimed"):
        lines = java_vm_lines(lines, java, vm)
    if mode == "slots" and (wide or (width is not None and width >= 100)):
        lines = lines[:-1] + ["EnteredCurrentActivity AS ActivityTime WIDTH AUTO TRUNCATE "
                              "PRINTAS ACTIVITY_TIME OR -"]
    if machine_width == -18:            # ppSetCollectorNormalCols
        if wide:
            machine_width = -34
        elif width is not None and width > 79:
            wid = min(width - (28 + 18 + 11 + 8 + 10 + 4), 50)
            nw = min(20, wid * 2 // 3)
            machine_width -= min(30, wid - nw)
    pm = parse_print_format(lines)
    if width is not None:
        pm.overall_width = width
    for col in pm.columns:
        if col.expr == "Name":
            col.role = "name"
            if name_width:
                col.width, col.auto = name_width, True
            elif mode in ("slots", "claimed", "server", "state"):
                col.auto = True
        elif col.expr == "Machine" and machine_width:
            col.role = "machine"
            col.width, col.auto = abs(machine_width), machine_width > 0 or wide
            col.left = True
    return pm


def fit_to_terminal(pm: PrintMask, mode: str, width: int) -> None:
    """Shrink the Name/Machine columns of a rendered table so rows fit ``width``
    (prettyPrint.cpp ``prettyPrintHeadings``: Machine gives up half the excess, down to 7;
    Name the rest, down to 12; cropped columns truncate)."""
    fixed = FIXED_WIDTH.get(mode, 0)
    if fixed <= 0:
        return
    name = next((c for c in pm.columns if getattr(c, "role", None) == "name"), None)
    mach = next((c for c in pm.columns if getattr(c, "role", None) == "machine"), None)
    remain = width - fixed - (name.width if name else 0) - (mach.width if mach else 0)
    if remain >= 0:
        return
    crop = -remain
    if name is not None:
        if mach is not None:
            mwidth = max(7, mach.width - crop // 2)
            crop -= mach.width - mwidth
            mach.width = mwidth
        name.width = max(12, name.width - crop)
    elif mach is not None:
        mach.width = max(7, mach.width - crop)
    for col in (name, mach):
        if col is not None:
            col.auto, col.truncate = False, True


# -- totals (totals.cpp)

_SLOT_STATES = ("Owner", "Claimed", "Unclaimed", "Matched", "Preempting", "Drained", "Backfill")


class StateTotals:
    """Slot counts by State per key (totals.cpp StartdNormalTotal/TrackTotals)."""

    def __init__(self):
        self.groups: dict[str, dict] = {}
        self.top = self._blank()
        self.malformed = 0

    @staticmethod
    def _blank():
        return dict.fromkeys(_SLOT_STATES + ("Machines", "BkIdle"), 0)

    def count(self, key: str, state, backfill: bool = False) -> bool:
        """Count one slot in ``state``; False (not counted) for states without a column."""
        g = self.groups.setdefault(key, self._blank())
        if backfill:
            if state == "Unclaimed":        # idle backfill slots are not machines
                g["BkIdle"] += 1
                self.top["BkIdle"] += 1
                return True
            if state == "Claimed":
                state = "Backfill"
        if state not in _SLOT_STATES:
            return False
        for t in (g, self.top):
            t[state] += 1
            t["Machines"] += 1
        return True

    def text(self, keylen: int) -> str:
        head = "%6.6s %5.5s %7.7s %9.9s %7.7s %10.10s %6.6s %8.8s %6.6s\n" % (
            "Total", "Owner", "Claimed", "Unclaimed", "Matched", "Preempting", "Drain",
            "Backfill", "BkIdle")

        def info(t):
            return "%6d %5d %7d %9d %7d %10d %6d %8d %6d\n" % (
                t["Machines"], t["Owner"], t["Claimed"], t["Unclaimed"], t["Matched"],
                t["Preempting"], t["Drained"], t["Backfill"], t["BkIdle"])
        return _totals_block(keylen, head, [(k, info(g)) for k, g in sorted(self.groups.items())],
                             info(self.top), self.malformed)


def slot_totals(ads: list[C.ClassAd], keylen: int = 14) -> str:
    """The ``Total Owner Claimed ...`` block of the slot table, by Arch/OpSys."""
    t = StateTotals()
    for ad in ads:
        arch, opsys = ad.get("Arch"), ad.get("OpSys")
        if type(arch) is not str or type(opsys) is not str:
            t.malformed += 1
            continue
        if not t.count(f"{arch}/{opsys}", ad.get("State")):
            t.malformed += 1
    return t.text(keylen)


def run_totals(ads: list[C.ClassAd], keylen: int = 14) -> str:
    """The ``Machines MIPS KFLOPS AvgLoadAvg`` block of ``-claimed`` (StartdRunTotal);
    an ad without Mips, KFlops or LoadAvg is counted and reported as malformed."""
    def blank():
        return {"machines": 0, "mips": 0, "kflops": 0, "load": 0.0}
    groups: dict[str, dict] = {}
    top = blank()
    malformed = 0
    for ad in ads:
        arch, opsys = ad.get("Arch"), ad.get("OpSys")
        if type(arch) is not str or type(opsys) is not str:
            malformed += 1
            continue
        (mips, kflops), bad = _ints(ad, ("Mips", "KFlops"))
        load = ad.get("LoadAvg")
        if type(load) not in (int, float):
            load, bad = 0.0, True
        malformed += bad
        for t in (groups.setdefault(f"{arch}/{opsys}", blank()), top):
            t["machines"] += 1
            t["mips"] += mips
            t["kflops"] += kflops
            t["load"] += load

    def info(t):
        avg = t["load"] / t["machines"] if t["machines"] else 0.0
        return "%9d  %11d  %11d   %-.3f\n" % (t["machines"], t["mips"], t["kflops"], avg)
    head = "%9.9s  %11.11s  %11.11s  %11.11s\n" % ("Machines", "MIPS", "KFLOPS", "AvgLoadAvg")
    return _totals_block(keylen, head, [(k, info(g)) for k, g in sorted(groups.items())],
                         info(top), malformed)


def _totals_block(keylen: int, head: str, rows: list, total: str, malformed: int) -> str:
    # TrackTotals::displayTotals; keylen < 0: as wide as the longest key (at least 5)
    if keylen < 0:
        keylen = max([5] + [len(k) for k, _ in rows])

    def key(k):
        return ("%*.*s" % (keylen, keylen, k))
    out = [key(""), head, "\n"]
    for k, text in rows:
        out += [key(k), text]
    if rows:
        out.append("\n")
    out += [key("Total"), total]
    if malformed:
        out.append("\n%s(Omitted %d malformed ads in computed attribute totals)\n\n" % (key(""), malformed))
    return "".join(out)


def _ints(ad, names):
    vals, bad = [], False
    for n in names:
        v = ad.get(n)
        if type(v) is int:
            vals.append(v)
        else:
            vals.append(0)
            bad = True
    return vals, bad


def schedd_totals(ads, keylen: int = 14) -> str:
    """ScheddNormalTotal: one key for all schedds, job counts on the Total line only."""
    sums, malformed = [0, 0, 0], 0
    for ad in ads:
        vals, bad = _ints(ad, ("TotalRunningJobs", "TotalIdleJobs", "TotalHeldJobs"))
        sums = [s + v for s, v in zip(sums, vals)]
        malformed += bad
    head = "%18s %18s %18s\n" % ("TotalRunningJobs", "TotalIdleJobs", "TotalHeldJobs")
    # every schedd hashes to the key " ", whose own line shows no counts
    return _totals_block(keylen, head, [(" ", "")], "%18d %18d %18d\n" % tuple(sums), malformed)


def submitter_totals(ads, keylen: int = -1) -> str:
    """ScheddSubmittorTotal: one line per submitter Name (key column as wide as the
    longest name, at least 5)."""
    groups: dict[str, list] = {}
    top, malformed = [0, 0, 0], 0
    for ad in ads:
        name = ad.get("Name")
        if type(name) is not str:
            malformed += 1
            continue
        vals, bad = _ints(ad, ("RunningJobs", "IdleJobs", "HeldJobs"))
        g = groups.setdefault(name, [0, 0, 0])
        for t in (g, top):
            for k in range(3):
                t[k] += vals[k]
        malformed += bad
    head = "%11s %10s %10s\n" % ("RunningJobs", "IdleJobs", "HeldJobs")
    rows = [(k, "%11d %10d %10d\n" % tuple(v)) for k, v in sorted(groups.items())]
    return _totals_block(-1, head, rows, "%11d %10d %10d\n" % tuple(top), malformed)


TOTALS = {"slots": slot_totals, "run": run_totals, "schedd": schedd_totals,
          "submitter": submitter_totals, "server": server_totals, "state": state_totals}


# -- output

def format_new_ads(ads: list[C.ClassAd], attrs=None) -> str:
    """``-long:new``: ``{``, each ad in new syntax on one line (attributes sorted), ``,``
    between them, ``}`` (CondorClassAdListWriter Parse_new); empty ads are left out and no
    ads print nothing."""
    parts = []
    for ad in ads:
        items = common._sorted_attrs(ad, attrs)
        if items:
            parts.append("[ " + "; ".join(quote_name(name) + " = " + unparse_node(node)
                                          for name, node in items) + " ]")
    if not parts:
        return ""
    return "{\n" + "\n,\n".join(parts) + "\n}\n"


def render_output(o: Options, ads: list[C.ClassAd]) -> str:
    """The text condor_status prints for ``ads`` (already selected by the collector)."""
    exprs = o.sort_exprs or (o.print_format.group_by if o.print_format else None) or ("Machine", "Name")
    order = common.natural_key if o.natural else None
    keyed = sorted(((sort_key(ad, i + 1, exprs), i) for i, ad in enumerate(ads)),
                   key=(lambda e: order(e[0])) if order else None)
    ads = [ads[i] for _, i in keyed]
    if o.style == "long":
        if o.only_totals:
            return ""
        return "".join(format_long(ad, o.attributes or None) for ad in ads)
    if o.style == "json":
        return "" if o.only_totals else format_json(ads, o.attributes or None)
    if o.style == "xml":  # header and footer even with no ads (status.cpp)
        return "" if o.only_totals else format_xml_ads(
            common._sorted_attrs(ad, o.attributes or None) for ad in ads)
    if o.style == "new":
        return "" if o.only_totals else format_new_ads(ads, o.attributes or None)
    out = []
    if o.style in ("custom", "printformat"):
        # custom output (prettyPrint.cpp prettyPrintHeadings): headings when the mask has
        # them, even with no ads, and no blank line after them
        pf = o.print_format
        pm = pf.mask if pf else o.custom
        rows = [pm.render(ad) for ad in ads]
        if not o.only_totals:
            if pm.has_headings and not (pf and pf.no_header):
                out.append(pm.headings())
            out += [pm.display(r) for r in rows]
        totals = MODES[o.mode][4] if pf and pf.summary else None
        if ads and totals:
            out.append("\n")
            out.append(TOTALS[totals](ads, -1 if o.wide else 14))
        return "".join(out)
    mode = table_mode(o)
    compact = o.compact and not (o.java or o.vm)
    if compact and mode == "slots" and not o.only_totals:
        return compact_output(o, ads)
    if compact and o.only_totals and mode == "slots":
        sys.stderr.write("Warning: ignoring -compact option because -total option is also set\n")
    pm = table_mask(mode, o.wide, o.display_width, o.java, o.vm)
    totals = MODES[mode][4]
    if not o.only_totals:
        rows = [pm.render(ad) for ad in ads]
        if rows and o.display_width is not None and not o.wide:
            fit_to_terminal(pm, mode, o.display_width)
        if rows:
            out.append(pm.headings())
            out.append("\n")
            out += [pm.display(r) for r in rows]
    if ads and totals:
        out.append("\n")
        out.append(TOTALS[totals](ads, -1 if o.wide else 14))
    return "".join(out)


# -- -compact (status.cpp process_ads_callback, fold_slot_result, reduce_slot_results)

_BUSY_STATES = ("Matched", "Claimed", "Preempting")


def _num_cell(row, ix, default=0):
    valid, v = row[ix]
    return v if valid and type(v) in (int, float) else default


def _rollup_code(ad, code: str, exhausted: bool) -> str:
    """A partitionable slot's ST column with its children's consensus state and activity
    (a Preempting/Vacating child wins; a mixture shows ``*``)."""
    def consensus(attr, known, wins):
        lst = ad.get(attr)
        if not isinstance(lst, list):
            return None
        out = None
        for item in lst:
            if type(item) is not str or item not in known:
                continue
            if out is None:
                out = item
            elif out != item:
                if item == wins:
                    return item
                out = "#"
        return out
    st = consensus("ChildState", common.STATE_LETTERS, "Preempting")
    ac = consensus("ChildActivity", common.ACTIVITY_LETTERS, "Vacating")
    b = common.state_activity_code(st, ac)
    bsc, bac = b[0], b[1]
    asc, aac = (code + "  ")[0], (code + "  ")[1]
    if asc == "U" and aac == "i" and exhausted:
        asc, aac = bsc, bac
    elif asc == "D" and bsc == "C":
        asc = bsc
    if bsc == "P":
        asc = bsc
    if bac == "v":
        aac = bac
    if st is not None and asc != bsc:
        asc = "*"
    if ac is not None and aac != bac:
        aac = "*"
    return asc + aac


def _same_primary_key(aa: str, bb: str) -> tuple[bool, bool]:
    """(same machine, slot type differs): keys equal up to the first newline, except the
    digit after a ``:`` (status.cpp same_primary_key)."""
    mismatch = got_colon = False
    if not aa:
        return False, False
    for ix, ch in enumerate(aa):
        b = bb[ix] if ix < len(bb) else ""
        if b != ch:
            if got_colon and ch.isdigit() and b.isdigit():
                mismatch = True
            else:
                return False, mismatch
        if ch == "\n":
            return True, mismatch
        got_colon = ch == ":"
    return len(bb) == len(aa), mismatch


class _Srod:
    """One rendered slot (StatusRowOfData): ``row`` is a list of [valid, value]."""
    __slots__ = ("row", "partitionable", "exhausted", "busy", "cooked", "folded", "label")

    def __init__(self, row, ad):
        self.row = [list(c) for c in row]
        self.partitionable = ad.get("PartitionableSlot") is True
        cpus = ad.get("Cpus")
        self.exhausted = self.partitionable and type(cpus) in (int, float) and cpus < 0.1
        state = ad.get("State")
        self.busy = state in _BUSY_STATES and not (self.partitionable and state == "Claimed")
        self.cooked = self.folded = False
        name = ad.get("Name")
        self.label = name.split("@")[0] if type(name) is str else ""


def _fold(aa: _Srod, bb: Optional[_Srod]) -> None:
    r = aa.row
    if not aa.partitionable and not aa.cooked:
        r[IX_MAX_MEM] = [True, float(_num_cell(r, IX_FREE_MEM, 0.0))]
        if aa.busy:
            r[IX_FREE_CPUS][1] = 0
            r[IX_FREE_MEM][1] = 0.0
        r[IX_SLOTS] = [True, 1]
        aa.cooked = True
    if bb is None:
        return
    b = bb.row
    amem = _num_cell(r, IX_MAX_MEM, 0.0)
    bmem = _num_cell(b, IX_MAX_MEM if bb.partitionable else IX_FREE_MEM, 0.0)
    r[IX_MAX_MEM][1] = float(max(amem, bmem))
    if bb.partitionable or not bb.busy:
        r[IX_FREE_MEM][1] = float(bmem + _num_cell(r, IX_FREE_MEM, 0.0))
        r[IX_FREE_CPUS][1] = int(_num_cell(r, IX_FREE_CPUS) + _num_cell(b, IX_FREE_CPUS))
    aslots = _num_cell(r, IX_SLOTS, None)
    if aslots is None:
        aslots = 1
    bslots = _num_cell(b, IX_SLOTS, 0) if bb.partitionable else 1
    r[IX_SLOTS] = [True, int(aslots + bslots)]
    r[IX_STARTS][1] = float(_num_cell(r, IX_STARTS, 0.0) + _num_cell(b, IX_STARTS, 0.0))
    a_code, b_code = str(r[IX_ACT][1]) + "  ", str(b[IX_ACT][1]) + "  "
    code = (a_code[0] if a_code[0] == b_code[0] else "*") + (a_code[1] if a_code[1] == b_code[1] else "*")
    if code != a_code[:2]:
        r[IX_ACT][1] = code


def compact_output(o: Options, ads: list[C.ClassAd]) -> str:
    """``condor_status -compact``: static slots of a machine (and slot type) folded into one
    row, partitionable slots shown with their free resources; totals keyed by platform."""
    pm = parse_print_format(STARTD_COMPACT)
    if o.display_width is not None:
        pm.overall_width = o.display_width
    mcol = pm.columns[IX_MACHINE]
    mcol.role, mcol.width, mcol.auto, mcol.left = "machine", 12, True, True
    totals = StateTotals()
    keylen = 14
    entries = []
    for ordinal, ad in enumerate(ads, 1):
        kad = ad
        sid = ad.get("SlotTypeId")
        if type(sid) is int and sid < 0:     # status.cpp: sort negative slot types as positive
            kad = C.ClassAd(ad)
            kad["SlotTypeId"] = -sid
        key = sort_key(kad, ordinal, ('join(":",Machine,SlotTypeId)', "Name"))
        srod = _Srod(pm.render(ad), ad)
        # totals by the platform text, rolling partitionable slots up by their children
        pvalid, platform = srod.row[IX_PLATFORM]
        tkey = platform if pvalid and type(platform) is str and platform else None
        if tkey is not None:
            keylen = max(keylen, len(tkey))
        else:
            arch, opsys = ad.get("Arch"), ad.get("OpSys")
            tkey = f"{arch}/{opsys}" if type(arch) is str and type(opsys) is str else None
        if tkey is None:
            totals.malformed += 1
        else:
            backfill = ad.get("SlotBackfill") is True
            if srod.partitionable:
                for child in (ad.get("ChildState") or []) if isinstance(ad.get("ChildState"), list) else []:
                    if type(child) is str:
                        totals.count(tkey, child, backfill)
                if not srod.exhausted and not backfill:
                    if not totals.count(tkey, ad.get("State")):
                        totals.malformed += 1
            elif ad.get("DynamicSlot") is not True:
                if not totals.count(tkey, ad.get("State"), backfill):
                    totals.malformed += 1
        if srod.partitionable:
            srod.row[IX_ACT][1] = _rollup_code(ad, str(srod.row[IX_ACT][1]), srod.exhausted)
        entries.append((key, srod))
    entries.sort(key=(lambda e: common.natural_key(e[0])) if o.natural else (lambda e: e[0]))
    # reduce_slot_results
    if entries:
        mkey, mrow = entries[0]
        fold_last = True
        for key, srod in entries[1:]:
            same, mismatch = _same_primary_key(key, mkey)
            if same and not mismatch:
                _fold(mrow, srod)
                srod.folded = True
                fold_last = False
            else:
                _fold(mrow, None)
                if same and mismatch and srod.label:
                    srod.row[IX_MACHINE] = [True, "   " + srod.label]
                mkey, mrow = key, srod
                fold_last = True
        if fold_last:
            _fold(mrow, None)
    shown = [srod for _, srod in entries if not srod.folded]
    for srod in shown:       # widths of AUTO columns follow the folded values
        mcol.width = max(mcol.width, len(str(srod.row[IX_MACHINE][1])))
    if shown and o.display_width is not None and not o.wide:
        fit_to_terminal(pm, "compact", o.display_width)
    out = []
    if shown:
        out.append(pm.headings())
        out.append("\n")
        out += [pm.display([tuple(c) for c in srod.row]) for srod in shown]
        out.append("\n")
        out.append(totals.text(-1 if o.wide else keylen))
    return "".join(out)


def collector_error(o: Options, host: str, exc: Exception) -> str:
    """HTCondor's message for a failed query (status.cpp, error_utils.cpp
    ``printNoCollectorContact``): ``Error: communication error``, the error stack line
    (CEDAR:6001 for a failed connection, SECMAN:2010 for a refused/failed security
    handshake, CEDAR:6004 for a broken reply), then with -pool the long explanation."""
    if isinstance(exc, SecurityError):
        detail = f"SECMAN:2010:{exc}"
    elif isinstance(exc, CedarError):
        detail = f"CEDAR:6004:failed to read the reply from <{host}>: {exc}"
    else:
        detail = f"CEDAR:6001:Failed to connect to <{host}>"
    lines = "Error: communication error\n" + detail + "\n"
    if o.pool:
        lines += print_wrapped_text(f"Error: Couldn't contact the condor_collector on {o.pool} (<{host}>).")
        lines += "\n" + print_wrapped_text(
            "Extra Info: the condor_collector is a process that runs on the central manager of "
            "your Condor pool and collects the status of all the machines and jobs in the Condor "
            "pool. The condor_collector might not be running, it might be refusing to communicate "
            "with you, there might be a network problem, or there may be some other problem. "
            "Check with your system administrator to fix this problem.")
        lines += "\n" + print_wrapped_text(
            f"If you are the system administrator, check that the condor_collector is running on "
            f"{o.pool} (<{host}>), check the ALLOW/DENY configuration in your condor_config, and "
            f"check the MasterLog and CollectorLog files in your log directory for possible clues "
            f"as to why the condor_collector is not responding. Also see the Troubleshooting "
            f"section of the manual.")
    return lines


def status_projection(o: Options) -> list[str]:
    """The attributes to ask the collector for (status.cpp): for ``-af``/``-format`` the
    columns' references plus the sort keys' (``[]``, whole ads, if a column has a renderer);
    for ``-long``/``-json`` with ``-attributes``, those; otherwise whole ads."""
    if o.style == "custom":
        return common.expression_projection(o.custom, extra_exprs=o.sort_exprs or ("Machine", "Name"))
    if o.style in ("long", "json", "xml", "new") and o.attributes:
        return list(o.attributes)
    return []


def main(argv: Optional[list[str]] = None) -> int:
    """Entry point of ``condor_status``; returns the exit status."""
    argv = sys.argv[1:] if argv is None else argv
    try:
        o = parse_args(argv)
    except UsageError as exc:
        sys.stderr.write(str(exc) + "\n")
        return 1
    try:
        constraint = query_constraint(o)
    except C.ClassAdParseError:
        sys.stderr.write("Error: invalid constraint\n\n")
        return 1
    if o.ads_file is not None:
        ads = ads_from_file(o, constraint)
        if ads is None:
            return 1
        return _write(o, ads)
    try:
        cc = CollectorClient(o.pool, get_config())
    except ConfigError as exc:
        sys.stderr.write(f"Error: {exc}\n")
        return 1
    except DaemonNotFound as exc:
        sys.stderr.write(f"Error: can't find collector\n{exc}\n")
        return 1
    ad_type = MODES[o.mode][0]
    try:
        ads = cc.query(ad_type, constraint, projection=status_projection(o), limit=o.limit)
    except (OSError, EOFError, CedarError) as exc:
        sys.stderr.write(collector_error(o, cc.addresses[0], exc))
        return 1
    return _write(o, ads)


def ads_from_file(o: Options, constraint: Optional[str]) -> Optional[list]:
    """``-ads[:FORM] FILE`` (status.cpp ``read_classad_file``): the ads of the file (format
    ``long`` unless FORM names another; ``-`` is standard input) that match the query's
    constraint -- whatever their type, as HTCondor does -- up to ``-limit``.  None after an
    error message (``Can't open file of ClassAds: FILE``; a parse error names file:line)."""
    try:
        got = read_ads_file(o.ads_file, o.ads_fmt)
    except OSError:
        sys.stderr.write(f"Can't open file of ClassAds: {o.ads_file}\n")
        return None
    except AdsFileError as exc:
        sys.stderr.write(f"Error: {exc}\n")
        return None
    ads = [ad for ad in got.ads if constraint is None or eval_text(constraint, ad) is True]
    if o.limit is not None and o.limit > 0:
        ads = ads[:o.limit]
    return ads


def _write(o: Options, ads: list) -> int:
    if sys.stdout.isatty():
        o.display_width = shutil.get_terminal_size((80, 24)).columns - 1
    try:
        sys.stdout.write(render_output(o, ads))
        sys.stdout.flush()
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


if __name__ == "__main__":
    sys.exit(main())
