"""The ``Submit`` object (mirrors ``htcondor2.Submit``) and the job factory.

A submit description is run statement by statement (src/condor_utils/
submit_utils.cpp, condor_submit.V6/submit.cpp): assignments update the macro
table, ``if``/``else`` choose lines, and every ``queue`` statement makes
procs of the same cluster from the macro values current at that point.

``htcondor2.Submit(text)`` keeps only what precedes the FIRST queue statement
and that statement's arguments (later statements are ignored when submitting
through the bindings); ``condor_submit`` runs all of them.  Both are offered:
:meth:`Submit.jobs` follows the bindings, :func:`run_description` the tool.
"""
from __future__ import annotations

import os
import re
import time
from collections.abc import MutableMapping
from dataclasses import dataclass, field

from .jobad import JobContext, SubmitError, build_job_ad
from .keywords import PRUNABLE_KEYS
from .macros import MacroError, MacroSet, expand
from .parser import Assign, Directive, Queue, SubmitSyntaxError, parse, where
from .proctemplate import PER_PROC, TemplateAds, make_template
from .queue import QueueArgs, QueueError, load_items, parse_queue_args

__all__ = ["Submit", "SubmitResult", "ClusterResult", "run_description", "SubmitError", "SubmitSyntaxError",
           "QueueError", "LIVE_VARS"]

# per-proc ("live") submit variables; names are case-insensitive
LIVE_VARS = ("cluster", "clusterid", "process", "procid", "step", "itemindex", "row", "node", "item", "jobid")

#: a queue statement making at least this many procs tries a template (proctemplate.py)
TEMPLATE_MIN_PROCS = 4


def _os_release() -> tuple[str, str, str]:
    """(OPSYSANDVER, OPSYSMAJORVER, OPSYSVER) of this host, as HTCondor derives them from /etc/os-release."""
    info = {}
    try:
        with open("/etc/os-release", encoding="utf-8") as fh:
            for line in fh:
                k, _, v = line.strip().partition("=")
                info[k] = v.strip('"')
    except OSError:
        return "LINUX", "0", "0"
    names = {"rhel": "RedHat", "centos": "CentOS", "almalinux": "AlmaLinux", "rocky": "Rocky",
             "ubuntu": "Ubuntu", "debian": "Debian", "fedora": "Fedora", "opensuse-leap": "openSUSE",
             "sles": "SLES", "amzn": "AmazonLinux"}
    ident = info.get("ID", "linux").lower()
    name = names.get(ident, ident.capitalize())
    ver = info.get("VERSION_ID", "0")
    major = ver.split(".")[0] or "0"
    minor = ver.split(".")[1] if "." in ver else "0"
    try:
        opsysver = str(int(major) * 100 + int(minor))
    except ValueError:
        opsysver = "0"
    return f"{name}{major}", major, opsysver


_OSAV, _OSMAJ, _OSVER = _os_release()

# SubmitMacroDefaults (submit_utils.cpp): names every submit description can use
_DEFAULT_MACROS = {
    "arch": "X86_64",
    "opsys": "LINUX",
    "opsysandver": _OSAV,
    "opsysmajorver": _OSMAJ,
    "opsysver": _OSVER,
    "islinux": "1",
    "iswindows": "0",
    "jobid": "$(ClusterId).$(ProcId)",
    "joblistid": "$(ClusterId)",
    "request_cpus": "$(RequestCPUs)",
    "request_memory": "$(RequestMemory)",
    "vm_memory": "$(Request_Memory)",
    "vm_vcpus": "$(Request_CPUs)",
}


@dataclass
class ClusterResult:
    """One cluster: its common ad, per-proc differences, full proc ads, factory info."""
    cluster_id: int
    cluster_ad: dict[str, str]
    # sequences (a list, or for many procs made from one template ad a lazy Sequence,
    # proctemplate.TemplateAds / TemplateDiffs: computed on access, never all held)
    proc_ads: list[dict[str, str]]          # only what differs per proc (+ ProcId, JobStatus)
    full_ads: list[dict[str, str]]          # cluster attrs overlaid with each proc's
    # late materialization: {"num": max_materialize sent with the digest, "procs": total procs,
    # "digest": submit digest text, "items": item rows or None}
    factory: dict | None = None


@dataclass
class SubmitResult:
    """What a submission produced: clusters in order."""
    clusters: list[ClusterResult] = field(default_factory=list)

    @property
    def num_procs(self) -> int:
        return sum(len(c.full_ads) if c.factory is None else c.factory["procs"] for c in self.clusters)


