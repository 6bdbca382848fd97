"""``condor_history``: jobs that have left the queue (src/condor_tools/history.cpp; manual
docs/man-pages/condor_history.rst).

    condor_history [-name NAME] [-pool HOST] [-constraint EXPR] [-limit N | -match N]
                   [-since JOBID|EXPR] [-scanlimit N] [-forwards] [-file FILE] [-long | -json | -xml
                   | -af[:lhtrV,ng] EXPR... | -format FMT EXPR] [-attributes A,B]
                   [cluster | cluster.proc | owner]...

pyhtc's schedd keeps its history in its own database, so the history is asked of the
schedd with QUERY_SCHEDD_HISTORY (history.cpp ``readHistoryRemote``: ``Requirements``,
``NumJobMatches``, ``StreamResults``, ``Projection``, ``Since``); HTCondor reads a local
HISTORY file when the schedd is local; ``-file FILE`` reads such a file here.  The default output is history.cpp's
``defaultJob_PrintFormat`` table: ``ID OWNER SUBMITTED RUN_TIME ST COMPLETED CMD``.  Exit status 0, 1 on failure.
"""
from __future__ import annotations

import sys
from typing import Optional

from pyhtc.cedar.wire_ad import to_classad
from pyhtc.client import CollectorClient, DaemonNotFound, locate_daemon
from pyhtc.client.schedd import ScheddClient, ScheddError
from pyhtc.config import get_config
from pyhtc.tools.q import config_errors_exit, duration, qdate
from pyhtc.classad.xmlsink import XML_FOOTER, XML_HEADER, format_xml_ad
from pyhtc.tools.common import (Column, PrintMask, UsageError, _sorted_attrs, autoformat_mask,
                                format_json, format_long, is_dash_arg_colon_prefix,
                                is_dash_arg_prefix, parse_constraint)

STATUS_CHAR = {0: "U", 1: "I", 2: "R", 3: "X", 4: "C", 5: "H", 6: ">", 7: "S"}
#: the projection of the default table (the attributes its columns use)
SHORT_ATTRS = ["ClusterId", "ProcId", "RemoteWallClockTime", "RemoteUserCpu", "QDate",
               "CompletionDate", "JobStatus", "Owner", "Cmd", "Args", "Arguments"]


def _qdate(t) -> str:
    """QDATE as condor_q prints it; "" when not a time (or 0)."""
    return qdate(t) if t else ""


_time = duration  # ``%T``: ``D+HH:MM:SS``, as condor_q


def _num(ad, name):
    v = ad.get(name)
    return v if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def table(ads) -> str:
    """The default table (history.cpp ``defaultJob_PrintFormat``): ``ID OWNER SUBMITTED
    RUN_TIME ST COMPLETED CMD``; the ID column (AUTO) grows to the widest job id."""
    from pyhtc.tools.q import job_description
    ids = ["%d.%d" % (_num(a, "ClusterId") or 0, _num(a, "ProcId") or 0) for a in ads]
    w = max([len(" ID         ")] + [len(i) for i in ids])
    out = ["%-*s %-14s %-11s %-12s %-2s %-11s %s\n" % (w, " ID         ", "OWNER", "  SUBMITTED",
                                                      "  RUN_TIME  ", "ST", "  COMPLETED", "CMD")]
    for jid, a in zip(ids, ads):
        owner = a.get("Owner") if isinstance(a.get("Owner"), str) else "??"
        run = _num(a, "RemoteWallClockTime")
        if run is None:
            run = _num(a, "RemoteUserCpu") or 0
        out.append("%-*s %-14s %11s %12s %-2s %11s %s\n" % (
            w, jid, owner, _qdate(a.get("QDate")) or "??", _time(run),
            STATUS_CHAR.get(_num(a, "JobStatus"), ""), _qdate(a.get("CompletionDate")),
            job_description(a)))
    return "".join(out)


