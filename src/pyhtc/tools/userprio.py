"""condor_userprio: show and edit user priorities, factors and usage kept by the negotiator.

Follows docs/man-pages/condor_userprio.rst and src/condor_tools/user_prio.cpp::

    condor_userprio [-pool HOST] [-name NEGOTIATOR] [edit option | display options [users]]

Edit options (one per call; each is one negotiator command, see
:mod:`pyhtc.daemons.negotiator.protocol`): ``-setprio USER N`` (SET_PRIORITY),
``-setfactor USER N`` (SET_PRIORITYFACTOR; N >= 1), ``-setaccum USER N``, ``-setbegin USER
T``, ``-setlast USER T``, ``-setceiling USER N``, ``-setfloor USER N``, ``-resetusage USER``
(RESET_USAGE), ``-resetall`` (RESET_ALL_USAGE), ``-delete USER`` (DELETE_USER),
``-getreslist USER`` (GET_RESLIST).  USER must be the full ``user@domain`` name.

Display: the table HTCondor prints (``Last Priority Update:`` line, two heading rows, a
rule, one row per user, a rule and the ``Number of users:`` footer with totals).  Default
columns: Effective Priority, Priority Factor, Wghted In Use, Total Usage (wghted-hrs), Time
Since Last Usage, Submitter Floor, Submitter Ceiling; ``-all`` adds Real Priority and the
usage start/last times; ``-usage`` and ``-priority`` select column groups.  Only users
active in the last day are listed unless ``-allusers`` (or ``-activefrom M D Y``, or user
names on the command line).  ``-long`` prints the accounting ads, ``-json`` them as JSON.

The data comes from the negotiator itself (GET_PRIORITY), which is always current; with
``-collector`` from the Accounting ads in the collector (the real tool's default, which
lags by one negotiation cycle).  Exit status 1 with a message on any error.
"""
from __future__ import annotations

import calendar
import re
import sys
import time
from typing import Optional

from pyhtc import classad as C
from pyhtc.client import CollectorClient, DaemonNotFound, locate_daemon
from pyhtc.client.negotiator import NegotiatorClient
from pyhtc.config import ConfigError, get_config
from pyhtc.daemons.negotiator.protocol import NegCommand as N
from pyhtc.tools.common import UsageError, format_json, format_long, is_dash_arg_prefix

# detail flags (user_prio.cpp)
D_NAME, D_PRIORITY, D_FACTOR, D_GROUP = 0x1, 0x2, 0x4, 0x8
D_RESUSED, D_WTRESUSED, D_USETIME1, D_USETIME2 = 0x10, 0x20, 0x40, 0x80
D_EFFQUOTA, D_CFGQUOTA, D_SURPLUS, D_TREEQUOTA = 0x100, 0x200, 0x400, 0x800
D_REALPRIO, D_SORTKEY, D_USEDELTAT, D_ORDER = 0x1000, 0x2000, 0x4000, 0x8000
D_REQUESTED, D_CEILING, D_FLOOR = 0x10000, 0x20000, 0x40000
D_PRIOS = D_PRIORITY | D_FACTOR | D_REALPRIO
D_USAGE = D_RESUSED | D_WTRESUSED
D_QUOTAS = D_EFFQUOTA | D_CFGQUOTA | D_TREEQUOTA | D_SURPLUS | D_REQUESTED
D_MOST = (D_CFGQUOTA | D_SURPLUS | D_PRIORITY | D_FACTOR | D_USAGE | D_USEDELTAT | D_REQUESTED
          | D_CEILING | D_FLOOR)
D_ALL = D_MOST | D_QUOTAS | D_PRIOS | D_USETIME1 | D_USETIME2