def _is_live(name: str, qvars: set[str]) -> bool:
    low = name.lower()
    return low in LIVE_VARS or low in qvars


class _Runner:
    """Executes statements against a MacroSet; collects procs into one cluster."""

    def __init__(self, macros: MacroSet, ctx: JobContext, source: str | None, cluster_id: int,
                 overrides: dict[str, str] | None = None):
        self.macros = macros
        self.ctx = ctx
        self.source = source
        self.cluster_id = cluster_id
        self.loop_vars: set[str] = set()
        self.on_queue = None  # set to capture the first queue statement instead of running it
        self.first_proc = 0
        self._known: set[str] | None = None
        for k, v in (overrides or {}).items():
            # command-line name=value: as if at the top of the submit file
            self.macros.set(k, v)
        t = time.localtime(ctx.submit_time)
        self.time_macros = {"year": time.strftime("%Y", t), "month": time.strftime("%m", t),
                            "day": time.strftime("%d", t), "submit_time": str(ctx.submit_time),
                            "submit_file": source or ""}
        self.full_ads: list[dict[str, str]] = []
        self.factory = None
        self.cond_stack: list[list[bool]] = []   # [active, taken]

    # -- expansion ------------------------------------------------------------
    def lookup_fn(self, live: dict[str, str]):
        """Lookup order: queue loop variables, then the submit file's (and command
        line's) macros, then the per-proc defaults (Process, Step, ...), then the
        fixed defaults -- as SubmitHash's macro set with its defaults table."""
        loop = self.loop_vars

        def lookup(name: str):
            low = name.lower()
            if low in loop and low in live:
                return live[low]
            v = self.macros.get(name)
            if v is not None:
                return v
            if low in live:
                return live[low]
            if low in self.time_macros:
                return self.time_macros[low]
            return _DEFAULT_MACROS.get(low)
        return lookup

    def _parse_time_default(self, name: str):
        """Value of a default macro while the file is parsed (Process 0, Step 0, ...)."""
        unlive = {"cluster": str(self.cluster_id), "clusterid": str(self.cluster_id), "process": "0",
                  "procid": "0", "step": "0", "row": "0", "itemindex": "0", "node": ""}
        low = name.lower()
        if low in unlive:
            return unlive[low]
        return self.time_macros.get(low, _DEFAULT_MACROS.get(low))

    def expand(self, text: str, live: dict[str, str], line: int | None = None) -> str:
        try:
            return expand(text, self.lookup_fn(live))
        except MacroError as e:
            raise SubmitSyntaxError(f"{where(self.source, line or 0)}: {e}") from None

    # -- statements ------------------------------------------------------------
    def active(self) -> bool:
        return all(f[0] for f in self.cond_stack)

    def run(self, statements, first_queue_only=False) -> None:
        """Run every statement; raises at the end if an ``if`` was left open."""
        stopped = self._run(statements, first_queue_only)
        if self.cond_stack and not stopped:
            raise SubmitSyntaxError(f"{where(self.source, len(statements))}: if without endif")

    def _run(self, statements, first_queue_only=False) -> bool:
        """Run statements; returns True when stopped after the first queue statement."""
        base_live = {"cluster": str(self.cluster_id), "clusterid": str(self.cluster_id)}
        for st in statements:
            if isinstance(st, Directive):
                self._directive(st, base_live)
                continue
            if not self.active():
                continue
            if isinstance(st, Assign):
                self.macros.set(st.key, st.value, fallback=self._parse_time_default)
            elif isinstance(st, Queue):
                if self.on_queue is not None:
                    self.on_queue(st)
                    return True
                if st.error:
                    raise QueueError(f"invalid Queue statement, errmsg={st.error}")
                self.queue(st.args, st.items, st.line)
                if first_queue_only:
                    return True
                if self.factory is not None and st is not statements[-1]:
                    # late materialization takes exactly one queue statement (condor_submit.V6/submit.cpp)
                    raise SubmitSyntaxError(f"{where(self.source, st.line)}: Extra data found after queue statement")
        return False

    def _directive(self, st: Directive, live) -> None:
        k = st.kind
        if k == "if":
            parent = self.active()
            val = parent and self._cond(st.arg, live, st.line)
            self.cond_stack.append([val, val])
        elif k == "elif":
            if not self.cond_stack:
                raise SubmitSyntaxError(f"{where(self.source, st.line)}: elif without if")
            top = self.cond_stack[-1]
            parent = all(f[0] for f in self.cond_stack[:-1])
            if top[1]:
                top[0] = False
            else:
                top[0] = parent and self._cond(st.arg, live, st.line)
                top[1] = top[0]
        elif k == "else":
            if not self.cond_stack:
                raise SubmitSyntaxError(f"{where(self.source, st.line)}: else without if")
            top = self.cond_stack[-1]
            top[0] = not top[1]
            top[1] = True
        elif k == "endif":
            if not self.cond_stack:
                raise SubmitSyntaxError(f"{where(self.source, st.line)}: endif without if")
            self.cond_stack.pop()
        elif not self.active():
            return
        elif k == "error":
            raise SubmitSyntaxError(f"{where(self.source, st.line)}: {self.expand(st.arg, live, st.line)}")
        elif k == "warning":
            import sys
            print(f"WARNING: {self.expand(st.arg, live, st.line)}", file=sys.stderr)
        elif k == "include":
            # "include : file" or "include : command args |" (its output is the text)
            path = self.expand(st.arg, live, st.line).strip()
            if path.endswith("|"):
                from .queue import _run_item_script
                try:
                    text = "\n".join(_run_item_script(path[:-1].strip(), self.ctx.cwd))
                except QueueError as e:
                    raise SubmitSyntaxError(f"{where(self.source, st.line)}: include {e}".replace(
                        "invalid Queue statement: ", "")) from None
            else:
                full = path if os.path.isabs(path) else os.path.join(self.ctx.cwd, path)
                try:
                    with open(full, encoding="utf-8", errors="surrogateescape") as fh:
                        text = fh.read()
                except OSError as e:
                    raise SubmitSyntaxError(
                        f"{where(self.source, st.line)}: cannot include {path}: {e.strerror}") from None
            self._run(parse(text, path))

    def _cond(self, arg: str, live, line) -> bool:
        """``if`` conditions: ``defined X``, ``version >= x.y``, or a boolean / number."""
        m = re.fullmatch(r"(?i)(!?)\s*defined\s+(\S+)", arg.strip())
        if m:
            name = self.expand(m.group(2), live, line)
            found = self.lookup_fn(live)(name)
            res = found is not None and found != ""
            return not res if m.group(1) else res
        m = re.fullmatch(r"(?i)version\s*(>=|<=|==|!=|>|<)\s*([\d.]+)", arg.strip())
        if m:
            ours = (25, 14, 1)
            want = tuple(int(x) for x in m.group(2).split("."))
            a, b = ours[:len(want)], want
            return {">=": a >= b, "<=": a <= b, "==": a == b, "!=": a != b, ">": a > b, "<": a < b}[m.group(1)]
        val = self.expand(arg, live, line).strip()
        neg = val.startswith("!")
        if neg:
            val = val[1:].strip()
        low = val.lower()
        if low in ("true", "yes", "t", "y"):
            res = True
        elif low in ("false", "no", "f", "n", ""):
            res = False
        else:
            try:
                res = float(val) != 0
            except ValueError:
                raise SubmitSyntaxError(f"{where(self.source, line)}: cannot evaluate if condition: {arg}") from None
        return not res if neg else res

    # -- queue ---------------------------------------------------------------------
    def queue(self, args: str, items, line: int, rows=None) -> None:
        """Make the procs of one queue statement (``rows``: given (QueueArgs, item rows) instead)."""
        live0 = {"cluster": str(self.cluster_id), "clusterid": str(self.cluster_id)}
        if rows is not None:
            qa, rows = rows
        else:
            try:
                qa = parse_queue_args(self.expand(args, live0, line), items)
                rows = load_items(qa, self.ctx.cwd)
            except QueueError as e:
                raise QueueError(f"{where(self.source, line)}: {e}") from None
        qvars = {v.lower() for v in (qa.vars or (["Item"] if qa.mode else []))}
        self.loop_vars = qvars
        if rows is None:
            rows = [None]
        self._known = self._known_names()
        limit = self._factory_limit()
        if limit is not None:
            self._make_factory(qa, rows, qvars, line, limit)
            return
        def live_of(n: int, base: int = self.first_proc + len(self.full_ads)) -> dict:
            idx, step = divmod(n, qa.count)
            proc = base + n
            live = dict(live0)
            live.update({"process": str(proc), "procid": str(proc), "step": str(step),
                         "itemindex": str(idx), "row": str(idx), "node": "",
                         "jobid": f"{self.cluster_id}.{proc}"})
            row = rows[idx]
            if row is None:
                live["item"] = ""
            else:
                for k, v in row.items():
                    live[k.lower()] = v
            return live

        total = len(rows) * qa.count
        if not self.full_ads and total >= TEMPLATE_MIN_PROCS:
            # many procs: one template ad with the live values substituted, when that is
            # provably what building each ad would give (proctemplate.py)
            item_names = [k.lower() for k in (rows[0] or {})] if rows[0] is not None else ["item"]
            ads = make_template([v for _, v in self.macros.items()], list(PER_PROC) + item_names, total,
                                live_of, lambda live, proc, trace: self.build(live, proc, line, trace))
            if ads is not None:
                self.full_ads = ads
                return
        for n in range(total):
            live = live_of(n)
            self.full_ads.append(self.build(live, int(live["process"]), line))

    def _factory_limit(self) -> int | None:
        """SubmitHash::want_factory_submit: max_materialize (or "unlimited" when only
        max_idle is given) for late materialization, None for a plain submit."""
        look = self.lookup_fn({"cluster": str(self.cluster_id), "clusterid": str(self.cluster_id)})

        def as_long(*names):
            for n in names:
                v = look(n)
                if v is not None:
                    v = self.expand(v, {}).strip()
                    if re.fullmatch(r"[+-]?\d+", v):
                        return int(v)
            return None
        limit = as_long("max_materialize", "JobMaterializeLimit")
        if limit is not None:
            return limit
        if as_long("max_idle", "JobMaterializeMaxIdle", "materialize_max_idle") is not None:
            return 2 ** 31 - 1
        return None

    def _known_names(self) -> set[str]:
        """Names a lookup can resolve apart from per-proc ones (the macros do not change
        while one queue statement makes its procs)."""
        return self.macros.lower_names() | set(self.time_macros) | set(_DEFAULT_MACROS)

    def build(self, live: dict[str, str], proc: int, line: int, trace=None) -> dict[str, str]:
        """The full job ad of one proc.  ``trace(command, names looked up, value)``, when
        given, is told of every submit command looked up while building (proctemplate.py)."""
        lookup = self.lookup_fn(live)
        known = self._known if self._known is not None else self._known_names()

        def get(name):
            if name.lower() not in known and name.lower() not in live:
                return None  # fast path: most commands are not in a given submit file
            if trace is not None:
                used: set = set()

                def traced(n):
                    used.add(n.lower())
                    return lookup(n)
                v = traced(name)
                try:
                    out = expand(v, traced) if v is not None else None
                except MacroError as e:
                    raise SubmitError(str(e)) from None
                trace(name, used, out)
                return out
            v = lookup(name)
            if v is None:
                return None
            try:
                return expand(v, lookup)
            except MacroError as e:
                raise SubmitError(str(e)) from None

        keys = [k for k, _ in self.macros.items()]
        user_attrs = []
        seen = set()
        for k in keys:
            name = k[3:] if k.lower().startswith("my.") else k[1:] if k.startswith("+") else None
            if name is not None and name.lower() not in seen:
                seen.add(name.lower())
                user_attrs.append((name, get(k) or ""))
        try:
            return build_job_ad(get, self.ctx, self.cluster_id, proc, user_attrs, keys)
        except SubmitError as e:
            raise SubmitError(f"{where(self.source, line)}: {e}") from None

    def _make_factory(self, qa: QueueArgs, rows, qvars, line, limit: int) -> None:
        """Late materialization: the cluster ad (from proc 0) and the submit digest
        (SubmitHash::make_digest + append_queue_statement)."""
        live = {"cluster": str(self.cluster_id), "clusterid": str(self.cluster_id), "process": "0",
                "procid": "0", "step": "0", "itemindex": "0", "row": "0", "item": "",
                "jobid": f"{self.cluster_id}.0"}
        if rows and rows[0] is not None:
            for k, v in rows[0].items():
                live[k.lower()] = v
        ad = self.build(live, 0, line)
        lookup = self.lookup_fn({})
        keep = lambda n: _is_live(n, qvars)  # noqa: E731
        live_re = re.compile(r"\$\(\s*(" + "|".join(LIVE_VARS + tuple(qvars)) + r")\s*[:)]", re.IGNORECASE)
        entries = []
        # SubmitHash::make_digest: every key whose value still depends on per-proc
        # variables, plus every key that is not a prunable (table) command
        omit = {"getenv", "get_env", "requirements", "on_evict_check", "transformonevict"}
        for k, raw in self.macros.items() + [("FACTORY.Iwd", self.ctx.cwd)]:
            low = k.lower()
            if low in omit or low in qvars:
                continue
            try:
                partial = expand(raw, lookup, keep=keep)
            except MacroError:
                continue
            pending = bool(live_re.search(partial))
            if not pending and (low in PRUNABLE_KEYS or low.startswith("my.")):
                continue
            if low == "initialdir" and partial and "$$(" not in partial and "://" not in partial:
                partial = re.sub(r"/+", "/", partial if partial.startswith("/") else f"/{self.ctx.cwd}/{partial}")
            entries.append((k, partial))
        entries.sort(key=lambda kv: kv[0].lower())
        lines = ["FACTORY.Requirements=MY.Requirements"] + [f"{k}={v}" for k, v in entries]
        names = qa.vars or ["Item"]
        lines += [f"{n}=" for n in names]
        has_items = bool(rows) and rows[0] is not None
        total = qa.count * (len(rows) if has_items else 1)
        qline = "Queue " + (f"{qa.count} " if qa.count else "")
        if qa.vars:
            qline += ",".join(qa.vars) + " "
        if has_items:
            qline += "from <"  # the items travel separately (send_Itemdata)
        digest = "\n".join(lines) + "\n\n" + qline + "\n"
        n = max(min(limit if limit > 0 else 2 ** 31 - 1, total), 1)
        self.factory_items = [[r[v] for v in names] for r in rows] if has_items else None
        ad.pop("ProcId", None)
        self.factory = {"num": n, "procs": total, "digest": digest, "ad": ad, "items": self.factory_items}

    def result(self) -> ClusterResult:
        if self.factory is not None:
            ad = dict(self.factory["ad"])
            ad.pop("JobStatus", None)
            fac = {k: self.factory[k] for k in ("num", "procs", "digest", "items")}
            return ClusterResult(self.cluster_id, ad, [], [], fac)
        return _split(self.cluster_id, self.full_ads)