def read_history_file(path: str):
    """The job ads of an HTCondor history file, newest first.  The file holds ads in old
    ClassAd syntax, each followed by a banner line ``*** Offset = N ClusterId = C ProcId = P
    Owner = "u" CompletionDate = T ...`` (src/condor_utils/classadHistory.cpp).  Raises
    OSError if unreadable, ValueError naming the line of an ad that does not parse."""
    from pyhtc import classad as C
    ads, chunk, start = [], [], 1
    with open(path, encoding="utf-8", errors="replace") as fh:
        for lineno, line in enumerate(fh, 1):
            if line.startswith("***"):
                if any(x.strip() for x in chunk):
                    try:
                        ads.append(C.parseOne("".join(chunk), C.ParserType.Old))
                    except Exception as exc:
                        raise ValueError(f"{path}:{start}: malformed job ad: {exc}") from None
                chunk, start = [], lineno + 1
            else:
                chunk.append(line)
    return ads[::-1]


@config_errors_exit
def main(argv: Optional[list[str]] = None) -> int:
    """Entry point; returns the exit status."""
    argv = sys.argv[1:] if argv is None else argv
    name = pool = since = hfile = None
    limit = -1
    scan_limit = None
    forwards = False
    style = "table"
    attrs: list[str] = []
    custom = PrintMask()
    ors: list[str] = []
    ands: list[str] = []
    i = 0
    try:
        while i < len(argv):
            a = argv[i]

            def need(n=1):
                if i + n >= len(argv):
                    raise UsageError(f"Error: Argument {a} requires another argument")
                return argv[i + 1:i + 1 + n]
            if not a.startswith("-"):
                head, dot, tail = a.partition(".")
                if head.isdigit() and not dot:
                    ors.append(f"ClusterId == {head}")
                elif head.isdigit() and tail.isdigit():
                    ors.append(f"(ClusterId == {head} && ProcId == {tail})")
                else:
                    ors.append(f'Owner == "{a}"')
            elif is_dash_arg_prefix(a, "help", 1):
                sys.stdout.write(__doc__.split("\n\n")[1] + "\n")
                return 0
            elif is_dash_arg_prefix(a, "name", 1):
                name = need()[0]
                i += 1
            elif is_dash_arg_prefix(a, "pool", 1):
                pool = need()[0]
                i += 1
            elif is_dash_arg_prefix(a, "constraint", 1):
                c = need()[0]
                try:
                    parse_constraint(c)
                except Exception:
                    raise UsageError(f"Error:  could not parse constraint {c}") from None
                ands.append(c)
                i += 1
            elif is_dash_arg_prefix(a, "limit", 3) or is_dash_arg_prefix(a, "match", 1) \
                    or is_dash_arg_prefix(a, "number", 3):
                v = need()[0]
                if not v.isdigit():
                    raise UsageError(f"Error: {a} requires a number")
                limit = int(v)
                i += 1
            elif is_dash_arg_prefix(a, "scanlimit", 4):
                v = need()[0]
                if not v.isdigit():
                    raise UsageError(f"Error: {a} requires a number")
                scan_limit = int(v)
                i += 1
            elif is_dash_arg_prefix(a, "since", 4):
                v = need()[0]
                head, dot, tail = v.partition(".")
                if head.isdigit() and not dot:
                    since = f"ClusterId == {head}"
                elif head.isdigit() and tail.isdigit():
                    since = f"ClusterId == {head} && ProcId == {tail}"
                else:
                    try:
                        parse_constraint(v)
                    except Exception:
                        raise UsageError(f"Error: invalid -since argument {v}") from None
                    since = v
                i += 1
            elif is_dash_arg_prefix(a, "file", 2):
                hfile = need()[0]
                i += 1
            elif is_dash_arg_prefix(a, "forwards", 4):
                forwards = True
            elif is_dash_arg_prefix(a, "backwards", 4):
                forwards = False
            elif is_dash_arg_colon_prefix(a, "long", 1)[0]:
                style = "long"
            elif is_dash_arg_prefix(a, "json", 2):
                style = "json"
            elif is_dash_arg_prefix(a, "xml", 3):
                style = "xml"
            elif is_dash_arg_prefix(a, "attributes", 2):
                attrs += [s.strip() for s in need()[0].split(",") if s.strip()]
                i += 1
            elif is_dash_arg_prefix(a, "format", 1):
                fmt, expr = need(2)
                try:
                    parse_constraint(expr)
                except Exception:
                    raise UsageError(f"Error: invalid expression: {expr}") from None
                custom.add(Column(expr=expr, printf=fmt))
                style = "custom"
                i += 2
            elif is_dash_arg_colon_prefix(a, "autoformat", 5)[0] or is_dash_arg_colon_prefix(a, "af", 2)[0]:
                opts = a.split(":", 1)[1] if ":" in a else ""
                exprs = []
                while i + 1 < len(argv) and not argv[i + 1].startswith("-"):
                    i += 1
                    exprs.append(argv[i])
                if not exprs:
                    raise UsageError(f"Error: Argument {a} requires at least one attribute parameter")
                try:
                    autoformat_mask(exprs, opts, custom)
                except ValueError as exc:
                    raise UsageError(f"Error: {exc}") from None
                style = "custom"
            else:
                raise UsageError(f"Error: Unknown argument {a}")
            i += 1
    except UsageError as exc:
        sys.stderr.write(f"{exc}\n")
        return 1
    parts = []
    if ors:
        parts.append(" || ".join(ors))
    parts += ands
    constraint = None
    if parts:
        constraint = parts[0] if len(parts) == 1 else " && ".join(f"({p})" for p in parts)
    projection = attrs if style in ("long", "json", "xml") else (SHORT_ATTRS if style == "table" else [])
    if hfile is not None:
        return _show_file(hfile, constraint, since, limit, forwards, style, attrs, custom)
    cfg = get_config()
    try:
        if name or pool:
            addr = CollectorClient(pool, cfg).locate("schedd", name).get("MyAddress")
        else:
            addr = locate_daemon("schedd", config=cfg)
    except (DaemonNotFound, OSError):
        sys.stderr.write(f"Unable to locate remote schedd (name={name or ''}, pool={pool or ''}).\n")
        return 1
    client = ScheddClient(addr)
    out = sys.stdout
    count = 0
    ads = []
    try:
        for w in client.history_iter(constraint, projection, limit, since, tool=True,
                                     scan_limit=scan_limit, forwards=forwards):
            ad = to_classad(w)
            count += 1
            if style == "long":
                out.write(format_long(ad, attrs or None))
            elif style == "custom":
                out.write(custom.display(custom.render(ad)))
            else:
                ads.append(ad)
            out.flush()
    except ScheddError as exc:
        sys.stderr.write(f"{exc}\n")
        return 1
    except Exception as exc:
        sys.stderr.write(f"Failed to receive remote ad.\n{exc}\n")
        return 1
    if style == "json":
        out.write(format_json(ads, attrs or None) or "[\n]\n")
    elif style == "xml":
        out.write(format_history_xml(ads, attrs))
    elif style == "table":
        out.write(table(ads))
    return 0


