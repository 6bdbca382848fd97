"""``condor_q``: show the jobs in a schedd's queue (src/condor_q.V6/queue.cpp; manual
docs/man-pages/condor_q.rst).

    condor_q [-name NAME | -global] [-pool HOST] [-allusers] [-wide] [-constraint EXPR] [-limit N]
             [-nobatch | -batch | -hold | -run | -io | -totals | -long[:FORM] | -json | -xml
              | -af[:lhtrV,ng] EXPR... | -format FMT EXPR] [-attributes A,B]
             [-dag] [-cputime] [-currentrun | -cumulative-time] [-unmatchable]
             [-jobads[:FORM] FILE | -userlog FILE] [cluster | cluster.proc | owner]...

Views (queue.cpp print formats): the default *batch* view folds the jobs of a cluster (or a
``JobBatchName``) into one row ``OWNER BATCH_NAME SUBMITTED DONE RUN IDLE [HOLD] TOTAL
JOB_IDS``; ``-nobatch`` lists each job (``ID OWNER SUBMITTED RUN_TIME ST PRI SIZE CMD``);
``-hold`` shows ``HELD_SINCE CODE/SUB HOLD_REASON``; ``-run`` shows ``RUN_TIME HOST(S)``;
``-io`` the jobs moving files; ``-dag -nobatch`` lists node jobs under their DAGMan job;
``-cputime``/``-currentrun`` change the RUN_TIME column (:mod:`pyhtc.tools.q_views`).
``-jobads FILE`` reads the jobs from a file of ads (:mod:`pyhtc.tools.ads_file`),
``-long:FORM`` writes them as long/json/jsonl/xml/new/newl, and ``-unmatchable`` keeps
only the jobs no slot matches.
A title line ``-- Schedd: NAME : <addr> @ date`` comes first and the totals
(``Total for query: N jobs; ...``, ``Total for <me>: ...``, ``Total for all users: ...``)
last.  Like HTCondor since 8.6, only your own jobs are shown unless ``-allusers`` is given,
an owner or job id is named, or ``CONDOR_Q_ONLY_MY_JOBS`` is false.  Exit status 0, or 1
on failure.

Large queues: the reply is read in bulk (:mod:`pyhtc.client.schedd_query`), and ``-af`` /
``-format`` output is rendered a column at a time (:func:`fast_custom_blocks`) when the ads
came as columns of literal texts -- the same text as the general rendering.
"""
from __future__ import annotations

import functools
import getpass
import operator
import os
import re
import sys
import time
from typing import Optional

from pyhtc import classad as C
from pyhtc.cedar.wire_ad import AdColumns, to_classad
from pyhtc.classad.oldsyntax import convert_escaping
from pyhtc.client import CollectorClient, DaemonNotFound, locate_daemon
from pyhtc.client.schedd import ScheddClient
from pyhtc.client.schedd_query import query_job_ads
from pyhtc.config import ConfigError, get_config
from pyhtc.tools.ads_file import AdsFileError, format_ads, parse_ads_format, read_ads_file
from pyhtc.tools.analyze import AnalysisOptions, schedd_label, setup_slots
from pyhtc.tools.q_views import STATUS_CHAR  # noqa: F401  (re-exported: the ST letters)
from pyhtc.tools.q_views import (IO_CONSTRAINT, TimeRule, batch_lines, dag_lines, format_duration,
                                 hold_lines, idle_lines, io_lines, job_time, nobatch_lines)
from pyhtc.classad.xmlsink import format_xml_ads
from pyhtc.tools.common import (Column, PrintMask, UsageError, _sorted_attrs, autoformat_mask,
                                expression_projection, format_json, format_long,
                                is_dash_arg_colon_prefix, is_dash_arg_prefix, parse_constraint)

PROG = "condor_q"


USAGE = """Usage: condor_q [general-opts] [restriction-list] [output-opts | analyze-opts]
    [general-opts] are
\t-global\t\t\t Query all Schedulers in this pool
\t-name <name>\t\t Name of Scheduler
\t-pool <host>\t\t Use host as the central manager to query
\t-allusers\t\t Consider jobs from all users
\t-jobads[:<form>] <file>\t Read queue from a file of job ClassAds
\t           where <form> is one of:
\t       auto    default, guess the format from reading the input stream
\t       long    The traditional -long form
\t       xml     XML form, the same as -xml
\t       json    JSON classad form, the same as -json
\t       jsonl   JSON classads, one per line
\t       new     'new' classad form without newlines
\t-userlog <file>\t\t Read queue from a user log file
    [restriction-list] each restriction may be one of
\t<cluster>\t\t Get information about specific cluster
\t<cluster>.<proc>\t Get information about specific job
\t<owner>\t\t\t Information about jobs owned by <owner>
\t-constraint <expr>\t Get information about jobs that match <expr>
\t-unmatchable\t\t Get information about jobs that do not match any machines
    [output-opts] are
\t-limit <num>\t\t Limit the number of results to <num>
\t-cputime\t\t Display CPU_TIME instead of RUN_TIME
\t-currentrun\t\t Display times only for current run
\t-cumulative-time\t Display times for all runs (the default)
\t-dag\t\t\t Sort DAG jobs under their DAGMan
\t-io\t\t\t Display information regarding I/O
\t-idle\t\t\t Get information about idle jobs
\t-totals\t\t\t Display only job totals
\t-batch\t\t\t Display one line per batch of jobs (the default)
\t-nobatch\t\t Display one line per job
\t-hold\t\t\t Show only jobs in the \"on hold\" state and the reason
\t-run\t\t\t Show running jobs
\t-long[:<form>]\t\t Display entire ClassAds in <form> format (see -jobads)
\t-json\t\t\t Display entire ClassAds in JSON format
\t-xml\t\t\t Display entire ClassAds in XML format
\t-attributes X,Y,...\t Show only the attributes X,Y,... with -long, -json or -xml
\t-format <fmt> <attr>\t Print attribute attr using format fmt
\t-af[:jlhVr,tng] <attr> [attr2 [attr3 ...]]\t Print attr(s) with automatic formatting
    [analyze-opts] are
\t-analyze[:<qual>]\t Perform matchmaking analysis on jobs
\t-better-analyze[:<qual>] Perform more detailed match analysis
\t    <qual> is a comma separated list of one or more of
\t    summary\tShow a one-line summary for each job or machine
\t    reverse\tAnalyze machines rather than jobs
\t    noprune\tShow all sub-expressions, also the pruned ones
\t    ifthenelse\tAnalyze the branches of ifThenElse() calls too
\t    priority\tConsider user priority during analysis
\t-machine <name>\t\t Machine name or slot name for analysis
\t-mconstraint <expr>\t Machine constraint for analysis
\t-slotads <file>\t\t Use slot ads from <file> for analysis
\t-reverse-analyze\t Analyze Machine requirements against jobs
\t-verbose\t\t Show slot names with the analysis
\t-userprios <file>\t Read user priorities for analysis from <file>
\t-nouserprios\t\t Don't consider user priority during analysis (default)
"""