def _split(cluster_id: int, full_ads: list[dict[str, str]]) -> ClusterResult:
    """Cluster ad = proc 0's attributes; each proc ad holds what differs from it (computed
    on access when the ads come from a template)."""
    if not full_ads:
        return ClusterResult(cluster_id, {}, [], [])
    first = full_ads[0]
    cluster_ad = {k: v for k, v in first.items() if k not in ("ProcId", "JobStatus")}
    if isinstance(full_ads, TemplateAds):
        return ClusterResult(cluster_id, cluster_ad, full_ads.diffs(cluster_ad), full_ads)
    procs = []
    for ad in full_ads:
        diff = {"ProcId": ad["ProcId"], "JobStatus": ad["JobStatus"]}
        for k, v in ad.items():
            if k not in diff and cluster_ad.get(k) != v:
                diff[k] = v
        procs.append(diff)
    return ClusterResult(cluster_id, cluster_ad, procs, full_ads)


def run_description(text: str, source: str | None = None, cwd: str | None = None, submit_time: int | None = None,
                    submit_method: int = 0, overrides: dict[str, str] | None = None,
                    queue_override: str | None = None, append: list[str] | None = None,
                    cluster_id: int = 1, first_queue_only: bool = False) -> SubmitResult:
    """Run a whole submit description as condor_submit does (every queue statement).

    ``overrides`` are ``name=value`` settings from the command line (they win
    over the file); ``append`` lines are parsed just before each queue
    statement (``condor_submit -append``); ``queue_override`` is the
    ``-queue`` argument, used when the file has no queue statement (an error
    otherwise).  A file without any queue statement makes one job.
    Raises SubmitSyntaxError, QueueError or SubmitError.
    """
    statements = parse(text, source)
    has_queue = any(isinstance(s, Queue) for s in statements)
    if queue_override is not None and has_queue:
        raise SubmitSyntaxError("-queue argument conflicts with queue statement in submit file")
    if not has_queue:
        # no queue statement: one job (or the -queue arguments), as condor_submit does
        q = parse("queue " + (queue_override or ""), "<-queue>")[0]
        q.line = len(text.splitlines()) + 1
        statements.append(q)
    if append:
        # -append lines are parsed just before each queue statement (condor_submit.V6/submit.cpp)
        extra = parse("\n".join(append), "<-append>")
        merged = []
        for st in statements:
            if isinstance(st, Queue):
                merged.extend(extra)
            merged.append(st)
        statements = merged
    ctx = JobContext(cwd or os.getcwd(), submit_time if submit_time is not None else int(time.time()),
                     submit_method)
    runner = _Runner(MacroSet(), ctx, source, cluster_id, overrides)
    runner.run(statements, first_queue_only=first_queue_only)
    res = runner.result()
    return SubmitResult([res])