def format_history_xml(ads: list, attrs: list) -> str:
    """``-xml`` (history.cpp printHeader/printJob/printFooter): the XML header and footer
    each followed by a blank line, every ad (attributes sorted) followed by one too."""
    body = "".join(format_xml_ad(_sorted_attrs(ad, attrs or None)) + "\n" for ad in ads)
    return XML_HEADER + "\n" + body + XML_FOOTER + "\n"


def _show_file(path, constraint, since, limit, forwards, style, attrs, custom) -> int:
    """``-file``: read a history file directly (history.cpp ``readHistoryFromFiles``)."""
    from pyhtc.tools.common import eval_text
    try:
        ads = read_history_file(path)
    except OSError as exc:
        sys.stderr.write(f"Error: unable to open history file {path}: {exc.strerror}\n")
        return 1
    except ValueError as exc:
        sys.stderr.write(f"{exc}\n")
        return 1
    if forwards:
        ads = ads[::-1]
    out = []
    for ad in ads:
        if since and eval_text(since, ad) is True:
            break
        if constraint and eval_text(constraint, ad) is not True:
            continue
        out.append(ad)
        if 0 < limit <= len(out):
            break
    if style == "long":
        sys.stdout.write("".join(format_long(ad, attrs or None) for ad in out))
    elif style == "json":
        sys.stdout.write(format_json(out, attrs or None) or "[\n]\n")
    elif style == "xml":
        sys.stdout.write(format_history_xml(out, attrs))
    elif style == "custom":
        sys.stdout.write("".join(custom.display(custom.render(ad)) for ad in out))
    else:
        sys.stdout.write(table(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
