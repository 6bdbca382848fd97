"""The tables of ``condor_q`` other than -af/-format/-long (src/condor_q.V6/queue.cpp print
formats ``jobDefault_PrintFormat`` (-nobatch), ``jobDAG_PrintFormat`` (-dag),
``jobHold_PrintFormat`` (-hold), ``jobIO_PrintFormat`` (-io), ``jobIdle_PrintFormat``
(-idle) and ``jobProgress_PrintFormat`` (the default batch view, ``reduce_results``), and
the renderers they use, with the ``-cputime`` / ``-currentrun`` / ``-cumulative-time``
time rules and the ``-dag`` node tree.

Layout rules (ad_printmask.cpp ``display``, queue.cpp ``fixup_std_column_widths``): headings
are left-justified in their column width; cells are padded to the width (left or right as
the format says) and never cut; the ID columns widen to the largest cluster and proc id
(``%4d.`` becomes ``%5d.`` for a 5-digit cluster) and SIZE to the largest memory figure
once some id or name outgrows the standard widths; trailing blanks of a row are trimmed,
as condor_q does when it is not writing to a terminal.
"""
from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from typing import Callable, Optional

from pyhtc import classad as C
from pyhtc.classad.nodes import Literal
from pyhtc.tools.common import eval_text, metric_units

#: JobStatus -> the ST letter (src/condor_utils/proc.cpp encode_status)
STATUS_CHAR = {1: "I", 2: "R", 3: "X", 4: "C", 5: "H", 6: ">", 7: "S"}

#: IDLE, RUNNING, HELD, TRANSFERRING_OUTPUT, SUSPENDED, BLOCKED (condor_includes/proc.h)
_IDLE, _RUNNING, _HELD, _XFER_OUT, _SUSPENDED, _BLOCKED = 1, 2, 5, 6, 7, 8

#: -io: only jobs moving files (queue.cpp jobIO_PrintFormat WHERE)
IO_CONSTRAINT = ("JobUniverse==1 || TransferQueued=?=true || TransferringOutput=?=true "
                 "|| TransferringInput=?=true")


def _get(ad, name):
    """The value of attribute ``name`` of ``ad``, evaluated when it is an expression (as
    HTCondor's ``LookupInteger``/``LookupString`` do: ``MemoryUsage`` is usually one);
    None when the ad has no such attribute."""
    attrs = getattr(ad, "_attrs", None)
    if attrs is not None:       # a pyhtc ClassAd: read literals straight from the node
        ent = attrs.get(name.lower())
        if ent is None:
            return None
        node = ent[1]
        if type(node) is Literal:
            v = node.value
            t = type(v)
            if t is int or t is float or t is str or t is bool:
                return v
    v = ad.get(name)
    if isinstance(v, C.ExprTree):
        try:
            v = ad.eval(name)
        except Exception:
            return None
    return v


def _num(ad, name, default=None):
    v = _get(ad, name)
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return default
    return v


@dataclass
class TimeRule:
    """Which time the RUN_TIME column shows (queue.cpp ``job_time``): ``cputime``
    (``-cputime``: RemoteUserCpu, heading CPU_TIME) or wall clock, accumulated over all
    runs unless ``current_run`` (``-currentrun``)."""
    cputime: bool = False
    current_run: bool = False


def job_time(ad, rule: TimeRule) -> Optional[float]:
    """The CPU_TIME renderer (queue.cpp ``local_render_cpu_time``/``job_time``) in seconds,
    or None when the job has no ``RemoteUserCpu``.  Wall clock: ``RemoteWallClockTime``
    (not with -currentrun) plus, for a running/transferring/suspended job with a shadow,
    ``ServerTime - ShadowBday``; with -currentrun an idle, held or blocked job shows its
    ``LastRemoteWallClockTime``."""
    cpu = _num(ad, "RemoteUserCpu")
    if cpu is None:
        return None
    if rule.cputime:
        return float(cpu)
    status = _num(ad, "JobStatus", 0)
    now = _num(ad, "ServerTime", 0) or 0
    bday = _num(ad, "ShadowBday", 0) or 0
    total = 0.0 if rule.current_run else float(_num(ad, "RemoteWallClockTime", 0.0) or 0.0)
    if status in (_RUNNING, _XFER_OUT, _SUSPENDED) and bday:
        total += now - bday
    elif status in (_IDLE, _HELD, _BLOCKED) and rule.current_run:
        total = float(_num(ad, "LastRemoteWallClockTime", 0.0) or 0.0)
    return total


