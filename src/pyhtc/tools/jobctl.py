"""``condor_rm``, ``condor_hold``, ``condor_release`` (src/condor_rm.V6/rm.cpp),
``condor_qedit`` (src/condor_tools/qedit.cpp) and ``condor_prio`` (src/condor_prio/prio.cpp).

    condor_rm|hold|release [-name NAME] [-pool HOST] [-reason TEXT] [-subcode N (hold)]
        [-forcex (rm)] [-long | -totals] [-constraint EXPR | -all] [cluster | cluster.proc | user]...
    condor_qedit [-name NAME] [-pool HOST] {cluster | cluster.proc | owner | -constraint EXPR}
        attr value [attr value | attr=value]...
    condor_prio {-p N | +N | -N} [-n NAME] [-pool HOST] {cluster | cluster.proc | user | -a}...

Messages and exit codes are HTCondor's: ``Job 5.0 marked for removal``, ``All jobs in cluster
5 have been held``, ``Couldn't find/release all jobs of user alice``; exit 1 when anything
failed.  Job ids act through ``ActionIds`` with per-job results (``AR_LONG``); clusters, users,
``-constraint`` and ``-all`` through one ``ActionConstraint``.  condor_release sends RESCHEDULE
afterwards.  condor_prio reads the current ``JobPrio`` with a job query (HTCondor uses QMGMT
GetAttributeInt) and writes the new one over QMGMT.
"""
from __future__ import annotations

import os
import sys
from typing import Optional

from pyhtc.client import CollectorClient, DaemonNotFound, locate_daemon
from pyhtc.client.schedd import (AR_LONG, AR_TOTALS, ONLY_MY_JOBS, JobActionCode,
                                 QmgmtError, ScheddClient, normalize_expr)
from pyhtc.config import get_config
from pyhtc.tools.common import is_dash_arg_prefix
from pyhtc.tools.q import config_errors_exit

#: action -> (past participle, verb) -- rm.cpp actionWord
WORDS = {
    JobActionCode.REMOVE: ("marked for removal", "remove"),
    JobActionCode.REMOVE_X: ("removed locally (remote state unknown)", "remove"),
    JobActionCode.HOLD: ("held", "hold"),
    JobActionCode.RELEASE: ("released", "release"),
    JobActionCode.SUSPEND: ("suspended", "suspend"),
    JobActionCode.CONTINUE: ("continued", "continue"),
    JobActionCode.VACATE: ("vacated", "vacate"),
    JobActionCode.VACATE_FAST: ("fast-vacated", "fast-vacate"),
}
DEFAULT_REASON = {
    JobActionCode.RELEASE: "via condor_release", JobActionCode.REMOVE_X: "via condor_rm -forcex",
    JobActionCode.REMOVE: "via condor_rm", JobActionCode.HOLD: "via condor_hold",
    JobActionCode.SUSPEND: "via condor_suspend", JobActionCode.CONTINUE: "via condor_continue",
}
#: per-job result codes (action_result_t)
AR_ERROR, AR_SUCCESS, AR_NOT_FOUND, AR_BAD_STATUS, AR_ALREADY_DONE, AR_PERMISSION_DENIED = range(6)


def _err(text: str) -> None:
    sys.stderr.write(text + "\n")


def _schedd_address(name: Optional[str], pool: Optional[str], prog: str) -> Optional[str]:
    """The schedd's sinful string, or None after printing HTCondor's error."""
    cfg = get_config()
    try:
        if name or pool:
            ad = CollectorClient(pool, cfg).locate("schedd", name)
            return ad.get("MyAddress")
        return locate_daemon("schedd", config=cfg)
    except (DaemonNotFound, OSError):
        if name:
            _err(f"Error: unknown schedd {name}" if prog in ("condor_rm", "condor_hold", "condor_release")
                 else f"{prog}: No such schedd named {name} in {'pool ' + pool if pool else 'local pool'}")
        else:
            _err(f"{prog}: ERROR: Can't find address of local schedd")
        return None


