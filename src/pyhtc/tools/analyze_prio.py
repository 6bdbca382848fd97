"""User priorities in condor_q's match analysis (``-analyze:priority``, ``-userprios FILE``).

HTCondor 25's src/condor_q.V6/jobmatch.cpp (setupUserpriosForAnalysis,
fetchSubmittorPriosFromNegotiator, read_userprio_file, fixSubmittorName and the preemption
branch of doJobRunAnalysis); manual: docs/man-pages/condor_q.rst, "-analyze[:priority]",
"-userprios".

With user priorities the analysis sorts the slots that match the job but already run
somebody else's job into: slots serving a user with a better (numerically lower) priority
(``MY.RemoteUserPrio > TARGET.SubmittorPrio + 0.5`` is not true: PriorityDelta of
condor_accountant.h), slots whose current claim will not be preempted
(``PREEMPTION_REQUIREMENTS`` evaluates to false, with the slot as MY and the job as TARGET),
and slots that are willing to run the job.  The priorities come from the negotiator
(GET_PRIORITY, what ``condor_userprio`` shows) or from a file in that reply's ``NameN =``
/ ``PriorityN =`` form (``condor_userprio -l`` output).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Optional

from pyhtc import classad as C
from pyhtc.classad.classad import evaluate_node
from pyhtc.classad.errors import ClassAdException

__all__ = ["PRIORITY_DELTA", "UserPrios", "read_userprio_file", "submitter_name"]

#: the priority difference that allows preemption (condor_accountant.h PriorityDelta)
PRIORITY_DELTA = 0.5
#: prefix of a nice user's submitter name (condor_constants.h NiceUserName)
NICE_USER_NAME = "nice-user"

_LINE = re.compile(r"\s*([^\s\d]*?)(\d+)\s*=\s*(.*)$")

_PRIO_COND = C.ExprTree(f"MY.RemoteUserPrio > TARGET.SubmittorPrio + {PRIORITY_DELTA:f}")
_RANK_COND = C.ExprTree("MY.Rank >= MY.CurrentRank")


def read_userprio_file(path: str) -> list[tuple[str, float]]:
    """The ``(name, priority)`` records of a user-priority file: lines ``NameN = "user@dom"``
    and ``PriorityN = 0.5`` (any other line, e.g. ``LastUpdate = ...``, is skipped), placed
    by their number N (records a file leaves out stay ``("", 0.0)``, as
    read_userprio_file does).  Raises OSError when the file cannot be read."""
    names: dict[int, str] = {}
    prios: dict[int, float] = {}
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            m = _LINE.match(line.rstrip("\n"))
            if not m or int(m.group(2)) <= 0:
                continue
            attr, num, value = m.group(1), int(m.group(2)), m.group(3).strip()
            if value.startswith('"'):
                value = value[1:-1]
            if attr == "Priority":
                prios[num] = _atof(value)
            elif attr == "Name":
                names[num] = value
    top = max(list(names) + list(prios) + [0])
    return [(names.get(i, ""), prios.get(i, 0.0)) for i in range(1, top + 1)]


def _atof(text: str) -> float:
    """C's atof: the longest numeric prefix, 0.0 when there is none."""
    m = re.match(r"\s*[-+]?(\d+\.?\d*([eE][-+]?\d+)?|\.\d+([eE][-+]?\d+)?)", text)
    return float(m.group(0)) if m else 0.0


def submitter_name(user: str, nice_user: bool, uid_domain: str) -> str:
    """The accountant's name for a job's submitter (jobmatch.cpp fixSubmittorName):
    ``user`` as is when it has a domain, else ``user@UID_DOMAIN``; ``nice-user.`` in front
    for a nice user's job."""
    prefix = NICE_USER_NAME + "." if nice_user else ""
    return prefix + user if "@" in user else f"{prefix}{user}@{uid_domain}"


def _is_true(expr: C.ExprTree, my: C.ClassAd, target: C.ClassAd) -> Optional[bool]:
    """The expression's boolean value (MY = ``my``), or None when it is not a boolean
    (EvalExprToBool followed by IsBooleanValue)."""
    try:
        v = evaluate_node(expr._node, my, target)
    except ClassAdException:
        return None
    return v if type(v) is bool else None


@dataclass
class UserPrios:
    """The submitters' priorities of one analysis (jobmatch.cpp prioTable) and the pool's
    PREEMPTION_REQUIREMENTS.

    ``table`` holds ``(name, priority)`` in the negotiator's order; a lower number is a
    better priority."""

    table: list
    uid_domain: str = ""
    preemption_requirements: C.ExprTree = field(default_factory=lambda: C.ExprTree("false"))

    @classmethod
    def from_records(cls, records: list[dict], **kw) -> "UserPrios":
        """From the GET_PRIORITY records (:func:`pyhtc.tools.userprio.fetch_records`): the
        records that have both a Name and a numeric Priority, in order, stopping at the
        first that lacks one (fetchSubmittorPriosFromNegotiator)."""
        table = []
        for rec in records:
            name, prio = rec.get("Name"), rec.get("Priority")
            if not isinstance(name, str) or type(prio) not in (int, float):
                break
            table.append((name, float(prio)))
        return cls(table, **kw)

    def find(self, name: str) -> Optional[int]:
        """Index of ``name`` in the table (exact match), or None (findSubmittor)."""
        for i, (n, _) in enumerate(self.table):
            if n == name:
                return i
        return None

    def annotate_slots(self, slot_ads) -> None:
        """Set ``RemoteUserPrio`` in each slot ad whose ``RemoteUser`` has a priority."""
        for ad in slot_ads:
            remote = ad.get("RemoteUser")
            if isinstance(remote, str):
                i = self.find(remote)
                if i is not None:
                    ad["RemoteUserPrio"] = self.table[i][1]

    def submitter_of(self, job: C.ClassAd) -> tuple[Optional[int], bool]:
        """``(index of the job's submitter or None, nice user)``; sets the job's
        ``SubmittorPrio`` when the submitter is known, as doJobRunAnalysis does."""
        nice = job.get("NiceUser")
        nice = nice is True or (type(nice) is int and nice != 0)
        user = job.get("User")
        name = submitter_name(user if isinstance(user, str) else "", nice, self.uid_domain)
        i = self.find(name)
        if i is not None:
            job["SubmittorPrio"] = self.table[i][1]
        return i, nice

    def classify(self, offer: C.ClassAd, job: C.ClassAd) -> str:
        """Where a slot that matches the job and runs another user's job goes:
        ``"prio"`` (its user has a better priority), ``"preemptreq"``
        (PREEMPTION_REQUIREMENTS is false) or ``"willing"`` (jobmatch.cpp steps 4-7)."""
        if _is_true(_PRIO_COND, offer, job) is not True:
            return "prio"
        if _is_true(_RANK_COND, offer, job) is True \
                and _is_true(self.preemption_requirements, offer, job) is False:
            return "preemptreq"
        return "willing"