def format_duration(secs) -> str:
    """``%T``: ``ddd+hh:mm:ss`` with the day count right-aligned in 3 (format_time.cpp)."""
    secs = int(secs)
    neg = secs < 0
    secs = abs(secs)
    d, r = divmod(secs, 86400)
    h, r = divmod(r, 3600)
    m, s = divmod(r, 60)
    return "%3d+%02d:%02d:%02d" % (-d if neg else d, h, m, s)


def status_cell(ad) -> Optional[str]:
    """ST (queue.cpp ``local_render_job_status_char``): the status letter and a blank;
    ``<`` (``<q`` queued) while input is transferred, `` >`` (``q>``) for output, a ``c``
    second character while ``JobCoolDownExpiration`` is in the future.  None without a
    JobStatus."""
    st = _num(ad, "JobStatus")
    if st is None:
        return None
    cell = [STATUS_CHAR.get(int(st), " "), " "]
    queued = _get(ad, "TransferQueued") is True
    if _get(ad, "TransferringInput") is True:
        cell = ["<", "q" if queued else " "]
    if _get(ad, "TransferringOutput") is True or st == _XFER_OUT:
        cell = ["q" if queued else " ", ">"]
    cool = _num(ad, "JobCoolDownExpiration", 0) or 0
    if cool > time.time():
        cell[1] = "c"
    return "".join(cell)


def qdate_cell(t) -> Optional[str]:
    """QDATE (``%Y`` via format_real_date): ``M/DD HH:MM`` local time."""
    if isinstance(t, bool) or not isinstance(t, (int, float)):
        return None
    lt = time.localtime(int(t))
    return "%d/%-2d %02d:%02d" % (lt.tm_mon, lt.tm_mday, lt.tm_hour, lt.tm_min)


def memory_mb(ad) -> Optional[float]:
    """MEMORY_USAGE: ``MemoryUsage`` MB, else ``ImageSize`` KB / 1024, else None."""
    mu = _get(ad, "MemoryUsage")
    if type(mu) is int:
        return float(mu)
    size = _get(ad, "ImageSize")
    if type(size) is int:
        return size / 1024.0
    return None


def job_description(ad) -> str:
    """CMD (render_job_description): ``JobDescription`` if set, else the executable's base
    name and its arguments."""
    desc = ad.get("JobDescription")
    if isinstance(desc, str) and desc:
        return desc
    cmd = ad.get("Cmd")
    cmd = os.path.basename(cmd) if isinstance(cmd, str) else ""
    args = ad.get("Args")
    if not isinstance(args, str):
        args = ad.get("Arguments") if isinstance(ad.get("Arguments"), str) else ""
    return f"{cmd} {args}" if args else cmd


def dagman_cluster(ad) -> int:
    """The DAGMan job's cluster of a node job (queue.cpp ``lookup_dagman_job_id``: an
    integer ``DAGManJobId``, or an old string ``"201.0"``); -1 when it has none."""
    v = ad.get("DAGManJobId")
    if type(v) is int:
        return v
    if isinstance(v, str):
        head = v.split(".")[0].strip()
        return int(head) if head.isdigit() else -1
    return -1


# --------------------------------------------------------------------------- table engine

@dataclass
class Col:
    """One column: ``heading``; ``width`` (0: as wide as the text); ``left`` alignment;
    ``cell(ad) -> text or None`` (None: the ``alt`` text); ``nosuffix``/``noprefix``: no
    separating blank after/before it."""
    heading: str
    width: int
    left: bool
    cell: Callable
    alt: str = ""
    nosuffix: bool = False
    noprefix: bool = False