class Options:
    """Parsed command line."""

    def __init__(self):
        self.name: Optional[str] = None
        self.pool: Optional[str] = None
        self.allusers = False
        self.view = "batch"          # batch | nobatch | hold | run
        self.style = "table"         # table | long | json | custom
        self.totals = False
        self.limit = -1
        self.userlog: Optional[str] = None
        self.constraints: list[str] = []
        self.ids: list[tuple[int, int]] = []
        self.owners: list[str] = []
        self.attributes: list[str] = []
        self.custom = PrintMask()
        self.custom_exprs: list[str] = []
        self.global_ = False
        self.analysis = AnalysisOptions()
        self.jobads: Optional[str] = None      # -jobads FILE ("-": stdin)
        self.jobads_fmt = "auto"               # -jobads:FORM
        self.dag = False                       # -dag: node jobs under their DAGMan job
        self.time_rule = TimeRule()            # -cputime, -currentrun, -cumulative-time
        self.runtime_set = False
        self.unmatchable = False               # -unmatchable: only jobs no slot matches
        self.batch_specified = False           # -batch or -nobatch was given


def parse_args(argv: list[str]) -> Options:
    """Parse condor_q's arguments (queue.cpp ``processCommandLineArguments``).  Raises
    UsageError with HTCondor's message for bad ones."""
    o = Options()
    i = 0

    def need(n, what, message=None):
        if i + n >= len(argv):
            raise UsageError(message or f"Error: {argv[i]} requires {what}")
        return argv[i + 1:i + 1 + n]

    while i < len(argv):
        a = argv[i]
        if not a.startswith("-"):
            jid = _job_id(a)
            if jid is not None:
                o.ids.append(jid)
            else:
                o.owners.append(a)
        elif is_dash_arg_prefix(a, "help", 1):
            sys.stdout.write(USAGE)
            raise SystemExit(0)
        elif is_dash_arg_prefix(a, "name", 1):
            o.name = need(1, "", "Error: -name requires the name of a schedd as an argument.")[0]
            i += 1
        elif is_dash_arg_prefix(a, "pool", 1):
            o.pool = need(1, "", "Error: -pool requires a hostname as an argument.")[0]
            i += 1
        elif is_dash_arg_prefix(a, "global", 1):
            o.global_ = True
        elif is_dash_arg_colon_prefix(a, "wide", 1)[0]:
            pass  # pyhtc never truncates columns
        elif is_dash_arg_prefix(a, "allusers", 2) or is_dash_arg_prefix(a, "all-users", 2):
            o.allusers = True
        elif is_dash_arg_prefix(a, "constraint", 1):
            expr = need(1, "", "Error: -constraint requires another parameter")[0]
            try:
                parse_constraint(expr)
            except Exception:
                raise UsageError(f"Error: Invalid constraint expression: {expr}") from None
            o.constraints.append(expr)
            i += 1
        elif is_dash_arg_prefix(a, "limit", 3):
            val = need(1, "", "Error: -limit requires the max number of results as an argument.")[0]
            try:
                o.limit = int(val)
            except ValueError:
                raise UsageError(f"Error: Unable to convert ({val}) to a number for -limit.") from None
            if o.limit <= 0:
                raise UsageError(f"Error: {o.limit} is not a valid for -limit.")
            i += 1
        elif is_dash_arg_prefix(a, "userlog", 1):
            o.userlog = need(1, "", "Error: -userlog requires a filename")[0]
            i += 1
        elif is_dash_arg_colon_prefix(a, "jobads", 1)[0]:
            o.jobads = need(1, "", "Error: -jobads requires a filename")[0]
            o.jobads_fmt = parse_ads_format(is_dash_arg_colon_prefix(a, "jobads", 1)[1], o.jobads_fmt)
            i += 1
        elif is_dash_arg_prefix(a, "dag", 2):
            o.dag = True
        elif is_dash_arg_prefix(a, "cputime", 2):
            o.time_rule.cputime = True
        elif is_dash_arg_prefix(a, "currentrun", 3):
            if o.runtime_set:
                raise UsageError("Error: -currentrun can't be used with -cumulative-time")
            o.time_rule.current_run = o.runtime_set = True
        elif is_dash_arg_prefix(a, "cumulative-time", 3):
            if o.runtime_set:
                raise UsageError("Error: -cumulative-time can't be used with -currentrun")
            o.time_rule.current_run, o.runtime_set = False, True
        elif is_dash_arg_prefix(a, "io", 2):
            o.view = "io"
        elif is_dash_arg_prefix(a, "idle", 3):
            if o.view in ("run", "hold"):
                sys.stdout.write(USAGE)
                raise UsageError("-run and -hold/held or -idle are incompatible")
            o.view = "idle"
        elif is_dash_arg_colon_prefix(a, "unmatchable", 5)[0]:
            o.unmatchable = True
        elif is_dash_arg_prefix(a, "nobatch", 3):
            o.view = "nobatch" if o.view == "batch" else o.view
            o.batch_specified = True
        elif is_dash_arg_colon_prefix(a, "batch", 2)[0] or is_dash_arg_colon_prefix(a, "progress", 3)[0]:
            o.view = "batch"
            o.batch_specified = True
        elif is_dash_arg_colon_prefix(a, "hold", 2)[0] or is_dash_arg_colon_prefix(a, "held", 2)[0]:
            if o.view in ("run", "idle"):
                sys.stdout.write(USAGE)
                raise UsageError("-run and -hold/held or -idle are incompatible")
            o.view = "hold"
        elif is_dash_arg_prefix(a, "run", 1) or is_dash_arg_prefix(a, "running", 3):
            if o.view in ("hold", "idle"):
                sys.stdout.write(USAGE)
                raise UsageError("-run and -hold/held or -idle are incompatible")
            o.view = "run"
        elif is_dash_arg_prefix(a, "totals", 3):
            o.totals = True
        elif is_dash_arg_colon_prefix(a, "long", 1)[0]:
            # -long[:FORM,...] (queue.cpp: parseAdsFileFormat; "nosort" is accepted)
            o.style = "long"
            for form in (is_dash_arg_colon_prefix(a, "long", 1)[1] or "").split(","):
                if form in ("long", "json", "jsonl", "xml", "new", "newl"):
                    o.style = form
        elif is_dash_arg_prefix(a, "json", 2) or is_dash_arg_prefix(a, "xml", 3):
            want = "json" if is_dash_arg_prefix(a, "json", 2) else "xml"
            if o.style in ("json", "xml") and o.style != want:
                raise UsageError("Error: Cannot print as both XML and JSON")
            o.style = want
        elif is_dash_arg_prefix(a, "attributes", 2):
            o.attributes += [s.strip() for s in need(1, "", "Error: -attributes requires a list of "
                                                     "attributes to show")[0].split(",") if s.strip()]
            i += 1
        elif is_dash_arg_prefix(a, "format", 1):
            fmt, expr = need(2, "", "Error: -format requires format and attribute parameters")
            try:
                parse_constraint(expr)
            except Exception:
                raise UsageError(f"Error: invalid expression: {expr}") from None
            o.style = "custom"
            o.custom.add(Column(expr=expr, printf=fmt))
            o.custom_exprs.append(expr)
            i += 2
        elif is_dash_arg_colon_prefix(a, "autoformat", 5)[0] or is_dash_arg_colon_prefix(a, "af", 2)[0]:
            opts = a.split(":", 1)[1] if ":" in a else ""
            exprs = []
            while i + 1 < len(argv) and not argv[i + 1].startswith("-"):
                i += 1
                exprs.append(argv[i])
            if not exprs:
                raise UsageError("Error: -autoformat requires at least one attribute parameter")
            if "j" in opts and not o.custom.columns:
                # -af:j (ad_printmask.cpp parse_autoformat_args): the job id first, as JOB_ID
                # renders it; the separators are set by autoformat_mask below
                heads = "h" in opts
                o.custom.add(Column(expr='strcat(ClusterId, ".", ProcId)',
                                    printf="ID = %v" if "l" in opts else "%v", left=True,
                                    auto=heads, width=3 if heads else 0,
                                    heading=" ID" if heads else None, role="jobid"))
            try:
                autoformat_mask(exprs, opts, o.custom)
            except ValueError as exc:
                raise UsageError(f"Error: {exc}") from None
            o.style = "custom"
            o.custom_exprs += exprs
        elif (used := o.analysis.take(argv, i)) >= 0:
            i += used
        else:
            sys.stdout.write(USAGE)   # queue.cpp prints the usage after the error
            raise UsageError(f"Error: unrecognized argument {a}")
        i += 1
    # queue.cpp: -unmatchable is a query filter that does not go with -batch
    if o.unmatchable and not o.analysis.enabled and o.batch_specified and o.view == "batch":
        raise UsageError("Error: -batch conflicts with -unmatchable")
    if o.batch_specified and o.view == "batch" and o.style == "custom":
        raise UsageError("Error: -batch conflicts with -format and -af")
    if o.view == "batch" and not o.batch_specified and o.unmatchable:
        o.view = "nobatch"
    return o