def result_message(action: int, cluster: int, proc: int, result: int) -> tuple[bool, str]:
    """``(ok, text)`` for one job's result (dc_schedd.cpp ``getResultString``)."""
    jid = f"{cluster}.{proc}"
    if result == AR_SUCCESS:
        return True, f"Job {jid} {WORDS[action][0]}"
    if result == AR_NOT_FOUND:
        return False, f"Job {jid} not found"
    if result == AR_PERMISSION_DENIED:
        verb = {JobActionCode.REMOVE_X: "force removal of"}.get(action, WORDS[action][1])
        return False, f"Permission denied to {verb} job {jid}"
    if result == AR_BAD_STATUS:
        text = {JobActionCode.RELEASE: "not held to be released",
                JobActionCode.REMOVE_X: "not in `X' state to be forcibly removed",
                JobActionCode.VACATE: "not running to be vacated",
                JobActionCode.VACATE_FAST: "not running to be fast-vacated",
                JobActionCode.SUSPEND: "not running to be suspended",
                JobActionCode.CONTINUE: "not running to be continued"}.get(action)
        return False, f"Job {jid} {text}" if text else f"Invalid result for job {jid}"
    if result == AR_ALREADY_DONE:
        text = {JobActionCode.HOLD: "already held", JobActionCode.REMOVE: "already marked for removal",
                JobActionCode.SUSPEND: "already suspended", JobActionCode.CONTINUE: "already running",
                JobActionCode.RELEASE: "already released"}.get(action)
        return False, f"Job {jid} {text}" if text else f"Invalid result for job {jid}"
    return False, f"No result found for job {jid}"


def _totals_line(ad) -> str:
    g = lambda i: ad.get_int(f"result_total_{i}", 0)  # noqa: E731
    return (f"{g(1)} Succeeded, {g(0)} Failed, {g(2)} Not Found, {g(3)} Bad Status, "
            f"{g(4)} Already Done, {g(5)} Permission Denied")


def _long_text(ad) -> str:
    return "".join(f"{n} = {e}\n" for n, e in ad) + "\n"