def _alt_wide(width: int) -> str:
    # ad_printmask.cpp append_alt for 'OR ??': '[???...]' filling the width
    return "[" + "?" * (width - 2) + "]" if width >= 3 else "?"


def id_columns(cw: int = 4, pw: int = 3) -> list[Col]:
    """`` ID`` ``%4d.`` + ``%-3d`` (widths ``cw``+1 and ``pw`` after fix-up)."""
    return [Col(" ID", cw + 1, False, lambda a: "%*d." % (cw, _num(a, "ClusterId", 0)), nosuffix=True),
            Col(" ", pw, True, lambda a: "%-*d" % (pw, _num(a, "ProcId", 0)), noprefix=True)]


def render_rows(cols: list[Col], rows: list) -> list[str]:
    """The heading line and one line per ad of ``rows`` (a list of (ad, overrides) where
    overrides maps a column index to its text)."""
    def line(texts):
        out = []
        for i, (col, text) in enumerate(zip(cols, texts)):
            if i and not col.noprefix and not cols[i - 1].nosuffix:
                out.append(" ")
            if col.width and len(text) < col.width:
                text = text.ljust(col.width) if col.left else text.rjust(col.width)
            out.append(text)
        return "".join(out)

    head = []
    for i, col in enumerate(cols):
        if i and not col.noprefix and not cols[i - 1].nosuffix:
            head.append(" ")
        head.append(col.heading.ljust(col.width) if col.width else col.heading)
    lines = ["".join(head) + "\n"]
    for ad, over in rows:
        texts = []
        for i, col in enumerate(cols):
            if i in over:
                texts.append(over[i])
                continue
            t = col.cell(ad)
            texts.append(col.alt if t is None else t)
        lines.append(line(texts).rstrip() + "\n")
    return lines


def _sorted(ads):
    return sorted(ads, key=lambda a: (_num(a, "ClusterId", 0), _num(a, "ProcId", -1)))


def _widths(ads, longest_name: int):
    """(cluster width, proc width, size width) after queue.cpp fixup_std_column_widths."""
    max_c = max([0] + [int(_num(a, "ClusterId", 0)) for a in ads])
    max_p = max([0] + [int(_num(a, "ProcId", 0)) for a in ads])
    mems = [m for m in (memory_mb(a) for a in ads) if m is not None]
    if max_c < 9999 and max_p < 999 and longest_name <= 14:
        return 4, 3, 4, False
    cw, pw = len(str(max_c)), len(str(max_p))
    cw = cw if 4 < cw <= 9 else 4
    pw = pw if 3 < pw <= 9 else 3
    sw = max(4, len("%.1f" % max(mems))) if mems else 4
    return cw, pw, sw, True


def _owner(ad) -> Optional[str]:
    v = ad.get("Owner")
    return v if isinstance(v, str) else None


def _time_col(rule: TimeRule) -> Col:
    def cell(a):
        t = job_time(a, rule)
        return None if t is None else format_duration(t)
    return Col("    CPU_TIME" if rule.cputime else "    RUN_TIME", 12, False, cell)


def _std_tail(ads, rule: TimeRule, size_w: int) -> list[Col]:
    pri_w = max([3] + [len(str(_num(a, "JobPrio"))) for a in ads if _num(a, "JobPrio") is not None])

    def pri(a):
        v = a.get("JobPrio")
        return None if v is None else str(v) if type(v) is int else None

    def size(a):
        m = memory_mb(a)
        return None if m is None else "%.1f" % m
    return [Col("  SUBMITTED", 11, False, lambda a: qdate_cell(a.get("QDate"))),
            _time_col(rule),
            Col("ST", 2, True, status_cell),
            Col("PRI", pri_w, True, pri),
            Col("SIZE", size_w, False, size),
            Col("CMD", 0, True, job_description)]