def _job_id(text: str) -> Optional[tuple[int, int]]:
    """``cluster`` -> (c, -1); ``cluster.proc`` -> (c, p); else None (an owner)."""
    head, dot, tail = text.partition(".")
    if head.isdigit() and (not dot or tail.isdigit()):
        return int(head), int(tail) if dot else -1
    return None


def build_constraint(o: Options) -> Optional[str]:
    """The query constraint: ids and owners OR'd, AND'd with -constraint and the view's
    status filter (queue.cpp with CondorQ ``addOR``/``addAND``).  With -dag or the batch
    view a cluster id also selects the jobs of that DAG (``DAGManJobId``) and batch
    (``JobBatchId``); -io adds jobIO_PrintFormat's WHERE (jobs moving files)."""
    ors = []
    for c, p in o.ids:
        ors.append(f"ClusterId == {c}" if p < 0 else f"(ClusterId == {c} && ProcId == {p})")
        if (o.dag or o.view == "batch" and o.style == "table") and p < 1:
            ors.append(f"DAGManJobId == {c}")
            ors.append(f'int(split(JobBatchId, ".")[0]) == {c}')
    for owner in o.owners:
        ors.append(f'Owner == "{owner}"')
    ands = []
    if ors:
        ands.append(" || ".join(ors) if len(ors) == 1 else "(" + " || ".join(ors) + ")")
    ands += [f"({c})" if len(o.constraints) + len(ands) > 0 else c for c in o.constraints]
    if o.view == "hold":
        ands.append("JobStatus == 5")
    elif o.view == "run":   # RUNNING, TRANSFERRING_OUTPUT, SUSPENDED
        ands.append("JobStatus == 2 || JobStatus == 6 || JobStatus == 7")
    elif o.view == "io":
        ands.append(IO_CONSTRAINT)
    elif o.view == "idle":
        ands.append("JobStatus == 1")
    if not ands:
        return None
    return ands[0] if len(ands) == 1 else " && ".join(a if a.startswith("(") else f"({a})" for a in ands)