#: (flag, width, heading line 1, heading line 2), in display order (user_prio.cpp aCols)
COLUMNS = [
    (D_GROUP, 5, "Group", "Id"), (D_ORDER, 9, "Group", "Order"), (D_SORTKEY, 9, "Group", "Sort Key"),
    (D_EFFQUOTA, 9, "Effective", "Quota"), (D_CFGQUOTA, 9, "Config", "Quota"),
    (D_SURPLUS, 7, "Use", "Surplus"), (D_TREEQUOTA, 9, "Subtree", "Quota"),
    (D_PRIORITY, 12, "Effective", "Priority"), (D_REALPRIO, 8, "Real", "Priority"),
    (D_FACTOR, 9, "Priority", "Factor"), (D_RESUSED, 6, "Wghted", "In Use"),
    (D_WTRESUSED, 12, "Total Usage", "(wghted-hrs)"), (D_USETIME1, 16, "Usage", "Start Time"),
    (D_USETIME2, 16, "Last", "Usage Time"), (D_USEDELTAT, 10, "Time Since", "Last Usage"),
    (D_REQUESTED, 10, "Weighted", "Requested"), (D_FLOOR, 9, "Submitter", "Floor"),
    (D_CEILING, 9, "Submitter", "Ceiling"),
]
MAX_NAME_COLUMN_WIDTH = 99

_EDITS = {  # option -> (command, value kind or None)
    "setprio": (N.SET_PRIORITY, "double"), "setfactor": (N.SET_PRIORITYFACTOR, "double"),
    "setaccum": (N.SET_ACCUMUSAGE, "double"), "setbegin": (N.SET_BEGINTIME, "int"),
    "setlast": (N.SET_LASTTIME, "int"), "setceiling": (N.SET_CEILING, "int"),
    "setfloor": (N.SET_FLOOR, "int"), "resetusage": (N.RESET_USAGE, None),
    "delete": (N.DELETE_USER, None), "getreslist": (N.GET_RESLIST, None),
}

USAGE = """usage: condor_userprio [options] [edit-option | display-options [usernames]]
    where [options] are
\t-pool <host>\t\tUse host as the central manager to query
\t-name <name>\t\tQuery the negotiator named <name>
\t-collector\t\tGet the accounting data from the collector
\t-negotiator\t\tGet the accounting data from the negotiator (default)
    where [edit-option] is one of
\t-resetusage <user>\tReset usage data for <user>
\t-resetall\t\tReset all usage data
\t-delete <user>\t\tRemove a user record from the accountant
\t-setprio <user> <val>\tSet priority for <user>
\t-setfactor <user> <val>\tSet priority factor for <user>
\t-setaccum <user> <val>\tSet Accumulated usage for <user>
\t-setbegin <user> <val>\tSet last first date for <user>
\t-setlast <user> <val>\tSet last active date for <user>
\t-setceiling <user> <val>\tSet ceiling for <user>
\t-setfloor <user> <val>\tSet floor for <user>
\t-getreslist <user>\tDisplay list of resources for <user>
    where [display-options] are
\t-allusers\t\tDisplay data for all users
\t-activefrom <month> <day> <year> Display data for users active since the date
\t-priority\t\tDisplay priority information
\t-usage\t\t\tDisplay usage information
\t-most\t\t\tDisplay most of the available columns (default)
\t-all\t\t\tDisplay all of the available columns
\t-long\t\t\tPrint the accounting ads
\t-json\t\t\tPrint the accounting ads as JSON
"""