@config_errors_exit
def act_main(prog: str, action: int, argv: list[str]) -> int:
    """condor_rm / condor_hold / condor_release (rm.cpp ``main``)."""
    name = pool = reason = subcode = None
    dash_all = dash_long = dash_totals = False
    ids: list[str] = []
    usercluster: list[tuple[str, str]] = []  # (kind, text) kind: cluster | user | proc
    constraints: list[str] = []
    had_error = False
    if not argv:
        _err("You did not specify any jobs")
        return 1
    i = 0
    while i < len(argv):
        a = argv[i]

        def need():
            if i + 1 >= len(argv):
                _err(f"{prog}: {a} requires another argument")
                raise SystemExit(1)
            return argv[i + 1]
        if a.startswith("-") and not a[1:2].isdigit():
            if is_dash_arg_prefix(a, "all", 2):
                dash_all = True
            elif is_dash_arg_prefix(a, "constraint", 1):
                constraints.append(need())
                i += 1
            elif is_dash_arg_prefix(a, "reason", 1):
                reason = need()
                i += 1
            elif is_dash_arg_prefix(a, "subcode", 2) and action == JobActionCode.HOLD:
                subcode = need()
                if not subcode.lstrip("-").isdigit():
                    _err(f"Invalid -subcode {subcode}!")
                    return 1
                i += 1
            elif is_dash_arg_prefix(a, "forcex", 2) and action in (JobActionCode.REMOVE, JobActionCode.REMOVE_X):
                action = JobActionCode.REMOVE_X
            elif is_dash_arg_prefix(a, "name", 1):
                name = need()
                i += 1
            elif is_dash_arg_prefix(a, "pool", 1):
                pool = need()
                i += 1
            elif is_dash_arg_prefix(a, "long", 1):
                dash_long = True
            elif is_dash_arg_prefix(a, "totals", 3):
                dash_totals = True
            elif is_dash_arg_prefix(a, "help", 1):
                sys.stdout.write(f"Usage: {prog} [options] [constraints]\n")
                return 0
            else:
                _err(f"Unrecognized option: {a}")
                return 1
        else:
            head, dot, tail = a.partition(".")
            if head.lstrip("-").isdigit():
                if int(head) <= 0:
                    _err(f"Invalid cluster # from {a}.")
                    had_error = True
                elif not dot:
                    usercluster.append(("cluster", f"ClusterId == {int(head)}"))
                elif tail.lstrip("-").isdigit() and int(tail) >= 0:
                    ids.append(a)
                elif tail.lstrip("-").isdigit():
                    _err(f"Invalid proc # from {a}.")
                    had_error = True
                else:
                    _err(f'Warning: unrecognized "{a}" skipped.')
            else:
                usercluster.append(("user", f'Owner == "{a}"'))
        i += 1
    if dash_all and (constraints or usercluster or ids):
        _err(f"{prog}: can't mix -all with other constraints")
        return 1
    if not (constraints or usercluster or ids or dash_all):
        _err("You did not specify any jobs")
        return 1
    for c in constraints:
        try:
            normalize_expr(c)
        except ValueError:
            _err(f"{prog}: invalid constraint: {c}")
            return 1
    if reason is None:
        reason = DEFAULT_REASON.get(action)
    addr = _schedd_address(name, pool, prog)
    if addr is None:
        return 1
    client = ScheddClient(addr)
    if ids:
        if constraints:
            _err("Warning, -constraint is ignored for fully qualified job ids")
        try:
            res = client.act(action, None, ids, reason, subcode, AR_LONG)
        except Exception as exc:  # schedd refusals, transport and CEDAR errors
            had_error = True
            _err(str(exc))
            res = None
        if res is not None:
            if dash_long:
                sys.stdout.write(_long_text(res))
            elif dash_totals:
                sys.stdout.write(_totals_line(res) + "\n")
            if res.get_int("ActionResult", 0) != 1:
                had_error = True
            for jid in ids:
                c, p = (int(x) for x in jid.split("."))
                code = res.get_int(f"job_{c}_{p}", AR_ERROR)
                ok, text = result_message(action, c, p, code)
                (sys.stdout if ok else sys.stderr).write(text + "\n")
    # constraint-based work: clusters, users, -constraint, -all (rm.cpp handleConstraints)
    if usercluster or constraints or dash_all:
        kinds = {k for k, _ in usercluster}
        uc = " || ".join(t for _, t in usercluster)
        if dash_all:
            constraint, cmsg = "true", ""
        elif constraints and not usercluster:
            constraint = constraints[0] if len(constraints) == 1 else " && ".join(f"({c})" for c in constraints)
            cmsg = f" matching constraint ({constraint})"
        elif usercluster and not constraints and len(usercluster) == 1:
            constraint = uc
            value = uc.split(" == ", 1)[1]
            cmsg = f" of user {value}" if kinds == {"user"} else f" in cluster {value}"
        else:
            parts = constraints + ([uc] if usercluster else [])  # rm.cpp addConstraint order
            constraint = " && ".join(f"({p})" for p in parts) if len(parts) > 1 else parts[0]
            cmsg = f" matching constraint ({constraint})"
        ok, msg, err = _act_constraint(client, action, constraint, reason, subcode,
                                       AR_LONG if dash_long and not dash_totals else AR_TOTALS,
                                       dash_long, dash_totals, prog)
        if ok:
            sys.stdout.write(f"All jobs{cmsg} have been {WORDS[action][0]}\n")
        else:
            _err(msg)
            if err:
                had_error = True
                _err(f"Couldn't find/{WORDS[action][1]} all jobs{cmsg}")
    if action == JobActionCode.RELEASE and not had_error:
        try:  # rm.cpp: a RESCHEDULE after a successful release; failures only printed
            client.reschedule()
        except Exception as exc:
            _err(str(exc))
    return 1 if had_error else 0


def _act_constraint(client, action, constraint, reason, subcode, result_type, dash_long,
                    dash_totals, prog) -> tuple[bool, str, bool]:
    """rm.cpp ``doWorkByConstraint``: ``(succeeded, error text, had_error)``."""
    try:
        res = client.act(action, constraint, None, reason, subcode, result_type)
    except Exception as exc:  # schedd refusals, transport and CEDAR errors
        return False, str(exc), True
    if dash_long:
        sys.stdout.write(_long_text(res))
    elif dash_totals:
        sys.stdout.write(_totals_line(res) + "\n")
    if res.get_int("ActionResult", 0) == 1:
        return True, "", False
    total = res.get_int("TotalJobAds", -1)
    if total is not None and total == 0:
        return False, f"{prog}:0:There are no jobs in the queue", False
    return False, "", True


def rm_main(argv: Optional[list[str]] = None) -> int:
    """condor_rm."""
    return act_main("condor_rm", JobActionCode.REMOVE, sys.argv[1:] if argv is None else argv)


def hold_main(argv: Optional[list[str]] = None) -> int:
    """condor_hold."""
    return act_main("condor_hold", JobActionCode.HOLD, sys.argv[1:] if argv is None else argv)


def release_main(argv: Optional[list[str]] = None) -> int:
    """condor_release."""
    return act_main("condor_release", JobActionCode.RELEASE, sys.argv[1:] if argv is None else argv)