def nobatch_lines(ads, rule: TimeRule) -> list[str]:
    """``-nobatch`` (jobDefault_PrintFormat): ID OWNER SUBMITTED RUN_TIME ST PRI SIZE CMD."""
    ads = _sorted(ads)
    longest = max([0] + [len(_owner(a) or "") for a in ads])
    cw, pw, sw, _ = _widths(ads, longest)
    cols = id_columns(cw, pw) + [Col("OWNER", 14, True, _owner, _alt_wide(14))] + _std_tail(ads, rule, sw)
    return render_rows(cols, [(a, {}) for a in ads])


def _dag_tree(ads):
    """queue.cpp ``linkup_nodes_by_id`` for -dag: ``(ids, by_id, generation, order)`` --
    the job ids in order, the ads by id, each node job's depth under the DAGMan jobs present
    (the first job is never a child), and the print order of ``print_results`` (each job
    followed by its nodes, recursively; procs after the first of a node cluster stay in id
    order)."""
    ads = _sorted(ads)
    ids = [(int(_num(a, "ClusterId", 0)), int(_num(a, "ProcId", 0))) for a in ads]
    by_id = dict(zip(ids, ads))
    gen = dict.fromkeys(ids, 0)
    children: dict = {}
    for k in range(1, len(ids)):
        jid, prev = ids[k], ids[k - 1]
        dag = dagman_cluster(by_id[jid])
        parent = (dag, 0)
        if dag > 0 and parent in by_id:
            gen[jid] = gen[parent] + 1
            if parent not in children:
                children[parent] = [jid]
            elif jid[0] != prev[0]:
                children[parent].append(jid)
    order: list = []
    printed: set = set()

    def emit(jid):
        order.append(jid)
        printed.add(jid)
        for child in children.get(jid, []):
            emit(child)
    for jid in ids:
        if jid not in printed:
            emit(jid)
    return ids, by_id, gen, order


def _node_name(name: Optional[str], depth: int, col_width: int) -> Optional[str]:
    """queue.cpp ``format_name_column_for_dag_nodes``: ``|-`` after one blank per level,
    the name cut so that the whole fits ``col_width``."""
    if name is None:
        return None
    prefix = " " * depth + "|-"
    return prefix + name[:max(0, col_width - len(prefix))]


def _tree_rows(ads, name_of, col_width: int, name_col: int = 2) -> list:
    """(ad, overrides) rows in -dag order, node jobs' column ``name_col`` (the text
    ``name_of(ad)``, when it has one) indented under their DAGMan job."""
    _ids, by_id, gen, order = _dag_tree(ads)
    rows = []
    for jid in order:
        ad = by_id[jid]
        name = name_of(ad) if dagman_cluster(ad) > 0 else None
        rows.append((ad, {name_col: _node_name(name, gen[jid], col_width)} if name is not None else {}))
    return rows


def dag_lines(ads, rule: TimeRule, warn=sys.stderr) -> list[str]:
    """``-dag -nobatch`` (jobDAG_PrintFormat): as -nobatch with an ``OWNER/NODENAME`` column
    17 wide; node jobs (with a ``DAGManJobId``) show ``|-NODE`` indented by their depth and
    are listed under their DAGMan job (queue.cpp ``linkup_nodes_by_id``,
    ``format_name_column_for_dag_nodes``, ``print_results``).  The name is cut to fit the
    column (14 wide, 17 once ids or names outgrow the standard widths)."""
    ads = _sorted(ads)
    names: dict = {}
    longest = 0
    for a in ads:
        name = None
        if a.get("DAGManJobId") is not None:     # render_dag_owner
            node = a.get("DAGNodeName")
            if isinstance(node, str):
                name = node
                longest = max(longest, len(node) + 3)
            else:
                warn.write("DAG node job with no DAGNodeName attribute!\n")
        if name is None:
            name = _owner(a)
            longest = max(longest, len(name or ""))
        names[id(a)] = name
    _ids, _by_id, gen, _order = _dag_tree(ads)
    for a in ads:   # nested DAGs: the deeper names count too
        depth = gen[(int(_num(a, "ClusterId", 0)), int(_num(a, "ProcId", 0)))]
        if depth > 1 and isinstance(names[id(a)], str):
            longest = max(longest, len(names[id(a)]) + 2 + depth)
    cw, pw, sw, fixed = _widths(ads, longest)
    cols = (id_columns(cw, pw) + [Col("OWNER/NODENAME", 17, True, lambda a: names[id(a)])]
            + _std_tail(ads, rule, sw))
    return render_rows(cols, _tree_rows(ads, lambda a: names[id(a)], 17 if fixed else 14))


