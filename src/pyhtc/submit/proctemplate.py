"""Many procs of one queue statement without building each job ad from scratch.

HTCondor's SubmitHash builds every proc's job ad in full (submit_utils.cpp make_job_ad); in
C++ that costs microseconds, in Python about a millisecond, so 100,000 procs would take
minutes.  When the per-proc ("live") submit variables -- Process, ProcId, Step, ItemIndex,
Row, JobId and the queue statement's item variables -- reach the job ad only by plain text
substitution, every proc's ad is the ad built once with a unique token in place of each
live value, with the tokens replaced.  :func:`make_template` decides whether that holds and
builds the template; anything it cannot prove safe returns None and the caller builds each
ad in full, as before.

The checks (each a reason to fall back):

- no macro value uses a macro function (``$INT(...)``, ``$Fn(...)``, ``$RANDOM_CHOICE(...)``,
  ...): those transform values, or differ per proc without a live variable;
- every submit command whose value depends on a live variable is one whose value goes into
  the ad as text (:data:`TEXTUAL_COMMANDS`, ``+Attr``/``MY.Attr``), and that value still
  holds the token;
- live values are plain: integers in canonical form where a token stands in an expression,
  ``[A-Za-z0-9_][A-Za-z0-9_.,:@+=%-]*`` (or empty in every proc) where it stands inside a
  string literal; JobId only inside string literals;
- the ads of a few sample procs (first, second, third, 12th, last) built in full are equal
  to the template's.
"""
from __future__ import annotations

import re
from abc import abstractmethod
from typing import Callable, Iterator, Optional, Sequence

__all__ = ["ProcTemplate", "TemplateAds", "make_template", "TEXTUAL_COMMANDS", "TOKEN_RE"]

#: submit commands whose expanded value lands in the job ad as text (submit_utils.cpp
#: SetArguments, SetStdFile, SetTransferFiles, SetEnvironment, SetJobLease...): paths,
#: argument strings, file lists.
TEXTUAL_COMMANDS = frozenset({
    "arguments", "args", "output", "error", "input", "stdout", "stderr", "stdin",
    "transfer_input_files", "transfer_output_files", "transfer_output_remaps",
    "batch_name", "description", "log",
})

#: per-proc variables a template stands in for (node stays its real value: "")
PER_PROC = ("process", "procid", "step", "itemindex", "row", "jobid")
#: the per-proc variables whose values are non-negative integers (``str(n)``)
_COUNTERS = frozenset({"process", "procid", "step", "itemindex", "row"})

TOKEN_RE = re.compile(r"PyhtcLive([0-9]+)Q")
_FUNCTION_RE = re.compile(r"\$[A-Za-z_]")
_CANON_INT = re.compile(r"0|[1-9][0-9]{0,17}")
_PLAIN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.,:@+=%-]*")


def _token(i: int) -> str:
    return f"PyhtcLive{i}Q"


class ProcTemplate:
    """A job ad with tokens for live values.

    ``names``: the live variable (lower-case) of each token index; ``ad``: attribute ->
    list of parts (str literal text, or int token index), in the ad's attribute order;
    ``varying``: attributes holding tokens; ``in_expr``: token indexes that occur outside
    string literals somewhere."""

    def __init__(self, names: list[str], ad: dict[str, str]):
        self.names = names
        self.ad: dict[str, list] = {}
        self.varying: list[str] = []
        self.in_expr: set[int] = set()
        used: set[int] = set()
        for k, text in ad.items():
            parts = _split_tokens(text, self.in_expr)
            self.ad[k] = parts
            idx = {p for p in parts if type(p) is int}
            if idx:
                self.varying.append(k)
                used |= idx
        #: (token index, name) of the tokens the ad holds
        self.used = sorted((i, names[i]) for i in used)

    def values_ok(self, live: dict[str, str], first: dict[str, str]) -> bool:
        """Whether ``live`` (variable -> value) may be substituted textually; ``first`` is
        the first proc's live values: a variable may be empty only if it is empty in every
        proc (an empty value can change what a command does; the full-build samples check
        the all-empty case)."""
        for i, name in self.used:
            v = live.get(name, "")
            if i in self.in_expr:
                if name == "jobid" or not _CANON_INT.fullmatch(v):
                    return False
            elif v == "" or first.get(name, "") == "":
                if v != first.get(name, ""):
                    return False
            elif not _PLAIN.fullmatch(v):
                return False
        return True

    def value(self, attr: str, live: dict[str, str]) -> str:
        """The expression text of ``attr`` for the live values ``live``."""
        names = self.names
        return "".join(p if type(p) is str else live[names[p]] for p in self.ad[attr])

    def full(self, live: dict[str, str]) -> dict[str, str]:
        """The whole ad for ``live``."""
        return {k: self.value(k, live) for k in self.ad}