# --------------------------------------------------------------------------- condor_qedit

def _protection(attr: str) -> Optional[str]:
    """``immutable``/``protected``/``secure`` per (SYSTEM_)*_JOB_ATTRS (qedit.cpp
    ``IsProtectedAttribute``), else None."""
    cfg = get_config()
    for kind in ("IMMUTABLE", "PROTECTED", "SECURE"):
        names = set()
        for knob in (f"{kind}_JOB_ATTRS", f"SYSTEM_{kind}_JOB_ATTRS"):
            names |= {n for n in (cfg.param(knob) or "").replace(",", " ").split()}
        if attr in names:
            return kind.lower()
    return None


@config_errors_exit
def qedit_main(argv: Optional[list[str]] = None) -> int:
    """condor_qedit (qedit.cpp ``main``)."""
    argv = sys.argv[1:] if argv is None else argv
    prog = "condor_qedit"
    name = pool = None
    constraints: list[str] = []
    job_list: list[str] = []
    owner = None
    only_my_jobs = True
    edits: dict[str, str] = {}
    need_jobs = True
    i = 0
    while i < len(argv):
        a = argv[i]
        if a.startswith("-") and len(a) > 1:
            if is_dash_arg_prefix(a, "name", 1):
                if i + 1 >= len(argv):
                    _err(f"{prog}: {a} requires a SCHEDD name as an argument")
                    return 1
                name = argv[i + 1]
                i += 1
            elif is_dash_arg_prefix(a, "pool", 1):
                if i + 1 >= len(argv):
                    _err(f"{prog}: {a} requires a HTCondor collector name or address as an argument")
                    return 1
                pool = argv[i + 1]
                i += 1
            elif is_dash_arg_prefix(a, "constraint", 1):
                if i + 1 >= len(argv):
                    _err(f"{prog}: {a} requires a ClassAd expression an argument")
                    return 1
                try:
                    normalize_expr(argv[i + 1])
                except ValueError:
                    _err(f"{prog}: invalid constraint: {argv[i + 1]}")
                    return 1
                constraints.append(argv[i + 1])
                need_jobs = False
                i += 1
            else:
                _err(f"{prog}: {a} is not a valid option")
                return 1
        elif need_jobs:
            need_jobs = False
            only_my_jobs = False
            if a[0].isdigit():
                job_list.append(a)
                while i + 1 < len(argv) and argv[i + 1][:1].isdigit():
                    i += 1
                    job_list.append(argv[i])
            else:
                owner = a
        else:
            if "=" in a:
                attr, _, value = a.partition("=")
                attr, value = attr.strip(), value.strip()
            else:
                if i + 1 >= len(argv):
                    _err(f"{prog} : expression required after attribute {a}")
                    return 1
                attr, value = a, argv[i + 1]
                i += 1
            if not attr or not (attr[0].isalpha() or attr[0] == "_") or \
                    not all(ch.isalnum() or ch == "_" for ch in attr):
                _err(f'Update aborted, illegal attribute-name specified for attribute "{attr}".')
                _err("Transaction failed.  No attributes were set.")
                return 1
            try:
                normalize_expr(value)
                if not value.strip():
                    raise ValueError
            except ValueError:
                _err(f"Update aborted, illegal value for : {attr}")
                _err("Transaction failed.  No attributes were set.")
                return 1
            edits[attr] = value
        i += 1
    ands = list(constraints)
    if owner is not None:
        ands.append(f'Owner=="{owner}"')
    ids: list[tuple[int, int]] = []
    for j in job_list:
        head, dot, tail = j.partition(".")
        if not head.isdigit() or (dot and not tail.isdigit()):
            _err(f'{prog}: invalid job id "{j}"')
            return 1
        ids.append((int(head), int(tail) if dot else -1))
    if ids and (any(p < 0 for _, p in ids) or ands):
        # cluster ids, or ids plus a constraint: everything becomes one constraint
        ors = [f"ClusterId == {c}" if p < 0 else f"( ClusterId == {c} && ProcId == {p} )" for c, p in ids]
        ands.append(" || ".join(ors))
        ids = []
    constraint = None
    if ands:
        constraint = ands[0] if len(ands) == 1 else " && ".join(f"({x})" for x in ands)
    if not ids and constraint is None:
        if edits:
            _err(f"{prog} : Error - there were no jobs specified.\n\tuse -constraint, jobid or "
                 "owner argument to indicate which jobs to edit")
        _err(f"Usage: {prog} [general-opts] <restriction-list> <edit-list>")
        return 1
    if not edits:
        _err(f"{prog} : Error - no attributes specifed.")
        return 1
    refused = False
    for attr in sorted(edits):
        prot = _protection(attr)
        if prot and prot != "protected":
            _err(f'Update of {prot} attribute "{attr}" is not allowed.')
            refused = True
    if refused:
        _err("Transaction failed.  No attributes were set.")
        return 1
    addr = _schedd_address(name, pool, prog)
    if addr is None:
        return 1
    client = ScheddClient(addr)
    try:
        q = client.qmgmt(True)
    except Exception:
        _err(f"Failed to connect to queue manager {addr}")
        return 1
    flags = ONLY_MY_JOBS if only_my_jobs else 0
    failed = False
    with q:
        for attr in sorted(edits):  # std::map order
            value = edits[attr] or "undefined"
            count = 0
            try:
                if ids:
                    for c, p in sorted(ids):
                        try:
                            q.set_attribute(c, p, attr, value, flags)
                        except QmgmtError:
                            _err(f'Failed to set attribute "{attr}" for job {c}.{p}.')
                            failed = True
                            break
                        count += 1
                else:
                    try:
                        count = q.set_attribute_by_constraint(constraint, attr, value, flags)
                    except QmgmtError:
                        _err(f'Failed to set attribute "{attr}" by constraint: {constraint}')
                        failed = True
            except Exception:  # transport / CEDAR errors: the schedd dropped the connection
                failed = True
            if failed:
                break
            sys.stdout.write(f'Set attribute "{attr}" for {count if count > 0 else "all"} matching jobs.\n')
        if not failed:
            try:
                q.commit()
            except Exception:
                failed = True
    if failed:
        _err("Queue transaction failed.  No attributes were set.")
        return 1
    return 0


