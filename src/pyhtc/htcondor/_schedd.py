"""``Schedd`` and ``SubmitResult``: the htcondor2 client of a *condor_schedd*.

Same signatures and results as htcondor2 25.x (htcondor2/_schedd.py and the C++ behind it,
src/python-bindings/htcondor2/schedd.cpp); the wire work is done by
:class:`pyhtc.client.schedd.ScheddClient`.
"""
from __future__ import annotations

import re
import time
from typing import Any, Callable, Iterator, List, Optional, Union

from pyhtc import classad as C
from pyhtc.cedar.wire_ad import WireAd, to_classad
from pyhtc.client import DaemonNotFound, locate_daemon
from pyhtc.client.schedd import (AR_TOTALS, NO_ACK, ONLY_MY_JOBS, JobActionCode, QmgmtError,
                                 ScheddClient, ScheddError)
from pyhtc.config import get_config

from ._enums import JobAction, QueryOpt, TransactionFlag
from ._errors import HTCondorException

__all__ = ["Schedd", "SubmitResult"]

_ID = re.compile(r"\d+\.\d+")
_CLUSTER = re.compile(r"\d+")
_DEFAULT = object()


class SubmitResult:
    """What :meth:`Schedd.submit` returns: cluster id, first proc id, proc count and the
    cluster ad (htcondor2/_submit_result.py)."""

    def __init__(self, cluster_id: int, first_proc: int, num_procs: int, cluster_ad: C.ClassAd):
        self._cluster = cluster_id
        self._first_proc = first_proc
        self._num_procs = num_procs
        self._clusterad = cluster_ad

    def cluster(self) -> int:
        """The cluster id of the submitted jobs."""
        return self._cluster

    def clusterad(self) -> C.ClassAd:
        """The cluster ad sent to the schedd."""
        return self._clusterad

    def first_proc(self) -> int:
        """The first proc id."""
        return self._first_proc

    def num_procs(self) -> int:
        """How many jobs were submitted."""
        return self._num_procs

    def __int__(self) -> int:
        return self._cluster

    def __str__(self) -> str:
        return (f"Submitted {self._num_procs} jobs into cluster {self._cluster},{self._first_proc} :\n"
                + str(self._clusterad))

    def __repr__(self) -> str:
        return (f"SubmitResult(cluster={self._cluster}, first_proc={self._first_proc}, "
                f"num_procs={self._num_procs}, clusterad={self._clusterad})")


def _job_spec(job_spec) -> tuple[Optional[str], Optional[list[str]]]:
    """htcondor2's ``job_spec_hack``: ``(constraint, None)`` or ``(None, ["c.p", ...])``.
    Raises TypeError/ValueError with htcondor2's messages."""
    if isinstance(job_spec, bool):
        raise TypeError("The job_spec must be list of strings, a string, an int, or an ExprTree.")
    if isinstance(job_spec, list):
        if not all(isinstance(i, str) for i in job_spec):
            raise TypeError("All elements of the job_spec list must be strings.")
        if all(_ID.fullmatch(i) for i in job_spec):
            return None, [i for i in job_spec]
        parts = []
        for i in job_spec:
            if _CLUSTER.fullmatch(i):
                parts.append(f"(ClusterID == {i})")
            elif _ID.fullmatch(i):
                c, p = i.split(".")
                parts.append(f"(ClusterID == {c} && ProcID == {p})")
            else:
                raise ValueError("All elements of the job_spec list must be strings of the form clusterID[.procID]")
        return " || ".join(parts), None
    if isinstance(job_spec, int):
        return f"ClusterID == {job_spec}", None
    if isinstance(job_spec, C.ExprTree):
        return str(job_spec), None
    if isinstance(job_spec, str):
        if _ID.fullmatch(job_spec):
            return None, [job_spec]
        if _CLUSTER.fullmatch(job_spec):
            return f"ClusterID == {job_spec}", None
        try:
            C.ExprTree(job_spec)
        except Exception:
            raise ValueError("The job_spec string must be a clusterID[.procID] or the string form of an ExprTree.") from None
        return job_spec, None
    raise TypeError("The job_spec must be list of strings, a string, an int, or an ExprTree.")


def _my_name() -> str:
    """The user name the C++ ``my_username()`` gives (for the MyJobs query option)."""
    import getpass
    try:
        return getpass.getuser()
    except Exception:
        return ""