_FIELD_NAME = re.compile(r"[a-z_][a-z0-9_]*")


def _format_of(parts: list, names: list[str]) -> Optional[str]:
    """``parts`` (literal text and token indexes) as a ``str.format_map`` pattern over the
    live values, e.g. ``['"out.', 0, '"']`` -> ``'"out.{process}"'``: one C call per value
    instead of a join.  None when a live name is not a plain field name."""
    out = []
    for p in parts:
        if type(p) is str:
            out.append(p.replace("{", "{{").replace("}", "}}"))
        elif _FIELD_NAME.fullmatch(names[p]):
            out.append("{" + names[p] + "}")
        else:
            return None
    return "".join(out)


def _split_tokens(text: str, in_expr: set) -> list:
    parts: list = []
    pos = 0
    for m in TOKEN_RE.finditer(text):
        if m.start() > pos:
            parts.append(text[pos:m.start()])
        idx = int(m.group(1))
        parts.append(idx)
        if not _inside_string(text, m.start()):
            in_expr.add(idx)
        pos = m.end()
    if pos < len(text):
        parts.append(text[pos:])
    return parts or [""]


def _inside_string(text: str, at: int) -> bool:
    """Whether position ``at`` of an old-syntax expression text is inside a string literal."""
    inside = False
    i = 0
    while i < at:
        c = text[i]
        if inside and c == "\\":
            i += 2
            continue
        if c == '"':
            inside = not inside
        i += 1
    return inside


class _ComputedSequence(Sequence):
    """A sequence whose items are computed on access by :meth:`_item` (index already
    checked, non-negative); slices give lists."""

    @abstractmethod
    def _item(self, i: int):
        """Item ``i`` (0 <= i < len)."""

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        n = len(self)
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError(i)
        return self._item(i)


class TemplateAds(_ComputedSequence):
    """The full job ads of a run of procs made from a :class:`ProcTemplate`, computed on
    access (a list of 100,000 dicts is never held).  ``live_of(n)`` gives the n-th proc's
    live values.  Procs appended later (another queue statement) are kept as given."""

    def __init__(self, template: ProcTemplate, count: int, live_of: Callable[[int], dict]):
        self.t = template
        self.count = count
        self.live_of = live_of
        self.extra: list[dict] = []

    def __len__(self) -> int:
        return self.count + len(self.extra)

    def _item(self, i: int) -> dict:
        if i >= self.count:
            return self.extra[i - self.count]
        return self.t.full(self.live_of(i))

    def __iter__(self) -> Iterator[dict]:
        for i in range(self.count):
            yield self.t.full(self.live_of(i))
        yield from self.extra

    def append(self, ad: dict) -> None:
        self.extra.append(ad)

    def diffs(self, cluster_ad: dict, fixed: tuple = ("ProcId", "JobStatus")) -> "TemplateDiffs":
        """Each proc's attributes that differ from ``cluster_ad`` (plus ``fixed``), lazily."""
        return TemplateDiffs(self, cluster_ad, fixed)