# --------------------------------------------------------------------------- renderers

def qdate(t) -> str:
    """QDATE: ``M/DD HH:MM`` in local time, day left-justified in 2 (format_date)."""
    if not isinstance(t, (int, float)) or isinstance(t, bool):
        return ""
    lt = time.localtime(int(t))
    return "%d/%-2d %02d:%02d" % (lt.tm_mon, lt.tm_mday, lt.tm_hour, lt.tm_min)


def duration(secs) -> str:
    """``D+HH:MM:SS`` (format_time)."""
    secs = max(0, int(secs))
    d, r = divmod(secs, 86400)
    h, r = divmod(r, 3600)
    m, s = divmod(r, 60)
    return "%d+%02d:%02d:%02d" % (d, h, m, s)


def _num(ad, name, default=None):
    v = ad.get(name)
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return default
    return v


def job_description(ad) -> str:
    """CMD (render_job_description): executable base name and arguments."""
    cmd = ad.get("Cmd")
    cmd = os.path.basename(cmd) if isinstance(cmd, str) else ""
    args = ad.get("Args")
    if not isinstance(args, str):
        args = ad.get("Arguments") if isinstance(ad.get("Arguments"), str) else ""
    return f"{cmd} {args}" if args else cmd


def _sorted(ads):
    return sorted(ads, key=lambda a: (_num(a, "ClusterId", 0), _num(a, "ProcId", -1)))


def _idcol(ad) -> str:
    return "%4d." % (_num(ad, "ClusterId", 0)) + "%-3d" % (_num(ad, "ProcId", 0))


def run_view(ads, rule: Optional[TimeRule] = None) -> list[str]:
    """``-run`` (jobRuntime_PrintFormat); ``rule``: -cputime/-currentrun (CPU_TIME heading
    with -cputime; ``[??????????]`` for a job without RemoteUserCpu)."""
    rule = rule or TimeRule()
    title = "    CPU_TIME" if rule.cputime else "    RUN_TIME"
    lines = [" ID  " + "   " + " " + "%-14s" % "OWNER" + " " + "%-11s" % "  SUBMITTED" + " "
             + "%-12s" % title + " HOST(S)\n"]
    for a in _sorted(ads):
        owner = a.get("Owner") if isinstance(a.get("Owner"), str) else "??"
        host = a.get("RemoteHost") if isinstance(a.get("RemoteHost"), str) else "??"
        t = job_time(a, rule)
        lines.append(_idcol(a) + " " + "%-14s" % owner + " " + "%11s" % (qdate(a.get("QDate")) or "??")
                     + " " + ("%12s" % format_duration(t) if t is not None else "[??????????]")
                     + " " + host + "\n")
    return lines


_SUMMARY_FIELDS = ("Completed", "Removed", "Idle", "Running", "Held", "Suspended")


def summary_lines(summary: C.ClassAd) -> str:
    """The totals (queue.cpp standard_summary2/3): ``Total for query``, then ``Total for
    <MyName>`` when the schedd filled the My* counts, then ``Total for all users``."""
    def line(label, prefix):
        vals = [int(_num(summary, prefix + f, 0) or 0) for f in _SUMMARY_FIELDS]
        jobs = int(_num(summary, prefix + "Jobs", 0) or 0)
        return (f"Total for {label}: {jobs} jobs; {vals[0]} completed, {vals[1]} removed, "
                f"{vals[2]} idle, {vals[3]} running, {vals[4]} held, {vals[5]} suspended")
    parts = [line("query", "")]
    my = summary.get("MyName")
    if isinstance(my, str):
        parts.append(line(my, "My"))
    parts.append(line("all users", "Allusers"))
    return " \n".join(parts) + "\n"