# --------------------------------------------------------------------------- condor_prio

@config_errors_exit
def prio_main(argv: Optional[list[str]] = None) -> int:
    """condor_prio (prio.cpp): ``-p N`` sets, ``+N``/``-N`` adjusts ``JobPrio``."""
    argv = sys.argv[1:] if argv is None else argv
    prog = "condor_prio"
    new_prio = adjust = None
    name = pool = None
    targets: list[str] = []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a[:1] in "+-" and a[1:2].isdigit():
            adjust = int(a[1:]) * (-1 if a[0] == "-" else 1) if a[1:].isdigit() else _atoi(a)
        elif a == "-p":
            if i + 1 >= len(argv):
                _err(f"{prog}: -p requires another argument")
                return 1
            new_prio = _atoi(argv[i + 1])
            i += 1
        elif a == "-pool":
            if i + 1 >= len(argv):
                _err(f"{prog}: -pool requires another argument")
                return 1
            pool = argv[i + 1]
            i += 1
        elif a == "-n":
            if i + 1 >= len(argv):
                _err(f"{prog}: -n requires another argument")
                return 1
            name = argv[i + 1]
            i += 1
        else:
            targets.append(a)
        i += 1
    if pool and not name:
        _err(f"{prog}: -pool also requires -n to be specified")
        return 1
    addr = _schedd_address(name, pool, prog)
    if addr is None:
        return 1
    if new_prio is None and adjust is None:
        _err("You must specify a new priority or priority adjustment.")
        _err(f"Usage: {prog} [{{+|-}}priority ] [-p priority] [ -a ] [-n schedd_name] "
             "[ -pool pool_name ] [user | cluster | cluster.proc | -a] ...")
        return 1
    client = ScheddClient(addr)
    try:
        q = client.qmgmt(True)
    except Exception:
        _err(f"Failed to connect to queue manager {addr}")
        return 1
    status = 0
    with q:
        jobs: list[tuple[int, int, int]] = []
        for t in targets:
            head, dot, tail = t.partition(".")
            if t == "-a":
                cons = "true"
            elif head.isdigit() or head.lstrip("-").isdigit():
                c = int(head)
                if c <= 0:
                    _err(f"Invalid cluster # from {t}")
                    continue
                if dot:
                    if not tail.lstrip("-").isdigit() or int(tail) < 0:
                        _err(f"Invalid proc # from {t}")
                        continue
                    cons = f"ClusterId == {c} && ProcId == {int(tail)}"
                else:
                    cons = f"ClusterId == {c}"
            elif t.startswith("-"):
                _err(f'Warning: unrecognized "{t}" skipped')
                continue
            else:
                cons = f'Owner == "{t}"'
            try:
                found = client.query(cons, ["ClusterId", "ProcId", "JobPrio"])
            except Exception as exc:  # schedd refusals, transport and CEDAR errors
                _err(str(exc))
                status = 1
                continue
            if not found and dot:
                _err(f"Couldn't retrieve current priority for {t}.")
                status = 1
            for ad in found:
                jobs.append((ad.get_int("ClusterId", 0), ad.get_int("ProcId", 0), ad.get_int("JobPrio", 0) or 0))
        for c, p, old in jobs:
            prio = new_prio if new_prio is not None else old + adjust
            try:
                q.set_attribute(c, p, "JobPrio", str(prio), 1 << 3)  # SHOULDLOG, acknowledged
            except QmgmtError:
                _err(f"Couldn't set new priority for {c}.{p}.")
                status = 1
        try:
            q.commit()
        except Exception as exc:
            _err(f"Failed to commit the priority change: {exc}")
            status = 1
    return status