class TemplateDiffs(_ComputedSequence):
    """Per-proc differences from the cluster ad of a :class:`TemplateAds` (what a submit
    sends per proc), computed on access: only the template's varying attributes are
    looked at (the others equal the cluster ad's: they are proc 0's)."""

    def __init__(self, ads: TemplateAds, cluster_ad: dict, fixed: tuple):
        self.ads = ads
        self.cluster_ad = cluster_ad
        self.fixed = fixed
        t = ads.t
        self._fixed_const = {k: "".join(t.ad[k]) for k in fixed if k in t.ad and k not in t.varying}
        self._vary = [k for k in t.ad if k in t.varying and k not in fixed]
        self._fixed_vary = [k for k in fixed if k in t.varying]
        #: attribute -> str.format_map() pattern of its value (None: join the parts)
        self._formats = {k: _format_of(t.ad[k], t.names) for k in t.varying}

    def __len__(self) -> int:
        return len(self.ads)

    def _diff(self, i: int) -> dict:
        ads = self.ads
        if i >= ads.count:
            ad = ads.extra[i - ads.count]
            out = {k: ad[k] for k in self.fixed if k in ad}
            out.update((k, v) for k, v in ad.items() if k not in out and self.cluster_ad.get(k) != v)
            return out
        live = ads.live_of(i)
        t = ads.t
        formats = self._formats
        out = {}
        for k in self.fixed:
            if k in self._fixed_const:
                out[k] = self._fixed_const[k]
            elif k in t.ad:
                f = formats.get(k)
                out[k] = f.format_map(live) if f is not None else t.value(k, live)
        cad = self.cluster_ad
        for k in self._vary:
            f = formats[k]
            v = f.format_map(live) if f is not None else t.value(k, live)
            if cad.get(k) != v:
                out[k] = v
        return out

    def _item(self, i: int) -> dict:
        return self._diff(i)

    def __iter__(self):
        for i in range(len(self)):
            yield self._diff(i)


def make_template(macro_values: Sequence[str], live_names: Sequence[str], count: int,
                  live_of: Callable[[int], dict],
                  build: Callable[[dict, int, Optional[Callable]], dict],
                  samples: Optional[Sequence[int]] = None) -> Optional[TemplateAds]:
    """Try to make the ``count`` procs of one queue statement from a template.

    ``macro_values``: the raw values of every macro of the submit description;
    ``live_names``: per-proc variables (lower-case: :data:`PER_PROC` and the queue
    statement's item variables); ``live_of(n)``: the n-th proc's live values (including
    ``process``); ``build(live, proc, trace)``: the full ad of a proc (``trace``, when not
    None, is called as ``trace(command, value_looked_up_names, expanded_value)`` for each
    submit command the build looked up).  Returns None when a template is not provably
    right (the caller then builds each ad); build errors propagate only from the sample
    procs' full builds."""
    if count < 4 or any(_FUNCTION_RE.search(v or "") for v in macro_values):
        return None
    names = list(dict.fromkeys(n.lower() for n in live_names))
    sentinel = {n: _token(i) for i, n in enumerate(names)}
    touched: list[tuple[str, set, Optional[str]]] = []
    try:
        first = live_of(0)
        live = dict(first)
        live.update(sentinel)
        proc_token = 10 ** 17 + 12345  # ProcId is the proc number itself: a distinctive int
        ad = build(live, proc_token, lambda cmd, used, val: touched.append((cmd, used, val)))
    except Exception:
        return None
    ad = {k: v.replace(str(proc_token), sentinel["process"]) if k == "ProcId" else v
          for k, v in ad.items()}
    if ad.get("ProcId") != sentinel["process"]:
        return None
    for cmd, used, val in touched:
        if not used & set(names):
            continue
        low = cmd.lower()
        if low not in TEXTUAL_COMMANDS and not (low.startswith("+") or low.startswith("my.")):
            return None
        if val is None or not any(sentinel[n] in val for n in used if n in sentinel):
            return None
    t = ProcTemplate(names, ad)
    ads = TemplateAds(t, count, live_of)
    if samples is None:
        samples = sorted({0, 1, 2, min(11, count - 1), count - 1})
    for n in samples:
        lv = live_of(n)
        if not t.values_ok(lv, first):
            return None
        if build(lv, int(lv["process"]), None) != t.full(lv):
            return None
    # every proc's live values must be substitutable (cheap: regex per value) -- unless the
    # template uses only the per-proc counters, which are str() of non-negative integers in
    # every proc (submit.py live_of): canonical, plain and never empty, so values_ok holds
    if not all(name in _COUNTERS for _, name in t.used):
        for n in range(count):
            if not t.values_ok(live_of(n), first):
                return None
    return ads