def local_summary(ads) -> C.ClassAd:
    """A summary ad computed from the ads themselves (``-userlog``)."""
    s = C.ClassAd()
    names = {1: "Idle", 2: "Running", 3: "Removed", 4: "Completed", 5: "Held", 7: "Suspended"}
    counts = {v: 0 for v in names.values()}
    for a in ads:
        n = names.get(_num(a, "JobStatus"))
        if n:
            counts[n] += 1
    s["Jobs"] = len(ads)
    for k, v in counts.items():
        s[k] = v
        s["Allusers" + k] = v
    s["AllusersJobs"] = len(ads)
    return s


def render(o: Options, ads: list, summary: Optional[C.ClassAd], title: str) -> str:
    """The text condor_q prints for ``ads`` (job ClassAds)."""
    if o.style == "long":
        return "".join(format_long(a, o.attributes or None) for a in _sorted(ads))
    if o.style in ("jsonl", "new", "newl"):
        return format_ads(o.style, _sorted(ads), o.attributes or None)
    if o.style == "json":
        return format_json(_sorted(ads), o.attributes or None)
    if o.style == "xml":  # header and footer even with no ads (queue.cpp always_write_xml_footer)
        return format_xml_ads(_sorted_attrs(a, o.attributes or None) for a in _sorted(ads))
    if o.style == "custom":
        pm = o.custom
        rows = [pm.render(a) for a in _sorted(ads)]
        out = [pm.headings()] if pm.has_headings and rows else []
        return "".join(out + [pm.display(r) for r in rows])
    out = ["\n\n-- " + title + "\n"]
    if o.totals:
        return out[0] + (summary_lines(summary) if summary is not None else "")
    # queue.cpp initOutputMask: -dag picks the DAG table over -run and -idle (which keep
    # their constraint), -hold and -io keep theirs
    view = "dag" if o.dag and o.view in ("nobatch", "run", "idle") else o.view
    if view == "dag":
        out += dag_lines(ads, o.time_rule)
    elif view == "nobatch":
        out += nobatch_lines(ads, o.time_rule)
    elif view == "io":
        out += io_lines(ads, o.dag)
    elif view == "hold":
        out += hold_lines(ads, o.dag)
    elif view == "idle":
        out += idle_lines(ads)
    elif view == "batch":
        # queue.cpp querying_partial_clusters: DONE cannot be known when jobs may be missing
        partial = bool(o.constraints) or any(p >= 0 for _c, p in o.ids)  # (-run/-hold/-idle: not batch)
        out += batch_lines(ads, o.dag, partial, o.global_)
    else:
        lines = run_view(ads, o.time_rule)
        # queue.cpp print_a_result: rows lose their trailing blanks when not on a terminal
        out += lines[:1] + [ln.rstrip() + "\n" for ln in lines[1:]]
    if view not in ("run", "idle") and summary is not None:  # SUMMARY NONE
        out.append("\n" + summary_lines(summary) + "\n")
    return "".join(out)


def _title(name: str, addr: str, when: Optional[int]) -> str:
    if "?" in addr:  # summarize_sinful_for_display
        addr = addr[:addr.index("?")] + "?..."
    stamp = time.strftime(" @ %m/%d/%y %H:%M:%S", time.localtime(when or time.time()))
    return f"Schedd: {name} : {addr}{stamp}"