def hold_lines(ads, dag: bool = False) -> list[str]:
    """``-hold`` (jobHold_PrintFormat): ID OWNER HELD_SINCE CODE/SUB HOLD_REASON; with -dag in
    DAG order, node jobs' owners indented with ``|-`` (14 wide)."""
    ads = _sorted(ads)
    longest = max([0] + [len(_owner(a) or "") for a in ads])
    cw, pw, _, _ = _widths(ads, longest)

    def code(a):
        v = _num(a, "HoldReasonCode")
        return None if v is None else "%4d" % int(v)

    def sub(a):
        v = _num(a, "HoldReasonSubCode")
        return None if v is None else ("/%-3d" % int(v))[:4]       # TRUNCATE to the 4 of '/SUB'

    def reason(a):
        v = _get(a, "HoldReason")
        return v if isinstance(v, str) else None
    cols = id_columns(cw, pw) + [
        Col("OWNER", 14, True, _owner, _alt_wide(14)),
        Col("HELD_SINCE", 11, False, lambda a: qdate_cell(_get(a, "EnteredCurrentStatus")), _alt_wide(11)),
        Col("CODE", 4, True, code, "?", nosuffix=True),
        Col("/SUB", 4, True, sub, noprefix=True),
        Col("HOLD_REASON", 0, True, reason)]
    rows = _tree_rows(ads, _owner, 14) if dag else [(a, {}) for a in ads]
    return render_rows(cols, rows)


def _bytes_col(heading: str, expr: str, width: int, left: bool) -> Col:
    def cell(a):
        v = eval_text(expr, a)
        if not _is_value(v):
            return None
        return metric_units(v) if type(v) in (int, float) else "        "
    return Col(heading, width, left, cell, _alt_wide(width))


def _is_value(v) -> bool:
    from pyhtc.classad.values import ERROR, UNDEFINED
    return v is not UNDEFINED and v is not ERROR


def _runs(a) -> Optional[str]:
    v = eval_text("IfThenElse(JobUniverse==1,NumCkpts_RAW,NumJobStarts)", a)
    if type(v) in (int, float):
        return "%4d" % int(v)
    return None


_MISC = ("in", "out", "in,out", "queued", "in,queued", "out,queued", "in,out,queued")


def _io_misc(a) -> str:
    # print_format_tables.cpp render_buffer_io_misc
    ix = ((_get(a, "TransferringInput") is True) + 2 * (_get(a, "TransferringOutput") is True)
          + 4 * (_get(a, "TransferQueued") is True))
    return " transfer=" + _MISC[ix - 1] if ix else ""


def io_lines(ads, dag: bool = False) -> list[str]:
    """``-io`` (jobIO_PrintFormat): ID OWNER RUNS ST INPUT OUTPUT RATE MISC, the byte counts
    as ``%.1f`` + B/KB/MB/GB/TB (standard universe counters for universe 1, else
    ``BytesRecvd``/``BytesSent``); with -dag in DAG order, node owners indented."""
    ads = _sorted(ads)
    longest = max([0] + [len(_owner(a) or "") for a in ads])
    cw, pw, _, _ = _widths(ads, longest)
    cols = id_columns(cw, pw) + [
        Col("OWNER", 14, True, _owner, _alt_wide(14)),
        Col("RUNS", 4, True, _runs, "?"),
        Col("ST", 2, True, status_cell),
        _bytes_col(" INPUT", "IfThenElse(JobUniverse==1,FileReadBytes,BytesRecvd)", 6, True),
        _bytes_col(" OUTPUT", "IfThenElse(JobUniverse==1,FileWriteBytes,BytesSent)", 7, True),
        _bytes_col(" RATE", "IfThenElse(JobUniverse==1,FileReadBytes+FileWriteBytes,"
                   "BytesRecvd+BytesSent)", 10, False),
        Col("MISC", 4, True, _io_misc)]
    return render_rows(cols, _tree_rows(ads, _owner, 14) if dag else [(a, {}) for a in ads])