class Submit(MutableMapping):
    """A submit description: a mapping of commands plus one queue statement.

    Mirrors ``htcondor2.Submit``: construct from text (``Submit(text)``),
    from a dict, or from keyword arguments.  Keys are command names (case
    preserved, lookups ignore case); values are the raw text.  Only commands
    before the first ``queue`` statement are kept (as the bindings do).
    Raises SubmitSyntaxError for text that is not a submit description.
    """

    def __init__(self, input=None, queue: str | None = None, **kwargs):
        self._macros = MacroSet()
        self._qargs = ""
        self._qraw = ""
        self._qitems: list[str] | None = None
        self._qerror: str | None = None
        self._method = 2  # SubmitMethod.PythonBindings
        if isinstance(input, dict):
            pairs = []
            for key, value in input.items():
                if not isinstance(key, str):
                    raise TypeError("key must be a string")
                if key.lower() == "queue":
                    raise ValueError("the queue statement can not be specified in a dictionary")
                if isinstance(value, (bool, int, float, os.PathLike)):
                    value = str(value)
                elif not isinstance(value, str):
                    raise TypeError("value must be a string")
                pairs.append(f"{key} = {value}")
            input = "\n".join(pairs)
        if isinstance(input, str):
            # run the text up to its first queue statement (if/else/include honoured)
            statements = parse(input, None, first_queue_only=True, defer_queue_errors=True)
            runner = _Runner(self._macros, JobContext(os.getcwd(), int(time.time())), None, 1)
            captured: list[Queue] = []
            runner.on_queue = captured.append
            runner.run(statements)
            if captured:
                st = captured[0]
                self._qargs, self._qitems, self._qraw, self._qerror = st.args, st.items, st.raw, st.error
        elif input is not None:
            raise TypeError("input must be a dictionary mapping string to strings, a string, or None")
        self.update(kwargs)
        if queue is not None:
            if not isinstance(queue, str):
                raise TypeError("queue must be a string")
            self.setQArgs(queue)

    # -- mapping -------------------------------------------------------------------
    def __getitem__(self, key: str) -> str:
        v = self._macros.get(key)
        if v is None:
            raise KeyError(key)
        return v

    def __setitem__(self, key: str, value) -> None:
        if not isinstance(key, str):
            raise TypeError("key must be a string")
        if not isinstance(value, str):
            raise TypeError("value must be a string")
        self._macros.set(key, value)

    def __delitem__(self, key: str) -> None:
        """Refused, as htcondor2.Submit refuses it (its API contract, not a missing
        feature): a submit command set to the empty string has no effect instead.
        Raises NotImplementedError with htcondor2's message."""
        raise NotImplementedError("Submit object keys can not be removed, but the empty "
                                  "string is defined to have no effect.")

    def __iter__(self):
        return iter([k for k, _ in self._macros.items()])

    def __len__(self) -> int:
        return len(self._macros.items())

    def __str__(self) -> str:
        out = "".join(f"{k} = {v}\n" for k, v in self._macros.items())
        q = self.getQArgs()
        return out + ("queue\n" if q == "" else f"queue {q}\n")

    def __repr__(self) -> str:
        return f"Submit({self})"

    def setSubmitMethod(self, method_value: int = -1, allow_reserved_values: bool = False) -> None:
        """Set JobSubmitMethod (0..99 reserved unless allowed; negative: leave it out of the ad)."""
        method_value = int(method_value)
        if 0 <= method_value < 100 and not allow_reserved_values:
            raise ValueError("Submit method value must be 100 or greater, or allowed_reserved_values must be True.")
        self._method = method_value

    def getSubmitMethod(self) -> int:
        """The JobSubmitMethod value jobs from this object record (2, Python bindings, by default)."""
        return self._method

    # -- htcondor2.Submit API ----------------------------------------------------------
    def expand(self, attr: str) -> str:
        """The value of ``attr`` with macros expanded (per-proc variables as for proc 0).

        Raises KeyError when ``attr`` is not defined or expands to nothing.
        """
        r = _Runner(self._macros.copy(), JobContext(os.getcwd(), int(time.time())), None, 1)
        v = self._macros.get(attr)
        if v is None:
            raise KeyError(attr)
        out = r.expand(v, {"cluster": "1", "clusterid": "1", "process": "0", "procid": "0", "step": "0",
                           "itemindex": "0", "row": "0", "node": ""})
        if out == "":
            raise KeyError(attr)
        return out

    def getQArgs(self) -> str:
        """The arguments of the queue statement as written after ``queue`` on its line."""
        return self._qraw

    def setQArgs(self, args: str) -> None:
        """Replace the queue statement's arguments (may start with ``queue``; may hold ``( items )``)."""
        args = args.strip()
        if args.lower().startswith("queue"):
            args = args[5:].strip()
        stmts = parse("queue " + args, None, defer_queue_errors=True)
        q = stmts[0]
        self._qargs, self._qitems, self._qraw, self._qerror = q.args, q.items, q.raw, q.error

    def _check_queue(self) -> None:
        if self._qerror:
            raise QueueError(f"invalid Queue statement, errmsg={self._qerror.split(': ', 1)[-1]}")

    def itemdata(self, qargs: str | None = None):
        """Iterator over the queue statement's items as dicts {variable: value}, or None.

        As in htcondor2, None for a queue statement without items, and a slice
        ``[a:b:c]`` is not applied here (it is applied when jobs are made).
        """
        if qargs is not None:
            other = Submit(str(self))
            other.setQArgs(qargs)
            return other.itemdata()
        self._check_queue()
        r = _Runner(self._macros.copy(), JobContext(os.getcwd(), int(time.time())), None, 1)
        qa = parse_queue_args(r.expand(self._qargs, {}), self._qitems)
        qa.slice = None
        if qa.mode == "matching" and not any(t for t in (qa.items or []) if t.strip()):
            return None
        try:
            rows = load_items(qa, os.getcwd())
        except QueueError:
            if qa.mode == "matching":  # nothing matched: no item data (the submit itself fails)
                return None
            raise
        if rows is None:
            return None
        return iter(rows)

    def _run(self, count=0, itemdata=None, clusterid=1, procid=0, qdate=0, submit_method=None,
             cwd=None) -> ClusterResult:
        self._check_queue()
        method = self._method if submit_method is None else submit_method
        ctx = JobContext(cwd or os.getcwd(), qdate or int(time.time()), method)
        runner = _Runner(self._macros.copy(), ctx, None, clusterid)
        runner.first_proc = procid
        if itemdata is not None:
            rows = [dict(r) if isinstance(r, dict) else {"Item": str(r).strip()} for r in itemdata]
            names = list(rows[0].keys()) if rows else ["Item"]
            rows = [{n: str(r.get(n, "")).strip() for n in names} for r in rows]
            runner.queue("", None, 0, rows=(QueueArgs(count=count or 1, vars=names, mode="from"), rows))
        elif count:
            qa = parse_queue_args(runner.expand(self._qargs, {}), self._qitems)
            if qa.mode is None:
                runner.queue(str(count), None, 0)
            else:
                runner.queue(f"{count} " + re.sub(r"^\s*[\d+\-*/%()]+\s+", "", self._qargs), self._qitems, 0)
        else:
            runner.queue(self._qargs, self._qitems, 0)
        return runner.result()

    def jobs(self, count=0, itemdata=None, clusterid=1, procid=0, qdate=0, owner=""):
        """Yield each proc's full job ad (dict attribute -> expression text)."""
        res = self._run(count, itemdata, clusterid, procid, qdate)
        yield from res.full_ads

    def procs(self, count=0, itemdata=None, clusterid=1, procid=0, qdate=0, owner=""):
        """Yield each proc's own attributes (what differs from the cluster ad)."""
        res = self._run(count, itemdata, clusterid, procid, qdate)
        yield from res.proc_ads

    def cluster(self, count=0, itemdata=None, clusterid=1, qdate=0, submit_method=None, cwd=None) -> ClusterResult:
        """Everything the bindings would send: cluster ad, proc ads, factory digest."""
        return self._run(count, itemdata, clusterid, 0, qdate, submit_method, cwd)