def config_errors_exit(fn):
    """Decorator for tool entry points: a missing or broken configuration prints
    ``Error: <reason>`` and exits 1 (as the HTCondor tools do) instead of a traceback."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args, **kw):
        try:
            return fn(*args, **kw)
        except ConfigError as exc:
            sys.stderr.write(f"Error: {exc}\n")
            return 1
    return wrapper


@config_errors_exit
def main(argv: Optional[list[str]] = None) -> int:
    """Entry point; returns the exit status."""
    argv = sys.argv[1:] if argv is None else argv
    try:
        o = parse_args(argv)
    except UsageError as exc:
        sys.stderr.write(f"{exc}\n")
        return 1
    constraint = build_constraint(o)
    # a file of job ads or a job log needs no configuration unless slots are to be fetched
    from_file = bool(o.userlog or o.jobads)
    slots_from_collector = (o.analysis.enabled or o.unmatchable) and o.analysis.slotads is None
    cfg = get_config() if not from_file or slots_from_collector or o.analysis.with_userprio else None
    projection = list(o.attributes) if o.style in ("long", "json", "xml") and o.attributes else []
    if o.style == "custom":
        projection = custom_projection(o.custom)
    if o.analysis.enabled or o.unmatchable:
        # -analyze / -unmatchable: whole job ads, and the slot ads to match them with
        projection = []
        error = setup_slots(o.analysis, o.pool, cfg)
        if error:
            sys.stderr.write(error)
            return 1
    if o.userlog or o.jobads:
        return _show_file(o, constraint)
    try:
        if o.global_:
            schedds = [(a.get("MyAddress"), a.get("Name")) for a in
                       CollectorClient(o.pool, cfg).query("Schedd", o.name and f'Name == "{o.name}"')]
        elif o.name or o.pool:
            ad = CollectorClient(o.pool, cfg).locate("schedd", o.name)
            schedds = [(ad.get("MyAddress"), ad.get("Name") or o.name)]
        else:
            schedds = [(locate_daemon("schedd", config=cfg),
                        cfg.param("SCHEDD_NAME") or _local_schedd_name(cfg))]
    except (DaemonNotFound, OSError) as exc:
        sys.stderr.write(f"Error: Can't find address of schedd{' ' + o.name if o.name else ''}\n"
                         f"{exc}\n")
        return 1
    only_mine = (not o.allusers and not o.ids and not o.owners
                 and cfg.param_boolean("CONDOR_Q_ONLY_MY_JOBS", True))
    opts = 4 if only_mine else 0
    if o.totals and o.style == "table":
        opts |= 8
    status = 0
    for addr, name in schedds:
        if not addr:
            continue
        status |= _show_schedd(o, addr, name, constraint, projection, opts)
    return status


def _show_file(o: Options, constraint: Optional[str]) -> int:
    """``-jobads FILE`` / ``-userlog FILE`` (queue.cpp ``show_file_queue``): the jobs come
    from a file of job ads (any :mod:`pyhtc.tools.ads_file` format; a ``-- Schedd:`` banner
    in it names the schedd for -analyze) or are rebuilt from a job event log; the
    constraint is applied here and the totals are counted from the jobs shown.  The title
    is ``-- Jobads: FILE @ time`` (``Userlog:``), the time being the first job's
    ``ServerTime`` when it has one.  Returns the exit status."""
    label = ""
    if o.jobads:
        try:
            got = read_ads_file(o.jobads, o.jobads_fmt, queue_banners=True)
        except OSError:
            sys.stderr.write(f"Can't open file of ClassAds: {o.jobads}\n")
            return 1
        except AdsFileError as exc:
            sys.stderr.write(f"Error: {exc}\n")
            return 1
        ads = got.ads
        label = f"Jobads: {o.jobads}"
        if o.analysis.enabled and got.schedd_name:
            kind = "Submitter" if got.is_submitter else "Schedd"
            label = f"{kind}: {got.schedd_name} : {got.schedd_addr}"
    else:
        try:
            from pyhtc.userlog import job_ads_from_log
            ads = [C.ClassAd(d) for d in job_ads_from_log(o.userlog)]
        except OSError:
            sys.stderr.write(f"\nCan't open user log: {o.userlog}\n")
            return 1
        label = f"Userlog: {o.userlog}"
    if constraint:
        ads = [a for a in ads if _matches(a, constraint)]
    if o.unmatchable and not o.analysis.enabled:
        ads = unmatchable_jobs(ads, o.analysis)
    if o.limit >= 0:
        ads = ads[:o.limit]
    if o.analysis.enabled:
        sys.stdout.write(unmatchable_report(ads, o.analysis, label) if o.unmatchable
                         else o.analysis.report(ads, label))
        return 0
    when = next((_num(a, "ServerTime") for a in ads if _num(a, "ServerTime") is not None), None)
    stamp = time.strftime(" @ %m/%d/%y %H:%M:%S", time.localtime(when or time.time()))
    sys.stdout.write(render(o, ads, local_summary(ads), label + stamp)
                     if o.style == "table" else render(o, ads, None, ""))
    return 0


def unmatchable_jobs(ads: list, analysis: AnalysisOptions) -> list:
    """``-unmatchable`` without -analyze (queue.cpp ``AddJobToClassAdCollection``): only the
    jobs that no slot matches both ways (``doJobRunAnalysis`` in p-slot mode finds no
    ``both_match``), against the slots of the collector or ``-slotads``."""
    from pyhtc.tools.analyze import SlotSet, run_analysis
    slots = analysis.slots or SlotSet([])
    return [a for a in ads if run_analysis(a, slots)[0].both_match == 0]


def unmatchable_report(ads: list, analysis: AnalysisOptions, label: str) -> str:
    """``-analyze -unmatchable`` (queue.cpp print_jobs_analysis, anaModeUnmatchable): after
    the ``-- label`` banner, one line per autocluster none of whose slots match both ways:
    ``No slots match`` (or ``All slots reject`` when the job's Requirements accept some slot)
    `` autocluster N, jobs : C.P ...`` listing the autocluster's jobs.  Jobs without an
    AutoClusterId are analysed one by one under autocluster -1; as in HTCondor, such a line
    names the first of those jobs."""
    from pyhtc.tools.analyze import SlotSet, run_analysis
    slots = analysis.slots or SlotSet([])
    groups: dict = {}
    for a in sorted(ads, key=lambda a: (_num(a, "ClusterId", 0), _num(a, "ProcId", 0))):
        acid = a.get("AutoClusterId")
        groups.setdefault(acid if type(acid) is int else -1, []).append(a)
    out = [f"\n\n-- {label}\n"]
    for acid in sorted(groups):
        jobs = groups[acid]
        for job in (jobs if acid == -1 else jobs[:1]):
            ac = run_analysis(job, slots)[0]
            if ac.both_match:
                continue
            text = "All slots reject" if ac.job_matches_slot else "No slots match"
            text += f" autocluster {acid}, jobs :"
            for j in (jobs[:1] if acid == -1 else jobs):
                text += " %d.%d" % (_num(j, "ClusterId", 0), _num(j, "ProcId", 0))
            out.append(text + "\n")
    return "".join(out)


def _show_schedd(o: Options, addr: str, name: str, constraint, projection, opts) -> int:
    """Query one schedd and print its section; returns 0 or 1 (failure, after a message)."""
    client = ScheddClient(addr)
    try:
        blocks, summary = query_job_ads(client, constraint, projection, o.limit, opts, True,
                                        getpass.getuser(), with_auth=True)
    except Exception as exc:  # transport, security and protocol failures
        detail = f"CEDAR:6001:Failed to connect to {addr}" if isinstance(exc, ConnectionRefusedError) else str(exc)
        sys.stderr.write(f"\n-- Failed to fetch ads from: {addr} : {name}\n{detail}\n")
        return 1
    sad = to_classad(summary)
    if o.style == "custom" and not o.unmatchable:
        text = fast_custom_blocks(o.custom, blocks)
        if text is not None:
            sys.stdout.write(text)
            return 0
    ads = [fast_classad(w) for w in blocks.ads()]
    when = _num(sad, "ServerTime") if sad is not None else None
    if when is None and ads:
        when = _num(ads[0], "ServerTime")
    if o.analysis.enabled:
        label = schedd_label(name, addr)
        sys.stdout.write(unmatchable_report(ads, o.analysis, label) if o.unmatchable
                         else o.analysis.report(ads, label, name))
        return 0
    if o.unmatchable:   # queue.cpp: the totals then count the jobs shown
        ads = unmatchable_jobs(ads, o.analysis)
        sad = local_summary(ads)
    sys.stdout.write(render(o, ads, sad, _title(name, addr, when)))
    return 0


def custom_projection(mask: PrintMask) -> list[str]:
    """The projection condor_q asks for with ``-af``/``-format`` (queue.cpp: the attribute
    references of every column expression plus ClusterId and ProcId); ``[]`` (whole ads) when
    a column uses a ``printas`` renderer."""
    return expression_projection(mask, always=("ClusterId", "ProcId"))


@functools.lru_cache(maxsize=65536)
def _expr_of(text: str) -> C.ExprTree:
    """The ExprTree of an old-syntax expression text; cached, since the ads of a large queue
    repeat the same few texts (``1``, ``0``, the cluster's strings).  ExprTrees are immutable,
    so ads may share them."""
    return C.ExprTree(convert_escaping(text))


def fast_classad(wire) -> C.ClassAd:
    """A WireAd as a ClassAd (as :func:`pyhtc.cedar.wire_ad.to_classad`, old-syntax texts),
    through the expression-text cache.  Raises the ClassAd parse error for a bad text."""
    out = C.ClassAd()
    for name, text in wire:
        out[name] = _expr_of(text)
    return out


_LITERAL = re.compile(r'-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?|"[^"\\]*"|(?i:true|false|undefined)')
_CANON_INT = re.compile(r"-?(0|[1-9][0-9]{0,17})")
_CALL = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\s*\(")


def _custom_plans(mask: PrintMask) -> Optional[list]:
    """Per column of ``mask``: (lower-case names it references, a one-column PrintMask,
    the memo of its cells by texts, whether it is a bare attribute whose integer texts are
    the cells -- or, for the job id column of ``-af:j``, ``("jobid", printf)``); None when
    :func:`fast_custom` cannot reproduce the mask."""
    cols = mask.columns
    if mask.has_headings or mask.overall_width or not cols:
        return None
    probe = C.ClassAd()
    plans = []
    for col in cols:
        if col.role == "jobid" and col.printf in ("%v", "ID = %v") and not col.width:
            plans.append(((), None, None, ("jobid", col.printf)))
            continue
        if col.auto or col.printas or _CALL.search(col.expr) or "currenttime" in col.expr.lower():
            return None
        try:
            refs = probe.externalRefs(C.ExprTree(col.expr))
        except Exception:
            return None
        names = []
        for ref in refs:
            scope, _, attr = ref.rpartition(".")
            if scope.lower() not in ("", "my"):
                return None
            names.append(attr.lower())
        one = PrintMask()
        one.add(col)
        # a bare attribute printed with %v/%V/%r/%d and no width: an integer text is the cell
        bare = (len(names) == 1 and col.expr.lower().removeprefix("my.") == names[0]
                and col.printf in ("%v", "%V", "%r", "%d") and not col.width)
        plans.append((tuple(names), one, {}, bare))
    return plans


def _literal_cell(names, one, memo, key) -> Optional[str]:
    """The cell of a column over ``names`` whose texts are ``key`` (None: absent) when they
    are all literals (remembered in ``memo``), else None."""
    cell = memo.get(key)
    if cell is None and all(t is None or _LITERAL.fullmatch(t) for t in key):
        ad = C.ClassAd()
        for nm, t in zip(names, key):
            if t is not None:
                ad[nm] = _expr_of(t)
        cell = memo[key] = one.display(one.render(ad))
    return cell


def fast_custom(mask: PrintMask, wire_ads) -> Optional[str]:
    """``-af``/``-format`` output of ``wire_ads`` (WireAds) without a ClassAd per job: each
    cell depends only on the attributes its expression references, so a cell is rendered
    once per distinct set of their texts when those texts are literals (a queue of 100,000
    jobs has few distinct ``JobStatus`` values; ids are literals).  Rows are sorted by
    ClusterId, ProcId as :func:`render` does.  Returns None when the mask does anything this
    cannot reproduce (headings, AUTO widths, printas, an overall width, function calls,
    CurrentTime, ids that are not integers): the caller then renders as usual."""
    plans = _custom_plans(mask)
    if plans is None:
        return None
    cols = mask.columns
    rows = []
    for w in wire_ads:
        texts = {n.lower(): e for n, e in w}
        cid, pid = texts.get("clusterid", "0"), texts.get("procid", "-1")
        if not (_CANON_INT.fullmatch(cid) and _CANON_INT.fullmatch(pid)):
            return None
        rows.append((int(cid), int(pid), texts))
    rows.sort(key=lambda r: (r[0], r[1]))
    n = len(cols)
    pre, cpre, csuf = mask.row_prefix or "", mask.col_prefix, mask.col_suffix
    suffix = mask.row_suffix or ""
    out = []
    for _c, _p, texts in rows:
        parts = [pre]
        for i, (names, one, memo, bare) in enumerate(plans):
            if type(bare) is tuple:      # -af:j: cluster.proc
                cell, key = bare[1].replace("%v", "%d.%d" % (_c, _p)), None
            elif bare:
                t = texts.get(names[0])
                if t is not None and _CANON_INT.fullmatch(t):
                    cell = t
                    key = None
                else:
                    key = (t,)
                    cell = memo.get(key)
            else:
                key = tuple(texts.get(nm) for nm in names)
                cell = memo.get(key)
            if cell is None:
                literal = all(t is None or _LITERAL.fullmatch(t) for t in key)
                ad = C.ClassAd()
                for nm, t in (zip(names, key) if literal else texts.items()):
                    if t is not None:
                        ad[nm] = _expr_of(t)
                cell = one.display(one.render(ad))
                if literal:
                    memo[key] = cell
            col = cols[i]
            if cpre and i > 0 and not col.noprefix:
                parts.append(cpre)
            parts.append(cell)
            if csuf and i + 1 < n and not col.nosuffix:
                parts.append(csuf)
        parts.append(suffix)
        out.append("".join(parts))
    return "".join(out)


def fast_custom_blocks(mask: PrintMask, blocks) -> Optional[str]:
    """:func:`fast_custom` of a query's :class:`~pyhtc.client.schedd_query.JobAdBlocks`,
    a column at a time where the ads came as columns (``condor_q -af ClusterId ProcId
    JobStatus`` over 100,000 jobs: each column's distinct texts are rendered once, integer
    ids are their own cells, and the rows are joined with one format); same text as
    :func:`fast_custom`, or None when that declines."""
    plans = _custom_plans(mask)
    if plans is None:
        return None
    if not all(isinstance(b, AdColumns) for b in blocks):
        return fast_custom(mask, blocks.ads())
    cell_cols: list = [[] for _ in plans]
    cids: list = []
    pids: list = []
    for block in blocks:
        by_name = {n.lower(): c for n, c in zip(block.names, block.columns)}
        cid = by_name.get("clusterid", ["0"] * block.n)
        pid = by_name.get("procid", ["-1"] * block.n)
        if not (_all_canon_ints(cid) and _all_canon_ints(pid)):
            return None
        cids.extend(map(int, cid))
        pids.extend(map(int, pid))
        absent = [None] * block.n
        for k, (names, one, memo, bare) in enumerate(plans):
            if type(bare) is tuple:      # -af:j: cluster.proc
                cell_cols[k].extend(bare[1].replace("%v", c + "." + p) for c, p in zip(cid, pid))
                continue
            cells = _block_cells(names, one, memo, bare, [by_name.get(nm, absent) for nm in names])
            if cells is None:  # a text that is not a literal: the general renderer
                return fast_custom(mask, blocks.ads())
            cell_cols[k].extend(cells)
    cols = mask.columns
    n = len(cols)
    cpre, csuf = mask.col_prefix, mask.col_suffix
    fmt = [mask.row_prefix or ""]
    for i, col in enumerate(cols):
        if cpre and i > 0 and not col.noprefix:
            fmt.append(cpre)
        fmt.append("\0")
        if csuf and i + 1 < n and not col.nosuffix:
            fmt.append(csuf)
    fmt.append(mask.row_suffix or "")
    fmt = "".join(fmt).replace("%", "%%").replace("\0", "%s")
    lines = list(map(fmt.__mod__, zip(*cell_cols)))
    keys = list(zip(cids, pids))
    if any(map(operator.gt, keys, keys[1:])):  # rows sorted by ClusterId, ProcId (stable)
        order = sorted(range(len(keys)), key=keys.__getitem__)
        lines = [lines[i] for i in order]
    return "".join(lines)


_CANON_INT_LINES = re.compile(r"(?:-?(?:0|[1-9][0-9]{0,17})\n)*")


def _all_canon_ints(texts: list) -> bool:
    """Whether every text of ``texts`` (None: absent) is a canonical integer (one regular
    expression pass over them all, not one per text)."""
    if None in texts:
        return False
    joined = "\n".join(texts) + "\n"
    return joined.count("\n") == len(texts) and _CANON_INT_LINES.fullmatch(joined) is not None


def _block_cells(names, one, memo, bare, texts) -> Optional[list]:
    """The cells of one column for a block whose texts of ``names`` are the lists
    ``texts`` (None where absent); None if some text is not a literal."""
    if bare:
        col = texts[0]
        if _all_canon_ints(col):
            return col
        keys = [(t,) for t in col]
    else:
        keys = list(zip(*texts))
    cellmap = {}
    for key in set(keys):
        if bare and key[0] is not None and _CANON_INT.fullmatch(key[0]):
            cellmap[key] = key[0]
            continue
        cell = _literal_cell(names, one, memo, key)
        if cell is None:
            return None
        cellmap[key] = cell
    return list(map(cellmap.__getitem__, keys))


def _matches(ad: C.ClassAd, constraint: str) -> bool:
    from pyhtc.tools.common import eval_text
    try:
        return eval_text(constraint, ad) is True
    except Exception:
        return False


def _local_schedd_name(cfg) -> str:
    """The local schedd's name: SCHEDD_NAME, else the full host name (``Name`` of its ad)."""
    import socket
    return cfg.param("FULL_HOSTNAME") or socket.getfqdn()


if __name__ == "__main__":
    sys.exit(main())