# --------------------------------------------------------------------------- the batch view

class _Row:
    """One job in the batch view (queue.cpp ``JobRowOfData``)."""
    __slots__ = ("ad", "id", "dag_id", "batch_uid", "sched", "dagnode", "next_proc", "children",
                 "next_sib", "folded", "cooked", "owner", "batch_name")

    def __init__(self, ad, jid):
        self.ad, self.id = ad, jid
        self.dag_id = None
        self.batch_uid = 0
        self.sched = _num(ad, "JobUniverse") == 7        # a scheduler universe job (a DAGMan)
        self.dagnode = False
        self.next_proc = None
        self.children: list = []
        self.next_sib: list = []
        self.folded = self.cooked = False
        self.owner = None
        self.batch_name = None


def _batch_name(ad) -> Optional[str]:
    # queue.cpp local_render_batch_name
    name = ad.get("JobBatchName")
    if isinstance(name, str):
        return name
    if _num(ad, "JobUniverse") == 7:
        return "DAG: %d" % _num(ad, "ClusterId", 0)
    node = ad.get("DAGNodeName")
    if ad.get("DAGManJobId") is not None and isinstance(node, str):
        return "NODE: " + node
    return None


class _Progress:
    """queue.cpp ``child_progress``: what the jobs folded into one batch row add up to."""

    def __init__(self):
        self.nodes_total = self.nodes_done = self.unknown_total = self.jobs = 0
        self.states: dict = {}
        self.min_proc = self.max_proc = 0
        self.min_jobid = self.max_jobid = None


def _reduce_procs(prog: _Progress, row: _Row, partial: bool, materialized: dict) -> None:
    """queue.cpp ``reduce_procs``: one cluster (the row and its other procs)."""
    cluster, proc = row.id
    prog.min_proc = prog.max_proc = proc
    ad = row.ad
    total_attr = ad.get("DAG_NodesTotal") if ad.get("DAG_NodesTotal") is not None else ad.get("TotalSubmitProcs")
    total_submit = 0
    num_procs = 0
    jobs_here = 0
    if row.sched:
        if type(total_attr) in (int, float):
            prog.nodes_total += int(total_attr)
        done = ad.get("DAG_NodesDone")
        if type(done) in (int, float):
            prog.nodes_done += int(done)
    else:
        prog.jobs += 1
        jobs_here += 1
        if type(total_attr) in (int, float):
            total_submit, num_procs = int(total_attr), 1
        st = int(_num(ad, "JobStatus", 0) or 0)
        prog.states[st] = prog.states.get(st, 0) + 1
    nxt = row.next_proc
    while nxt is not None:
        if not nxt.folded:
            prog.jobs += 1
            jobs_here += 1
            st = int(_num(nxt.ad, "JobStatus", 0) or 0)
            prog.states[st] = prog.states.get(st, 0) + 1
            prog.min_proc = min(prog.min_proc, nxt.id[1])
            prog.max_proc = max(prog.min_proc, nxt.id[1])
            nxt.folded = True
        num_procs += 1
        nxt = nxt.next_proc
    if not (row.sched or row.dagnode):
        if total_submit:
            done = total_submit - num_procs
            if cluster in materialized:
                done = materialized[cluster] - prog.jobs
            prog.nodes_total += total_submit
            if not partial:
                prog.nodes_done += done
        else:
            prog.unknown_total += 1