class Schedd:
    """Client object for a *condor_schedd*.

    ``location``: a ClassAd with ``MyAddress`` (as :meth:`Collector.locate` returns), or
    None for the local schedd (its address file ``SCHEDD_ADDRESS_FILE``, else the
    collector).  Failures raise :class:`HTCondorException` with htcondor2's messages.
    """

    def __init__(self, location: Optional[C.ClassAd] = None):
        if location is None:
            try:
                addr = locate_daemon("schedd", config=get_config())
            except DaemonNotFound as exc:
                raise HTCondorException(str(exc)) from None
            self._addr, self._version = addr, None
        else:
            if not isinstance(location, C.ClassAd):
                raise TypeError("location must be a ClassAd")
            self._addr = location["MyAddress"]
            self._version = location.get("CondorVersion")
        self._client = ScheddClient(self._addr)

    # -- queries --------------------------------------------------------------------------
    def query(self, constraint: Union[str, C.ExprTree] = "True", projection: List[str] = [],
              callback: Optional[Callable[[C.ClassAd], Any]] = None, limit: int = -1,
              opts: QueryOpt = QueryOpt.Default) -> List[C.ClassAd]:
        """Job ads matching ``constraint`` (all attributes, or at least ``projection``);
        at most ``limit`` ads when ``limit >= 0``; ``callback`` maps each ad (None drops
        it).  With ``QueryOpt.SummaryOnly`` the result is the one summary ad."""
        if not isinstance(projection, list):
            raise TypeError("projection must be a list")
        summary: list = []
        try:
            ads = [to_classad(a) for a in self._client.query_iter(
                str(constraint), projection, int(limit), int(opts), True, summary, _my_name())]
        except ValueError:
            raise HTCondorException("Parse error in constraint") from None
        except ScheddError as exc:
            raise HTCondorException(str(exc)) from None
        except Exception as exc:
            raise HTCondorException(f"Failed to fetch ads from schedd, errmsg={exc}") from exc
        if int(opts) == int(QueryOpt.SummaryOnly):
            ads = [to_classad(a) for a in summary]
        if callback is None:
            return ads
        return [r for r in (callback(a) for a in ads) if r is not None]

    def history(self, constraint: Optional[Union[str, C.ExprTree]] = None, projection: List[str] = [],
                match: int = -1, since: Union[int, str, C.ExprTree, None] = None) -> List[C.ClassAd]:
        """Ads of jobs that left the queue, most recent first; ``match`` limits the count;
        ``since`` (cluster id, "c.p" or an expression) stops the scan at that job."""
        if isinstance(since, bool):
            raise TypeError("since must be an int, string, or ExprTree")
        if isinstance(since, int):
            since = f"ClusterID == {since}"
        elif isinstance(since, C.ExprTree):
            since = str(since)
        elif isinstance(since, str):
            m = _ID.fullmatch(since)
            if m:
                c, p = since.split(".")
                since = f"ClusterID == {c} && ProcID == {p}"
            elif _CLUSTER.fullmatch(since):
                since = f"ClusterID == {since}"
            else:
                try:
                    C.ExprTree(since)
                except Exception:
                    raise ValueError("The job_spec string must be a clusterID[.procID] or the string form of an ExprTree.") from None
        elif since is not None:
            raise TypeError("since must be an int, string, or ExprTree")
        cons = None if constraint is None else str(constraint)
        try:
            ads = self._client.history(cons or None, projection, int(match), since or None)
        except ValueError:
            raise ValueError("invalid constraint") from None
        except ScheddError as exc:
            raise HTCondorException(str(exc)) from None
        except Exception as exc:
            raise HTCondorException(f"Unable to connect to schedd: {exc}") from exc
        return [to_classad(a) for a in ads]

    # -- actions --------------------------------------------------------------------------
    def act(self, action: JobAction, job_spec, reason: Optional[str] = None) -> C.ClassAd:
        """Hold/release/remove/vacate/suspend/continue jobs; returns the totals ad
        (``TotalSuccess``, ``TotalNotFound``, ``TotalJobAds``, ``TotalChangedAds`` ...).
        ``reason`` may be a ``(text, subcode)`` tuple for holds."""
        if not isinstance(action, JobAction):
            raise TypeError("action must be a JobAction")
        code = None
        if reason is None:
            text = "Python-initiated action"
        elif isinstance(reason, tuple):
            text, code = reason
        else:
            text = reason
        constraint, ids = _job_spec(job_spec)
        if int(action) not in range(1, 10) or int(action) == JobActionCode.CLEAR_DIRTY:
            raise HTCondorException("Job action not implemented.")
        try:
            res = self._client.act(int(action), constraint if ids is None else None, ids, text,
                                   str(code), AR_TOTALS)
        except Exception as exc:
            raise HTCondorException("Error when performing action on the schedd.") from exc
        out = C.ClassAd()
        for name, src in (("TotalError", "result_total_0"), ("TotalSuccess", "result_total_1"),
                          ("TotalNotFound", "result_total_2"), ("TotalBadStatus", "result_total_3"),
                          ("TotalAlreadyDone", "result_total_4"),
                          ("TotalPermissionDenied", "result_total_5"),
                          ("TotalJobAds", "TotalJobAds"), ("TotalChangedAds", "ActionResult")):
            out[name] = res.get_int(src, 0)
        return out

    def edit(self, job_spec, attr: str, value: Union[str, C.ExprTree],
             flags: TransactionFlag = TransactionFlag.Default) -> int:
        """Set ``attr`` to the expression ``value`` in the jobs of ``job_spec`` (one
        transaction); returns how many jobs were edited.  A refused change (e.g. a
        protected attribute) raises HTCondorException."""
        if not isinstance(flags, TransactionFlag):
            raise TypeError("flags must be a TransactionFlag")
        text = repr(value) if isinstance(value, C.ExprTree) else str(value)
        constraint, ids = _job_spec(job_spec)
        fl = int(flags) | NO_ACK
        try:
            q = self._client.qmgmt(True)
        except Exception as exc:
            raise HTCondorException("Failed to connect to schedd.") from exc
        with q:
            try:
                if ids is not None:
                    for i in ids:
                        c, p = (int(x) for x in i.split("."))
                        q.set_attribute(c, p, attr, text, fl)
                    count = len(ids)
                else:
                    if not get_config().param_boolean("CONDOR_Q_ONLY_MY_JOBS", True):
                        fl |= ONLY_MY_JOBS
                    count = q.set_attribute_by_constraint(constraint or "true", attr, text, fl)
            except QmgmtError as exc:
                raise HTCondorException("Unable to edit job" if ids is not None
                                        else "Unable to edit jobs matching constraint") from exc
            except Exception as exc:  # transport / CEDAR errors
                raise HTCondorException("Unable to edit job") from exc
            try:
                q.commit()
            except QmgmtError as exc:
                sep = ":" if ids is not None else ": "
                raise HTCondorException(f"Unable to commit transaction{sep}{exc.reason or ''}") from exc
            except Exception as exc:
                raise HTCondorException(f"Unable to commit transaction: {exc}") from exc
        return count

    # -- submit ---------------------------------------------------------------------------
    def submit(self, description, count: int = 0, spool: bool = False,
               itemdata: Optional[Union[Iterator[str], Iterator[dict]]] = _DEFAULT,
               queue: Optional[str] = None) -> SubmitResult:
        """Submit the jobs of ``description`` (a :class:`pyhtc.submit.Submit`) as one
        cluster over QMGMT, as htcondor2 does: GetCapabilities, NewCluster, NewProc, the
        cluster ad as NoAck SetAttribute2 calls on proc -1, each proc's own attributes,
        CommitTransaction; with ``max_idle``/``max_materialize`` (late materialization)
        SendMaterializeData (items), SetJobFactory and the cluster ad instead of procs
        (:meth:`pyhtc.client.schedd.QmgmtConnection.submit_cluster`), the result then
        counting every proc the factory will make.
        ``count``/``itemdata`` override the queue statement; ``queue``
        replaces it (mutually exclusive).  ``spool`` submits the jobs held for a later
        :meth:`spool` (not supported here: raises HTCondorException)."""
        from pyhtc.submit import Submit, SubmitError
        if not isinstance(description, Submit):
            raise TypeError("description must be an htcondor2.Submit object")
        if queue is not None and (count != 0 or itemdata is not _DEFAULT):
            raise ValueError("queue and count/itemdata are mutually exclusive")
        if spool:
            raise HTCondorException("spool=True needs file transfer to the schedd, which this client does not implement")
        desc = description
        if queue is not None:
            desc = Submit(dict(description.items()), queue=re.sub(r"(?i)^\s*queue\b", "", queue).strip())
            desc.setSubmitMethod(description.getSubmitMethod(), allow_reserved_values=True)
        items = None if itemdata is _DEFAULT else (list(itemdata) if itemdata is not None else None)
        try:
            q = self._client.qmgmt(True)
        except Exception as exc:
            raise HTCondorException(f"Failed to connect to schedd: {exc}") from exc
        with q:
            try:
                q.get_capabilities(0)
                cluster = q.new_cluster()
                try:
                    if itemdata is not _DEFAULT and items is None:
                        res = desc.cluster(count=count or 1, clusterid=cluster, qdate=int(time.time()))
                    else:
                        res = desc.cluster(count=count, itemdata=items, clusterid=cluster,
                                           qdate=int(time.time()))
                except SubmitError as exc:
                    raise HTCondorException(str(exc)) from None
                try:
                    first, num = q.submit_cluster(cluster, res)
                except ValueError as exc:
                    raise HTCondorException(str(exc)) from None
                q.commit()
            except QmgmtError as exc:
                raise HTCondorException(exc.reason or str(exc)) from exc
            except HTCondorException:
                raise
            except (OSError, ScheddError, RuntimeError, EOFError) as exc:
                raise HTCondorException(f"Failed to submit: {exc}") from exc
            except Exception as exc:
                if type(exc).__module__.startswith("pyhtc.cedar"):
                    raise HTCondorException(f"Failed to submit: {exc}") from exc
                raise
        ad = to_classad(WireAd(res.cluster_ad.items()))
        return SubmitResult(cluster, first, num, ad)

    def reschedule(self) -> None:
        """Ask the schedd to start a negotiation cycle (RESCHEDULE); failures are silent,
        as in htcondor2."""
        try:
            self._client.reschedule()
        except Exception:
            pass