# --------------------------------------------------------------------------- text helpers
def pad(text: Optional[str], width: int, how: str = "right", fill: str = " ") -> str:
    """CopyAndPadToWidth with a buffer of width+1: exactly ``width`` characters."""
    text = (text or "")[:width]
    if how == "left":
        return fill * (width - len(text)) + text
    if how == "center":
        left = max(0, (width - len(text)) // 2)
        return (fill * left + text).ljust(width, fill)[:width]
    return text.ljust(width, fill)


def fmt_float(width: int, decimals: int, value: float) -> str:
    """FormatFloat: ``%W.Df`` (``%.(W-6)g`` if too wide), right-aligned in ``width``."""
    s = "%*.*f" % (width, decimals, value)
    if len(s) > width:
        s = "%.*g" % (width - 6, value)
    return pad(s, width, "left")


def format_date(t: int) -> str:
    """format_date(): local ``%2d/%-2d %02d:%02d`` (month/day hour:minute)."""
    tm = time.localtime(int(t))
    return "%2d/%-2d %02d:%02d" % (tm.tm_mon, tm.tm_mday, tm.tm_hour, tm.tm_min)


def format_date_year(t: int) -> str:
    """format_date_year(): local ``%2d/%02d/%-4d %02d:%02d``."""
    if t < 0:
        return "    ???    "
    tm = time.localtime(int(t))
    return "%2d/%02d/%-4d %02d:%02d" % (tm.tm_mon, tm.tm_mday, tm.tm_year, tm.tm_hour, tm.tm_min)


def format_time_nosecs(secs: int) -> str:
    """format_time_nosecs(): ``%3d+%02d:%02d`` days+hours:minutes."""
    if secs < 0:
        return "[?????]"
    d, secs = divmod(int(secs), 86400)
    h, secs = divmod(secs, 3600)
    return "%3d+%02d:%02d" % (d, h, secs // 60)


# --------------------------------------------------------------------------- records
def numbered_to_records(ad: dict) -> list[dict]:
    """The GET_PRIORITY reply (``Name1``, ``Priority1``...) as one dict per record."""
    n = ad.get("NumSubmittors", 0)
    recs: list[dict] = [{} for _ in range(n if isinstance(n, int) and n > 0 else 0)]
    for k, v in ad.items():
        m = re.fullmatch(r"([A-Za-z_]+?)(\d+)", k)
        if m and 1 <= int(m.group(2)) <= len(recs):
            recs[int(m.group(2)) - 1][m.group(1)] = v
    for r in recs:
        r.setdefault("LastUpdate", ad.get("LastUpdate", 0))
    return recs


class Row:
    """One line of the table (user_prio.cpp LineRec)."""

    def __init__(self, rec: dict, index: int):
        self.rec = rec
        self.index = index
        self.name = str(rec.get("Name", ""))
        self.has = D_PRIORITY | D_NAME
        self.priority = float(rec.get("Priority", 0) or 0)
        self.factor = float(rec.get("PriorityFactor", 0) or 0)
        if "PriorityFactor" in rec:
            self.has |= D_FACTOR | (D_REALPRIO if self.factor > 0 else 0)
        self.acc_usage = float(rec.get("WeightedAccumulatedUsage", -1))
        if "WeightedAccumulatedUsage" in rec or "ResourcesUsed" in rec:
            self.has |= D_USAGE
        self.ceiling = float(rec["Ceiling"]) if "Ceiling" in rec else -1.0
        self.floor = float(rec["Floor"]) if "Floor" in rec else -1.0
        if "Ceiling" in rec:
            self.has |= D_CEILING
        if "Floor" in rec:
            self.has |= D_FLOOR
        if "Requested" in rec:
            self.has |= D_REQUESTED
        self.requested = float(rec.get("Requested", 0) or 0)
        self.begin = int(rec.get("BeginUsageTime", 0) or 0)
        if "BeginUsageTime" in rec:
            self.has |= D_USETIME1
        self.last = int(rec.get("LastUsageTime", 0) or 0)
        if "LastUsageTime" in rec:
            self.has |= D_USETIME2 | D_USEDELTAT
        if self.last == 0:
            self.last = -1
        res = int(rec.get("ResourcesUsed", 0) or 0)
        self.wt_res = float(rec["WeightedResourcesUsed"]) if "WeightedResourcesUsed" in rec else float(res)
        if "WeightedResourcesUsed" in rec:
            self.has |= D_WTRESUSED
        self.is_group = rec.get("IsAccountingGroup") is True
        self.group = str(rec.get("AccountingGroup") or "<none>")
        for attr, flag in (("EffectiveQuota", D_EFFQUOTA), ("ConfigQuota", D_CFGQUOTA)):
            if attr in rec:
                self.has |= flag
        if self.is_group:
            self.has &= ~D_PRIORITY  # GroupPrioIsMeaningless
            if "SurplusPolicy" in rec:
                self.has |= D_SURPLUS
            if "SubtreeQuota" in rec:
                self.has |= D_TREEQUOTA
        self.group_id = 0 if (self.group in ("<none>", ".") or self.name in ("<none>", ".")) else -1


def render_table(records: list[dict], detail: int, min_last_usage: int, now: int) -> str:
    """The table exactly as user_prio.cpp ProcessInfo/PrintInfo lays it out."""
    rows = [Row(r, i) for i, r in enumerate(records, 1)]
    if not rows:
        return ""
    avail = 0
    for r in rows:
        avail |= r.has
    detail = detail or D_MOST
    hide_groups = False
    if not (detail & ~D_PRIOS):
        hide_groups = True
    for flag in (D_USAGE, D_FACTOR, D_USETIME1):
        if not (avail & flag):
            detail &= ~flag
    if not (avail & D_USETIME2):
        detail &= ~(D_USETIME2 | D_USEDELTAT)
    if not (avail & D_QUOTAS):
        detail &= ~D_QUOTAS
    users_have_quotas = any(not r.is_group and r.has & (D_EFFQUOTA | D_CFGQUOTA) for r in rows)
    all_none = all(r.group_id == 0 for r in rows if r.last >= min_last_usage)
    if (hide_groups or all_none) and not users_have_quotas:
        detail &= ~D_QUOTAS
    if detail & D_PRIORITY:
        rows.sort(key=lambda r: r.priority)
    elif detail & D_USAGE:
        rows.sort(key=lambda r: r.acc_usage)
    else:
        rows.sort(key=lambda r: r.name)
    tm_last = int(records[0].get("LastUpdate", 0) or 0)
    cols = [c for c in COLUMNS if c[0] & detail]

    max_name = 10
    for r in rows:
        if r.last >= min_last_usage:
            max_name = max(max_name, len(r.name))
    count_text = f"Number of users: {len(rows)}"
    max_name = min(max_name, MAX_NAME_COLUMN_WIDTH)
    max_name = max(max_name, len(count_text))

    out = [f"Last Priority Update: {format_date(tm_last)}"]
    out.append(pad(None, max_name) + "".join(" " + pad(c[2], c[1], "center") for c in cols))
    out.append(pad("User Name", max_name) + "".join(" " + pad(c[3], c[1], "center") for c in cols))
    rule = pad(None, max_name, fill="-") + "".join(" " + "-" * c[1] for c in cols)
    out.append(rule)
    user_count = 0
    tot_wt, tot_acc = 0.0, 0.0
    hide_none = True
    for r in rows:
        if r.last < min_last_usage:
            continue
        if not r.is_group:
            user_count += 1
        elif hide_groups or (hide_none and not r.group_id):
            continue
        line = pad(r.name, max_name)
        for flag, width, _, _ in cols:
            if not (r.has & flag):
                cell = pad("n/d", width, "left") if r.is_group and flag & (D_QUOTAS | D_SORTKEY) \
                    else " " * width
            elif flag == D_PRIORITY:
                cell = fmt_float(width, 2, r.priority)
            elif flag == D_REALPRIO:
                cell = fmt_float(width, 2, r.priority / r.factor if r.factor > 0 else 0)
            elif flag == D_FACTOR:
                cell = fmt_float(width, 2, r.factor) if r.factor > 0 else " " * width
            elif flag == D_RESUSED:
                cell = fmt_float(width, 0, r.wt_res)
            elif flag == D_WTRESUSED:
                cell = fmt_float(width, 2, r.acc_usage / 3600.0)
            elif flag == D_USETIME1:
                cell = pad("" if r.begin <= 0 else format_date_year(r.begin), width, "left")
            elif flag == D_USETIME2:
                cell = pad("" if r.last <= 0 else format_date_year(r.last), width, "left")
            elif flag == D_USEDELTAT:
                delta = tm_last - r.last
                cell = pad("<now>" if delta <= 0 else format_time_nosecs(delta), width, "left")
            elif flag == D_REQUESTED:
                cell = fmt_float(width, 0, r.requested)
            elif flag == D_CEILING:
                cell = fmt_float(width, 2, r.ceiling) if r.ceiling > -1.0 else " " * width
            elif flag == D_FLOOR:
                cell = fmt_float(width, 2, r.floor) if r.floor > 0.0 else " " * width
            elif flag == D_SURPLUS:
                cell = pad("yes" if not r.group_id else "no", width)
            elif flag == D_EFFQUOTA:
                cell = fmt_float(width, 2, float(r.rec.get("EffectiveQuota", 0)))
            elif flag == D_CFGQUOTA:
                cell = fmt_float(width, 2, float(r.rec.get("ConfigQuota", 0)))
            elif flag == D_TREEQUOTA:
                cell = fmt_float(width, 2, float(r.rec.get("SubtreeQuota", 0)))
            else:
                cell = " " * width
            line += " " + cell
        out.append(line)
        if not r.is_group:
            tot_wt += r.wt_res
            tot_acc += r.acc_usage
    out.append(rule)
    foot = pad(f"Number of users: {user_count}", max_name)
    for flag, width, _, _ in cols:
        if flag == D_RESUSED:
            cell = fmt_float(width, 0, tot_wt)
        elif flag == D_WTRESUSED:
            cell = fmt_float(width, 2, tot_acc / 3600.0)
        elif flag == D_USETIME1:
            cell = " " * width
        elif flag == D_USETIME2:
            cell = pad("" if min_last_usage <= 0 else format_date_year(min_last_usage), width, "left")
        elif flag == D_USEDELTAT:
            cell = " " * width if min_last_usage <= 0 else pad(
                "<now>" if tm_last - min_last_usage <= 0 else format_time_nosecs(tm_last - min_last_usage),
                width, "left")
        else:
            cell = " " * width
        foot += " " + cell
    out.append(foot)
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- talking
def _negotiator(config, name: Optional[str], pool: Optional[str]) -> str:
    return locate_daemon("negotiator", name, pool, config)


def fetch_records(config, name=None, pool=None, from_collector=False) -> list[dict]:
    """The accounting records: GET_PRIORITY from the negotiator, or the collector's
    Accounting ads (``from_collector``)."""
    if from_collector:
        ads = CollectorClient(pool, config).query("Accounting")
        return [{k: ad.eval(k) for k in ad.keys()} for ad in ads]
    ad = NegotiatorClient(_negotiator(config, name, pool), config).priorities()
    return numbered_to_records({k: ad.eval(k) for k in ad.keys()})


def edit(config, option: str, user: Optional[str], value: Optional[str], name=None, pool=None) -> str:
    """Run one edit option; returns the line HTCondor prints.  Raises UsageError."""
    if option == "resetall":
        NegotiatorClient(_negotiator(config, name, pool), config).edit(N.RESET_ALL_USAGE)
        return "The accumulated usage was reset for all users"
    cmd, kind = _EDITS[option]
    if "@" not in (user or "") and option != "getreslist":
        raise UsageError("You must specify the full name of the submittor you wish\n"
                         "\tto update the priority of (user@uid.domain or user@full.host.name)")
    num = None
    if kind is not None:
        try:
            num = float(value) if kind == "double" else int(float(value))
        except (TypeError, ValueError):
            raise UsageError(f"-{option}: {value!r} is not a number") from None
        if option == "setfactor" and num < 1:
            raise UsageError("Priority factors must be greater than or equal to 1.")
    neg = NegotiatorClient(_negotiator(config, name, pool), config)  # after the arguments are checked
    if option == "getreslist":
        ad = neg.resource_list(user)
        return _reslist(user, {k: ad.eval(k) for k in ad.keys()})
    reply = neg.edit(cmd, user, num)
    if reply is not None and reply.get("ErrorCode", 0):
        raise UsageError("set priority factor failed: "
                         + str(reply.get("ErrorString") or f"error code {reply.get('ErrorCode')}"))
    messages = {
        "setprio": "The priority of {u} was set to {n:f}",
        "setfactor": "The priority factor of {u} was set to {n:f}",
        "setaccum": "The Accumulated Usage of {u} was set to {n:f}",
        "setbegin": "The Begin Usage Time of {u} was set to {n}",
        "setlast": "The Last Usage Time of {u} was set to {n}",
        "setceiling": "The ceiling of {u} was set to {n}",
        "setfloor": "The floor of {u} was set to {n}",
        "resetusage": "The accumulated usage of {u} was reset",
        "delete": "The accountant record named {u} was deleted",
    }
    return messages[option].format(u=user, n=num)


def _reslist(user: str, ad: dict) -> str:
    lines = [f"Resource list for {user}:", ""]
    fmt = "%-30s %12s %12s"
    lines.append(fmt % ("Resource Name", " Start Time", " Match Time"))
    lines.append(fmt % ("-------------", " ----------", " ----------"))
    now = int(time.time())
    i = 1
    while f"Name{i}" in ad:
        start = int(ad.get(f"StartTime{i}", 0) or 0)
        lines.append(fmt % (ad[f"Name{i}"], format_date(start), format_time_nosecs(now - start)))
        i += 1
    lines.append(fmt % ("-------------", " ------------", " ------------"))
    lines.append(f"Number of Resources Used: {i - 1}")
    return "\n".join(lines)


# --------------------------------------------------------------------------- main
def main(argv=None) -> int:
    """Entry point of ``condor_userprio``."""
    argv = sys.argv[1:] if argv is None else argv
    try:
        return _main(argv)
    except UsageError as exc:
        print(f"condor_userprio: {exc}", file=sys.stderr)
        return 1
    except (DaemonNotFound, ConfigError) as exc:
        print(f"condor_userprio: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"condor_userprio: failed to talk to the negotiator: {exc}", file=sys.stderr)
        return 1


def _main(argv: list[str]) -> int:
    detail = 0
    min_last = int(time.time()) - 86400
    pool = name = None
    long_out = json_out = from_collector = False
    users: list[str] = []
    action = None
    i = 0

    def need(n: int) -> list[str]:
        args = argv[i + 1:i + 1 + n]
        if len(args) < n:
            raise UsageError(f"{argv[i]} requires {n} argument(s)\n{USAGE}")
        return args

    while i < len(argv):
        a = argv[i]
        matched_edit = None
        for opt, (_, kind) in _EDITS.items():
            if is_dash_arg_prefix(a, opt, 3 if opt == "delete" else (6 if opt == "getreslist" else len(opt))):
                matched_edit = (opt, kind)
                break
        if matched_edit:
            opt, kind = matched_edit
            n = 1 if kind is None else 2
            args = need(n)
            action = (opt, args[0], args[1] if n == 2 else None)
            i += n + 1
            continue
        if is_dash_arg_prefix(a, "resetall", -1) or a == "-resetall":
            action = ("resetall", None, None)
        elif is_dash_arg_prefix(a, "allusers", 8):
            min_last = -1
        elif is_dash_arg_prefix(a, "all", 3):
            detail |= D_ALL
        elif is_dash_arg_prefix(a, "most", 2):
            detail |= D_MOST
        elif is_dash_arg_prefix(a, "usage", 2):
            detail |= D_USAGE | D_USETIME1 | D_USETIME2
        elif is_dash_arg_prefix(a, "priority", 4):
            detail |= D_PRIOS
        elif is_dash_arg_prefix(a, "activefrom", 3):
            m, d, y = need(3)
            try:
                min_last = calendar.timegm((int(y), int(m), int(d), 0, 0, 0)) + time.timezone
            except ValueError:
                raise UsageError(f"-activefrom: bad date {m} {d} {y}") from None
            i += 3
        elif is_dash_arg_prefix(a, "long", 1):
            long_out = True
        elif is_dash_arg_prefix(a, "json", 2):
            json_out = True
        elif is_dash_arg_prefix(a, "pool", 1):
            pool = need(1)[0]
            i += 1
        elif is_dash_arg_prefix(a, "name", 4):
            name = need(1)[0]
            i += 1
        elif is_dash_arg_prefix(a, "collector", 3):
            from_collector = True
        elif is_dash_arg_prefix(a, "negotiator", 3):
            from_collector = False
        elif is_dash_arg_prefix(a, "help", 1):
            print(USAGE, end="")
            return 0
        elif a[:1].isalpha() or a == "<none>":
            users.append(a)
        else:
            raise UsageError(f"unknown option {a}\n{USAGE}")
        i += 1

    config = get_config("TOOL")
    if action is not None:
        print(edit(config, action[0], action[1], action[2], name, pool))
        return 0
    records = fetch_records(config, name, pool, from_collector)
    if users:
        min_last = -1
        full = {u for u in users if "@" in u or u == "<none>"}
        short = {u for u in users if u not in full}
        records = [r for r in records if r.get("Name") in full
                   or str(r.get("Name", "")).split("@")[0] in short]
    if long_out or json_out:
        ads = []
        for r in records:
            ad = C.ClassAd({"MyType": "Accounting", **{k: v for k, v in r.items()}})
            ads.append(ad)
        if json_out:
            sys.stdout.write(format_json(ads))
        else:
            for ad in ads:
                sys.stdout.write(format_long(ad))
        return 0
    sys.stdout.write(render_table(records, detail, min_last, int(time.time())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