def _reduce_children(prog: _Progress, rows: list, partial: bool, materialized: dict) -> None:
    """queue.cpp ``reduce_children``: the rows, their DAG children and batch siblings."""
    for row in rows:
        _reduce_procs(prog, row, partial, materialized)
        if not row.sched:
            lo, hi = (row.id[0], prog.min_proc), (row.id[0], prog.max_proc)
            prog.min_jobid = lo if prog.min_jobid is None else min(prog.min_jobid, lo)
            prog.max_jobid = hi if prog.max_jobid is None else max(prog.max_jobid, hi)
        row.folded = True
        if row.children:
            _reduce_children(prog, row.children, partial, materialized)


def batch_lines(ads, dag: bool = False, partial: bool = False, show_held: bool = False) -> list[str]:
    """The default batch view (jobProgress_PrintFormat, queue.cpp ``linkup_nodes_by_id`` and
    ``reduce_results``): one row per DAG -- the DAGMan job with its node jobs folded in,
    DONE/TOTAL from ``DAG_NodesDone``/``DAG_NodesTotal`` -- and per batch of clusters with
    the same ``JobBatchName`` and owner, else per cluster (``ID: N``, DONE/TOTAL from
    ``TotalSubmitProcs``; DONE is left out when the query may miss jobs, ``partial``).
    Zeros show as ``_``; the HOLD column only when some batch has held jobs."""
    rows = [_Row(a, (int(_num(a, "ClusterId", 0)), int(_num(a, "ProcId", 0)))) for a in _sorted(ads)]
    by_id = {r.id: r for r in rows}
    batch_uids: dict = {}
    first_use: dict = {}
    materialized: dict = {}
    for r in rows:
        r.owner = r.ad.get("Owner") if isinstance(r.ad.get("Owner"), str) else None
        if dag and r.ad.get("DAGManJobId") is not None and isinstance(r.ad.get("DAGNodeName"), str):
            r.owner = r.ad.get("DAGNodeName")       # DAG_OWNER with -dag
        r.batch_name = _batch_name(r.ad)
        dc = dagman_cluster(r.ad)
        if dc > 0:
            r.dag_id, r.dagnode = (dc, 0), True
        else:
            name = r.ad.get("JobBatchName")
            node = r.ad.get("DAGNodeName")
            key = None
            if isinstance(name, str):
                key = name
            elif r.ad.get("DAGManJobId") is not None and isinstance(node, str):
                key = "NODE: " + node
            if key is not None:
                if r.owner is not None and isinstance(r.ad.get("Owner"), str):
                    key += "\n" + r.ad.get("Owner")
                r.batch_uid = batch_uids.setdefault(key, len(batch_uids) + 1)
            nxt = r.ad.get("JobMaterializeNextProcId")
            if type(nxt) is int and nxt >= 0:
                materialized[r.id[0]] = nxt
    # linkup_nodes_by_id
    if rows and rows[0].batch_uid:
        first_use.setdefault(rows[0].batch_uid, rows[0])
    for k in range(1, len(rows)):
        prev, r = rows[k - 1], rows[k]
        first_proc = prev.id[0] != r.id[0]
        if not first_proc:
            prev.next_proc = r
        if r.dag_id is not None:
            parent = by_id.get(r.dag_id)
            if parent is not None:
                if not parent.children or first_proc:
                    parent.children.append(r)
        elif r.batch_uid and first_proc:
            oldest = first_use.setdefault(r.batch_uid, r)
            if oldest is not r and not r.sched:
                oldest.next_sib.append(r)
    # reduce_results
    cooked = []
    for r in rows:
        if r.folded or r.cooked:
            continue
        prog = _Progress()
        _reduce_children(prog, [r] + r.next_sib, partial, materialized)
        r.cooked = True
        total = 0 if prog.unknown_total else prog.nodes_total
        done = 0 if prog.unknown_total else prog.nodes_done
        st = prog.states
        lo = prog.min_jobid or (0, 0)
        hi = prog.max_jobid or (0, 0)
        if lo == hi:
            ids = "%d.%d" % lo
        elif lo[0] == hi[0]:
            ids = "%d.%d-%d" % (lo[0], lo[1], hi[1])
        else:
            ids = "%d.%d ... %d.%d" % (lo + hi)
        name = r.batch_name if r.batch_name is not None else "ID: %d" % r.id[0]
        cooked.append((r.owner if r.owner is not None else "??", name, qdate_cell(r.ad.get("QDate")) or "",
                       done, st.get(2, 0) + st.get(6, 0), st.get(1, 0) + st.get(7, 0), st.get(5, 0),
                       total, ids))
    if not cooked:
        # no jobs: reduce_results (and so the width fix-ups) never runs, the HOLD column
        # stays, BATCH_NAME keeps its WIDTH -12
        return ["OWNER BATCH_NAME      SUBMITTED   DONE   RUN    IDLE   HOLD  TOTAL JOB_IDS\n"]
    # fnFixupWidthsForProgressFormat
    auto_owner = max([5] + [len(r.owner or "??") for r in rows])
    owner_w = max([0] + [len(c[0]) for c in cooked])
    owner_w = max(8, owner_w) if owner_w < auto_owner else owner_w
    name_w = max([10] + [len(c[1]) for c in cooked])
    any_held = show_held or any(c[6] for c in cooked)
    counts = [3, 4, 5] + ([6] if any_held else []) + [7]
    widths = {k: max([6] + [len(str(c[k])) for c in cooked]) for k in counts}
    titles = {3: "  DONE", 4: "  RUN ", 5: "  IDLE", 6: "  HOLD", 7: " TOTAL"}
    head = "OWNER".ljust(owner_w) + " " + "BATCH_NAME".ljust(name_w) + " " + "   SUBMITTED"
    head += "".join(" " + titles[k].ljust(widths[k]) for k in counts) + " JOB_IDS\n"
    lines = [head]
    for c in cooked:
        line = c[0].ljust(owner_w) + " " + c[1].ljust(name_w) + " " + c[2].rjust(12)
        line += "".join(" " + (str(c[k]) if c[k] > 0 else "_").rjust(widths[k]) for k in counts)
        lines.append((line + " " + c[8]).rstrip() + "\n")
    return lines