def _atoi(text: str) -> int:
    """C ``atoi``: leading sign and digits, else 0."""
    import re
    m = re.match(r"\s*([+-]?\d+)", text or "")
    return int(m.group(1)) if m else 0


TOOLS = {"rm": rm_main, "hold": hold_main, "release": release_main, "qedit": qedit_main,
         "prio": prio_main}

if __name__ == "__main__":
    # ``python -m pyhtc.tools.jobctl {rm|hold|release|qedit|prio} ARGS...``
    if len(sys.argv) > 1 and sys.argv[1] in TOOLS:
        sys.exit(TOOLS[sys.argv[1]](sys.argv[2:]))
    tool = os.path.basename(sys.argv[0]).replace("condor_", "")
    sys.exit(TOOLS.get(tool, rm_main)())


def vacate_job_main(argv: Optional[list[str]] = None) -> int:
    """condor_vacate_job [-fast] JOBS...: vacate running jobs (they go back to Idle);
    ``-fast`` kills them without the graceful signal (VACATE_FAST)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    action = JobActionCode.VACATE
    for a in list(argv):
        if a.startswith("-") and is_dash_arg_prefix(a, "fast", 1):
            action = JobActionCode.VACATE_FAST
            argv.remove(a)
    return act_main("condor_vacate_job", action, argv)


def suspend_main(argv: Optional[list[str]] = None) -> int:
    """condor_suspend JOBS...: suspend running jobs."""
    return act_main("condor_suspend", JobActionCode.SUSPEND, sys.argv[1:] if argv is None else argv)


def continue_main(argv: Optional[list[str]] = None) -> int:
    """condor_continue JOBS...: continue suspended jobs."""
    return act_main("condor_continue", JobActionCode.CONTINUE, sys.argv[1:] if argv is None else argv)


def reschedule_main(argv: Optional[list[str]] = None) -> int:
    """condor_reschedule [-name NAME] [-pool HOST] [-addr SINFUL]: ask the schedd to
    advertise its jobs and the negotiator to start a cycle now (tool.cpp: RESCHEDULE)."""
    argv = sys.argv[1:] if argv is None else argv
    name = pool = addr = None
    i = 0
    while i < len(argv):
        a = argv[i]
        if i + 1 < len(argv) and is_dash_arg_prefix(a, "name", 1):
            name, i = argv[i + 1], i + 2
        elif i + 1 < len(argv) and is_dash_arg_prefix(a, "pool", 1):
            pool, i = argv[i + 1], i + 2
        elif i + 1 < len(argv) and is_dash_arg_prefix(a, "addr", 2):
            addr, i = argv[i + 1], i + 2
        else:
            _err(f"Usage: condor_reschedule [-name NAME] [-pool HOST] [-addr SINFUL]\n"
                 f"condor_reschedule: unknown argument {a}")
            return 1
    addr = addr or _schedd_address(name, pool, "condor_reschedule")
    if addr is None:
        return 1
    try:
        ScheddClient(addr).reschedule()
    except Exception as exc:  # transport and security failures
        _err(f"Can't send Reschedule command to {'schedd ' + name if name else 'local schedd'}: {exc}")
        return 1
    where = f"schedd {name}" if name else ("schedd " + addr if addr and (pool or name) else "local schedd")
    print(f'Sent "Reschedule" command to {where}')
    return 0