# --------------------------------------------------------------------------- -idle

#: JobUniverse -> name (src/condor_utils/condor_universe.cpp CondorUniverseNameUcFirst)
UNIVERSE_NAMES = {1: "Standard", 2: "Pipe", 3: "Linda", 4: "PVM", 5: "Vanilla", 6: "PVMD",
                  7: "Scheduler", 8: "MPI", 9: "Grid", 10: "Java", 11: "Parallel", 12: "Local",
                  13: "VM"}


def _int_cell(expr: str, fmt: str):
    def cell(a):
        v = eval_text(expr, a)
        return fmt % int(v) if type(v) in (int, float) else None
    return cell


def idle_lines(ads) -> list[str]:
    """``-idle`` (jobIdle_PrintFormat): ID OWNER UNIVERSE CPUS MEMORY STARTS LAST_HOST."""
    ads = _sorted(ads)
    longest = max([0] + [len(_owner(a) or "") for a in ads])
    cw, pw, _, _ = _widths(ads, longest)

    def universe(a):
        u = _num(a, "JobUniverse")
        return None if u is None else UNIVERSE_NAMES.get(int(u), "Unknown")

    def last_host(a):
        v = a.get("LastRemoteHost")
        return v if isinstance(v, str) else None
    cols = id_columns(cw, pw) + [
        Col("OWNER", 14, True, _owner, _alt_wide(14)),
        Col("UNIVERSE ", 9, True, universe),
        Col("CPUS", 4, True, _int_cell("RequestCpus", "%4d")),
        Col("MEMORY", 6, True, _int_cell("RequestMemory", "%6d")),
        Col("STARTS", 6, True, _int_cell("NumShadowStarts?:0", "%6d")),
        Col("LAST_HOST", 0, True, last_host)]
    return render_rows(cols, [(a, {}) for a in ads])
