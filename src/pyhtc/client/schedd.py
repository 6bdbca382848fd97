"""Client side of the schedd's job commands (the C++ ``DCSchedd``/``CondorQ``/qmgmt stubs).

Blocking, on :func:`pyhtc.client.start_command`.  Message contents follow what the real
25.x client sends (PROTOCOL.md 6.4-6.6, captures e08/e09/e20-e23):

- :meth:`ScheddClient.query` -- QUERY_JOB_ADS (516): request ad ``Requirements``,
  ``Projection`` (newline separated), ``SendServerTime``, ``LimitResults``; one job ad per
  message; terminator ad ``Owner = 0`` (src/condor_q.V6/queue.cpp, condor_utils/condor_q.cpp);
- :meth:`ScheddClient.act` -- ACT_ON_JOBS (478) with forced authentication
  (src/condor_daemon_client/dc_schedd.cpp ``DCSchedd::actOnJobs``);
- :meth:`ScheddClient.history` -- QUERY_SCHEDD_HISTORY (515): ``Requirements``,
  ``NumJobMatches``, ``Projection = {"a", "b"}``, ``Since``; terminator ``Owner = 0`` with
  ``NumJobMatches`` (src/python-bindings/htcondor2/schedd.cpp ``_history_query``);
- :class:`QmgmtConnection` -- QMGMT_WRITE_CMD (1112) RPCs (src/condor_schedd.V6/
  qmgmt_send_stubs.cpp, qmgr_lib_support.cpp ``ConnectQ``);
- :meth:`ScheddClient.reschedule` -- RESCHEDULE (421) over UDP (TCP for ``noUDP``).
"""
from __future__ import annotations

import re
import socket
import struct
from typing import Iterable, Iterator, Optional

from pyhtc.cedar import transport_blocking as tb
from pyhtc.cedar.commands import Command
from pyhtc.cedar.security.policy import Level, SecurityPolicy
from pyhtc.cedar.sinful import Sinful
from pyhtc.cedar.wire_ad import WireAd

from .core import _SESSIONS, client_policy, parse_address, start_command

__all__ = ["ScheddClient", "ScheddError", "QmgmtConnection", "QmgmtError", "JobActionCode",
           "AR_LONG", "AR_TOTALS", "ACTION_REASON_ATTR", "QUERY_SCHEDD_HISTORY", "Q",
           "normalize_expr", "encode_call", "NO_ACK", "ONLY_MY_JOBS"]

#: QUERY_SCHEDD_HISTORY = SCHED_VERS + 115 (src/condor_includes/condor_commands.h)
QUERY_SCHEDD_HISTORY = 515
#: action_result_type_t (src/condor_includes/condor_commands.h / dc_schedd.h)
AR_LONG = 1
AR_TOTALS = 2


class JobActionCode:
    """JobAction numbers (src/condor_includes/proc.h ``JobAction``)."""
    HOLD = 1
    RELEASE = 2
    REMOVE = 3
    REMOVE_X = 4
    VACATE = 5
    VACATE_FAST = 6
    CLEAR_DIRTY = 7
    SUSPEND = 8
    CONTINUE = 9
    TRANSFER_AND_REMOVE = 10


#: the attribute carrying an action's reason (dc_schedd.cpp holdJobs/removeJobs/...)
ACTION_REASON_ATTR = {
    JobActionCode.HOLD: "HoldReason", JobActionCode.RELEASE: "ReleaseReason",
    JobActionCode.REMOVE: "RemoveReason", JobActionCode.REMOVE_X: "RemoveReason",
    JobActionCode.TRANSFER_AND_REMOVE: "RemoveReason", JobActionCode.SUSPEND: "SuspendReason",
    JobActionCode.CONTINUE: "ContinueReason",
}


class Q:
    """QMGMT opcodes (src/condor_schedd.V6/qmgmt_constants.h)."""
    InitializeConnection = 10001
    NewCluster = 10002
    NewProc = 10003
    DestroyCluster = 10004
    SetAttribute = 10006
    CommitTransactionNoFlags = 10007
    GetAttributeExpr = 10011
    DeleteAttribute = 10012
    GetJobAd = 10018
    BeginTransaction = 10023
    AbortTransaction = 10024
    SetAttribute2 = 10027
    CloseSocket = 10028
    SetEffectiveOwner = 10030
    CommitTransaction = 10031
    SetAttributeByConstraint = 10021
    SetAttributeByConstraint2 = 10032
    GetCapabilities = 10036
    SetJobFactory = 10037
    SendMaterializeData = 10039


#: SetAttribute flags (src/condor_includes/condor_qmgr.h)
NO_ACK = 1 << 1
ONLY_MY_JOBS = 1 << 4


class ScheddError(RuntimeError):
    """A failed schedd command; the message is the one HTCondor's client reports."""


class QmgmtError(ScheddError):
    """A QMGMT call answered with ``rval < 0``: ``errno`` and the schedd's ``ErrorReason``."""

    def __init__(self, message: str, errno: int = 0, reason: Optional[str] = None):
        super().__init__(message)
        self.errno = errno
        self.reason = reason


def normalize_expr(text: str) -> str:
    """``text`` parsed as a ClassAd expression and printed back in old syntax (what the C++
    ``AssignExpr`` + unparse does, e.g. ``True`` -> ``true``).  Raises ValueError naming the
    text when it does not parse."""
    from pyhtc.classad.parser import parse_expr
    from pyhtc.classad.unparse import unparse_node
    try:
        return unparse_node(parse_expr(text), True)
    except Exception as exc:  # the ClassAd library's parse errors
        raise ValueError(f"invalid constraint expression {text!r}: {exc}") from None


def _authenticated(stream: tb.BlockingStream) -> bool:
    res = stream.result
    if res is None or res.session is None:
        return False
    if res.session.user:
        return True
    post = res.post_auth
    return bool(post is not None and post.get_bool("TriedAuthentication", False))


def _next_ad(stream: tb.BlockingStream) -> WireAd:
    """Read one ad; end the message when it is used up.  The schedd may send each ad in
    its own message (job queries) or several in one (history): the C++ client reads ads
    until the ``Owner = 0`` terminator either way."""
    ad = stream.get_ad()
    if not stream._dec().remaining:
        stream.end_of_message()
    return ad


class ScheddClient:
    """A schedd at ``address`` (a sinful string or ``host:port``).

    ``policy``: client security policy (default: SEC_CLIENT_* from the configuration).
    Every method opens its own connection (the bindings never keep a socket open while
    Python code runs).  Transport and security failures raise OSError / the cedar errors;
    protocol refusals raise :class:`ScheddError`.
    """

    def __init__(self, address: str, policy: Optional[SecurityPolicy] = None, timeout: float = 20.0):
        self.address = address
        self._policy = policy
        self.timeout = timeout

    @property
    def policy(self) -> SecurityPolicy:
        """The security policy (read from the configuration on first use)."""
        if self._policy is None:
            self._policy = client_policy()
        return self._policy

    # -- connections -------------------------------------------------------------------
    def start(self, command: int) -> tb.BlockingStream:
        """A stream with ``command`` started (security negotiated per the policy)."""
        return start_command(self.address, command, self.policy, timeout=self.timeout)

    def force_authentication(self, stream: tb.BlockingStream) -> None:
        """Authenticate on the command stream unless the session already tried it
        (``forceAuthentication`` / ``SecMan::authenticate_sock``: ACT_ON_JOBS, QMGMT write).
        Raises ScheddError when no method succeeds."""
        if _authenticated(stream):
            return
        try:
            stream.authenticate(self.policy)
        except Exception as exc:
            raise ScheddError(f"authentication with the schedd failed: {exc}") from exc

    # -- QUERY_JOB_ADS -------------------------------------------------------------------
    @staticmethod
    def query_request(constraint: Optional[str] = None, projection: Iterable[str] = (),
                      limit: int = -1, opts: int = 0, server_time: bool = True,
                      me: Optional[str] = None) -> WireAd:
        """The QUERY_JOB_ADS request ad the real client sends (e08/e09;
        dc_schedd.cpp ``makeJobsQueryAd``).  ``opts`` is QueryFetchOpts
        (src/condor_utils/query_result_type.h): 1 DefaultAutoCluster, 2 GroupBy,
        4 MyJobs (``Me``/``MyJobs``), 8 SummaryOnly, 0x10 IncludeClusterAd,
        0x20 IncludeJobsetAds.  Raises ValueError for a constraint that does not parse."""
        req = WireAd()
        req.set("Projection", "\n".join(projection))
        if limit is not None and limit >= 0:
            req.set_expr("LimitResults", str(int(limit)))
        cons = normalize_expr(constraint) if constraint and constraint.strip() else "true"
        req.set_expr("Requirements", f"(({cons}))")
        req.set_expr("SendServerTime", "true" if server_time else "false")
        if opts == 1:
            req.set_expr("QueryDefaultAutocluster", "true")
            req.set_expr("MaxReturnedJobIds", "2")
        elif opts == 2:
            req.set_expr("ProjectionIsGroupBy", "true")
            req.set_expr("MaxReturnedJobIds", "2")
        else:
            if opts & 4:
                if me:
                    req.set("Me", me)
                req.set("MyJobs", "(Owner == Me)" if me else "true")
            if opts & 8:
                req.set_expr("SummaryOnly", "true")
            if opts & 0x10:
                req.set_expr("IncludeClusterAd", "true")
            if opts & 0x20:
                req.set_expr("IncludeJobsetAds", "true")
        return req

    def query_iter(self, constraint: Optional[str] = None, projection: Iterable[str] = (),
                   limit: int = -1, opts: int = 0, server_time: bool = True,
                   summary: Optional[list] = None, me: Optional[str] = None,
                   with_auth: bool = False) -> Iterator[WireAd]:
        """Yield the job ads (WireAd) matching ``constraint``.  When ``summary`` is a list,
        the terminator ad (totals with SummaryOnly) is appended to it.  ``with_auth``: a
        "my jobs" query (opts & 4) goes as QUERY_JOB_ADS_WITH_AUTH when negotiation is on,
        as condor_q does (the bindings always use QUERY_JOB_ADS).  Raises ScheddError
        ("Failed to fetch ads from schedd, errmsg=...") when the schedd reports an error."""
        req = self.query_request(constraint, projection, limit, opts, server_time, me)
        cmd = Command.QUERY_JOB_ADS
        if with_auth and opts & 4 and opts not in (1, 2) \
                and self.policy.negotiation not in (Level.NEVER, Level.OPTIONAL):
            cmd = Command.QUERY_JOB_ADS_WITH_AUTH  # condor_q.cpp: "my jobs" with authentication
        with self.start(cmd) as s:
            s.put_ad(req).end_of_message()
            while True:
                ad = _next_ad(s)
                if ad.expr("Owner") == "0":
                    code = ad.get_int("ErrorCode", 0)
                    if code:
                        raise ScheddError("Failed to fetch ads from schedd, errmsg=TOOL:"
                                          f"{code}:{ad.get_str('ErrorString', '')}")
                    if summary is not None:
                        summary.append(ad)
                    return
                yield ad

    def query(self, *args, **kw) -> list[WireAd]:
        """:meth:`query_iter` as a list."""
        return list(self.query_iter(*args, **kw))

    # -- ACT_ON_JOBS ---------------------------------------------------------------------
    @staticmethod
    def act_request(action: int, constraint: Optional[str] = None,
                    ids: Optional[Iterable[str]] = None, reason: Optional[str] = None,
                    reason_code: Optional[str] = None, result_type: int = AR_TOTALS) -> WireAd:
        """The ACT_ON_JOBS command ad (dc_schedd.cpp ``actOnJobs``): exactly one of
        ``constraint`` / ``ids`` ("c.p" strings).  ``reason_code`` is an expression text
        (HoldReasonSubCode, hold only).  Raises ValueError for a bad constraint."""
        ad = WireAd()
        ad.set("JobAction", int(action))
        ad.set("ActionResultType", int(result_type))
        if constraint is not None:
            ad.set_expr("ActionConstraint", normalize_expr(constraint or "true"))
        else:
            joined = ",".join(ids or ())
            if joined:
                ad.set("ActionIds", joined)
        if action in (JobActionCode.VACATE, JobActionCode.VACATE_FAST):
            reason = None  # vacateJobs sends no reason
        attr = ACTION_REASON_ATTR.get(action)
        if attr and reason is not None:
            ad.set(attr, reason)
        if action == JobActionCode.HOLD and reason_code is not None:
            ad.set_expr("HoldReasonSubCode", reason_code)
        return ad

    def act(self, action: int, constraint: Optional[str] = None, ids: Optional[Iterable[str]] = None,
            reason: Optional[str] = None, reason_code: Optional[str] = None,
            result_type: int = AR_TOTALS) -> WireAd:
        """Run a job action; returns the schedd's result ad (``ActionResult``,
        ``TotalJobAds``, ``result_total_0..6`` or ``job_C_P`` per job with AR_LONG).
        A failed action (``ActionResult = 0``) is returned as is, like DCSchedd does; a
        failed commit raises ScheddError."""
        req = self.act_request(action, constraint, ids, reason, reason_code, result_type)
        with self.start(Command.ACT_ON_JOBS) as s:
            self.force_authentication(s)
            s.put_ad(req).end_of_message()
            result = s.get_ad()
            s.end_of_message()
            if result.get_int("ActionResult", 0) != 1:
                return result
            s.put_int(1).end_of_message()
            if s.get_int() != 1:
                raise ScheddError("the schedd failed to commit the job action")
            s.end_of_message()
        return result

    # -- QUERY_SCHEDD_HISTORY ------------------------------------------------------------
    @staticmethod
    def history_request(constraint: Optional[str] = None, projection: Iterable[str] = (),
                        match: int = -1, since: Optional[str] = None,
                        ad_type_filter: Optional[str] = None,
                        record_source: Optional[str] = None, tool: bool = False,
                        scan_limit: Optional[int] = None, forwards: bool = False) -> WireAd:
        """The history request ad.  Bindings form (htcondor2 ``_history_query``):
        ``Projection = {"a", "b"}`` always present; tool form (condor_history
        ``readHistoryRemote``, ``tool=True``): ``Projection = "a,b"`` only when non-empty,
        ``StreamResults = true``, ``ScanLimit``, ``HistoryReadForwards``."""
        ad = WireAd()
        if constraint:
            ad.set_expr("Requirements", normalize_expr(constraint))
        ad.set_expr("NumJobMatches", str(int(match)))
        projection = list(projection)
        if tool:
            ad.set_expr("StreamResults", "true")
            if forwards:
                ad.set_expr("HistoryReadForwards", "true")
            if scan_limit is not None and scan_limit >= 0:
                ad.set_expr("ScanLimit", str(int(scan_limit)))
            if projection:
                ad.set("Projection", ",".join(projection))
        else:
            ad.set_expr("Projection", "{" + ", ".join(f'"{a}"' for a in projection) + "}")
        if since:
            ad.set_expr("Since", normalize_expr(since))
        if ad_type_filter:
            ad.set("HistoryAdTypeFilter", ad_type_filter)
        if record_source:
            ad.set("HistoryRecordSource", record_source)
        return ad

    def history_iter(self, constraint: Optional[str] = None, projection: Iterable[str] = (),
                     match: int = -1, since: Optional[str] = None, **request) -> Iterator[WireAd]:
        """Yield the schedd's history ads, newest first (``request``: the extra
        :meth:`history_request` keywords).  Raises ScheddError with the schedd's
        ErrorString, or "Incorrect number of ads received"."""
        req = self.history_request(constraint, projection, match, since, **request)
        count = 0
        with self.start(QUERY_SCHEDD_HISTORY) as s:
            s.put_ad(req).end_of_message()
            while True:
                ad = _next_ad(s)
                owner = ad.expr("Owner")
                if owner == "1" and count == 0:
                    continue  # the "results follow" header of a streamed reply
                if owner == "0":
                    code = ad.get_int("ErrorCode", 0)
                    if code:
                        raise ScheddError(ad.get_str("ErrorString", "history query failed"))
                    if ad.get_int("MalformedAds", 0):
                        raise ScheddError("Remote side had parse errors in history file")
                    if ad.get_int("NumJobMatches", -1) != count:
                        raise ScheddError("Incorrect number of ads received")
                    return
                count += 1
                yield ad

    def history(self, *args, **kw) -> list[WireAd]:
        """:meth:`history_iter` as a list."""
        return list(self.history_iter(*args, **kw))

    # -- QMGMT ---------------------------------------------------------------------------
    def qmgmt(self, write: bool = True, effective_owner: Optional[str] = None) -> "QmgmtConnection":
        """Open a queue-management connection (``ConnectQ``)."""
        s = self.start(Command.QMGMT_WRITE_CMD if write else Command.QMGMT_READ_CMD)
        try:
            if write:
                self.force_authentication(s)
            q = QmgmtConnection(s)
            if effective_owner:
                q.set_effective_owner(effective_owner)
        except BaseException:
            s.close()
            raise
        return q

    # -- RESCHEDULE ----------------------------------------------------------------------
    def reschedule(self) -> None:
        """Send RESCHEDULE: UDP under a session unless the address says ``noUDP`` (then
        TCP with an empty payload), as ``Schedd.reschedule()`` does (PROTOCOL.md 7.2)."""
        no_udp = False
        if self.address.strip().startswith("<"):
            no_udp = "noUDP" in Sinful.parse(self.address).params
        if no_udp:
            with self.start(Command.RESCHEDULE) as s:
                s.end_of_message()
            return
        host, port = parse_address(self.address)
        if self.policy.negotiation not in (Level.NEVER, Level.OPTIONAL):
            tb.udp_session(host, port, int(Command.RESCHEDULE), self.policy, _SESSIONS,
                           timeout=self.timeout)
            tb.send_udp_command(host, port, int(Command.RESCHEDULE), None, cache=_SESSIONS)
        else:
            tb.send_udp_command(host, port, int(Command.RESCHEDULE), None)


_Q = struct.Struct(">q")
_QQ = struct.Struct(">qq")
_NOACK_BYTE = bytes([NO_ACK])


def _cedar_str(value: str, crypto: bool) -> bytes:
    """A string as :meth:`pyhtc.cedar.codec.Encoder.put_string` puts it: NUL-terminated,
    preceded by its length (8-byte int) on an encrypted stream.  Raises ValueError for a
    string holding a NUL."""
    raw = value.encode("utf-8", "surrogateescape")
    if b"\0" in raw:
        raise ValueError("CEDAR strings cannot contain NUL bytes")
    return _Q.pack(len(raw) + 1) + raw + b"\0" if crypto else raw + b"\0"


def encode_call(enc, opcode: int, *args, flags: Optional[int] = None):
    """Put one QMGMT call on encoder ``enc``: ``int opcode``, then each argument (ints as
    8-byte ints, strings as strings) and, for the *2 calls, the 1-byte
    ``SetAttributePublicFlags_t`` (qmgmt_send_stubs.cpp).  Returns ``enc``."""
    enc.put_int(opcode)
    for a in args:
        if isinstance(a, int):
            enc.put_int(a)
        else:
            enc.put_string(a)
    if flags is not None:
        enc.put_char(flags & 0xFF)
    return enc


class QmgmtConnection:
    """One QMGMT RPC connection (qmgmt_send_stubs.cpp).  Each call is one message
    ``int opcode, args...``; the reply is ``int rval`` (+ ``int errno`` and an optional
    error ad when ``rval < 0``).  Use as a context manager: leaving it sends CloseSocket
    (no reply) and closes; nothing is committed unless :meth:`commit` was called."""

    #: NoAck calls are held back (already framed and encrypted, in order) until this many
    #: bytes are pending or a call needs a reply: one send instead of one per attribute
    FLUSH_BYTES = 64 * 1024

    def __init__(self, stream: tb.BlockingStream):
        self.stream = stream
        self._pending: list[bytes] = []
        self._pending_bytes = 0
        if isinstance(stream, tb.BlockingStream):
            try:  # small request/reply messages: do not wait for delayed ACKs (Nagle)
                stream.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:
                pass

    # -- plumbing ------------------------------------------------------------------------
    def _reply(self, what: str, error_ad: bool = False) -> int:
        s = self.stream
        rval = s.get_int()
        if rval < 0:
            errno = s.get_int()
            reason = None
            dec = s._dec()
            if dec.remaining:
                ad = s.get_ad()
                reason = ad.get_str("ErrorReason")
                errno = ad.get_int("ErrorCode", errno)
            s.end_of_message()
            raise QmgmtError(f"{what} failed" + (f": {reason}" if reason else f" (errno {errno})"),
                             errno, reason)
        if error_ad and s._dec().remaining:
            s.get_ad()
        s.end_of_message()
        return rval

    def _call(self, opcode: int, *args, flags: Optional[int] = None,
              defer: bool = False) -> "QmgmtConnection":
        """Send one call; ``defer`` (NoAck calls) holds its framed bytes back until
        :meth:`_flush` (every call that is not deferred flushes first, keeping the order)."""
        s = self.stream
        encode_call(s._enc(), opcode, *args, flags=flags)
        if not isinstance(s, tb.BlockingStream):  # another stream kind: plain messages
            s.end_of_message()
            return self
        data, s._out = s._out.data, None
        wire = s.conn.send_message(data)
        self._pending.append(wire)
        self._pending_bytes += len(wire)
        if not defer or self._pending_bytes >= self.FLUSH_BYTES:
            self._flush()
        return self

    def _flush(self) -> None:
        if self._pending:
            data = b"".join(self._pending)
            self._pending, self._pending_bytes = [], 0
            self.stream.sock.sendall(data)

    # -- calls ---------------------------------------------------------------------------
    def get_capabilities(self, mask: int = 0) -> WireAd:
        """GetCapabilities: the reply is a ClassAd (no rval)."""
        self._call(Q.GetCapabilities, mask)
        ad = self.stream.get_ad()
        self.stream.end_of_message()
        return ad

    def set_effective_owner(self, owner: str) -> None:
        """SetEffectiveOwner (queue super users acting for ``owner``)."""
        self._call(Q.SetEffectiveOwner, owner)
        self._reply("SetEffectiveOwner")

    def new_cluster(self) -> int:
        """NewCluster -> the new cluster id.  Raises QmgmtError with the schedd's reason."""
        self._call(Q.NewCluster)
        return self._reply("NewCluster", error_ad=True)

    def new_proc(self, cluster: int) -> int:
        """NewProc(cluster) -> the new proc id."""
        self._call(Q.NewProc, cluster)
        return self._reply("NewProc")

    def set_attribute(self, cluster: int, proc: int, name: str, value: str, flags: int = 0) -> None:
        """SetAttribute / SetAttribute2 (with ``flags``): ``value`` is expression text.
        With NO_ACK no reply is read (a failure shows up at commit)."""
        if flags:
            self._call(Q.SetAttribute2, cluster, proc, value, name, flags=flags & 0xFF,
                       defer=bool(flags & NO_ACK))
            if flags & NO_ACK:
                return
        else:
            self._call(Q.SetAttribute, cluster, proc, value, name)
        self._reply(f"SetAttribute({cluster}.{proc}, {name})")

    def set_attribute_by_constraint(self, constraint: str, name: str, value: str, flags: int = 0) -> int:
        """SetAttributeByConstraint(2): returns the schedd's rval (matched job count)."""
        if flags:
            self._call(Q.SetAttributeByConstraint2, constraint, value, name, flags=flags & 0xFF)
        else:
            self._call(Q.SetAttributeByConstraint, constraint, value, name)
        return self._reply(f"SetAttributeByConstraint({name})")

    def send_materialize_data(self, cluster: int, rows: Iterable[str], flags: int = 0) -> tuple[str, int]:
        """SendMaterializeData (qmgmt_send_stubs.cpp): the item lines of a late-materialization
        cluster as raw bytes, each line ``\\n``-terminated (fields of a multi-variable item
        joined by 0x1F).  Returns ``(spooled items file name, row count)``; raises QmgmtError."""
        self._flush()  # held-back NoAck calls go first: the schedd sees calls in order
        enc = self.stream._enc()
        enc.put_int(Q.SendMaterializeData)
        enc.put_int(cluster)
        enc.put_int(flags)
        data = "".join(r if r.endswith("\n") else r + "\n" for r in rows).encode("utf-8")
        enc.put_bytes(data)
        self.stream.end_of_message()
        s = self.stream
        filename = s.get_string()
        count = s.get_int()
        rval = s.get_int()
        if rval < 0:
            errno = s.get_int()
            s.end_of_message()
            raise QmgmtError(f"SendMaterializeData failed (errno {errno})", errno)
        s.end_of_message()
        return filename, count

    def set_job_factory(self, cluster: int, num: int, digest: str, filename: str = "") -> None:
        """SetJobFactory(cluster, num, filename, digest): make ``cluster`` (being submitted)
        a late-materialization factory of at most ``num`` procs at a time
        (JobMaterializeLimit) from the submit digest text.  Raises QmgmtError."""
        self._call(Q.SetJobFactory, cluster, num, filename, digest)
        self._reply(f"SetJobFactory({cluster})")

    def submit_cluster(self, cluster: int, result) -> tuple[int, int]:
        """Send one cluster of a submission (a :class:`pyhtc.submit.ClusterResult` made for
        cluster id ``cluster``) as the real clients do (python-bindings schedd.cpp submit,
        condor_submit.V6/submit.cpp): for late materialization SendMaterializeData (item
        rows), SetJobFactory(cluster, num, "", digest) and the cluster ad; otherwise NewProc
        per proc, the cluster ad (NoAck SetAttribute2 on proc -1) before proc 0's own
        attributes.  The caller commits.  Returns ``(first proc id, number of procs)``;
        raises QmgmtError (or ValueError for a cluster without procs)."""
        fac = result.factory
        if fac is not None:
            digest = fac["digest"]
            if fac["items"] is not None:
                filename, _ = self.send_materialize_data(cluster, ["\x1f".join(r) for r in fac["items"]])
                # append_queue_statement: the items are read back from the spooled file
                digest = re.sub(r"from <\n?$", lambda m: f"from {filename}\n", digest)
            self.set_job_factory(cluster, fac["num"], digest)
            for name, value in result.cluster_ad.items():
                self.set_attribute(cluster, -1, name, value, NO_ACK)
            return 0, fac["procs"]
        if not result.proc_ads:
            raise ValueError("Submit description produced no jobs")
        if isinstance(self.stream, tb.BlockingStream):
            return self._submit_pipelined(cluster, result)
        first = None
        for i, proc_attrs in enumerate(result.proc_ads):
            proc = self.new_proc(cluster)
            if first is None:
                first = proc
            if i == 0:
                for name, value in result.cluster_ad.items():
                    self.set_attribute(cluster, -1, name, value, NO_ACK)
            for name, value in proc_attrs.items():
                if name == "ProcId":
                    value = str(proc)
                self.set_attribute(cluster, proc, name, value, NO_ACK)
        return first, len(result.proc_ads)

    #: procs whose NewProc calls go out together, as one batch (pipelining)
    PIPELINE = 512

    def _submit_pipelined(self, cluster: int, result) -> tuple[int, int]:
        """The calls of :meth:`submit_cluster` for a new cluster, pipelined: the NewProc
        calls of :attr:`PIPELINE` procs and their NoAck SetAttribute calls go out as one
        batch; the NewProc replies of a batch are read after the next batch is sent, so
        the schedd works on one batch while this side makes the next.  The schedd serves
        calls in order (qmgmt_receivers.cpp reads one call, answers it, reads the next), so
        the proc ids of a new cluster are 0, 1, 2...; a reply that differs, or an error,
        raises QmgmtError.  Replies are small (one int each) and at most two batches of
        them are unread, so the schedd never blocks writing them while we write."""
        s = self.stream
        conn = s.conn
        cad_items = list(result.cluster_ad.items())
        crypto = s._enc().crypto_mode
        s._out = None
        new_proc = _QQ.pack(Q.NewProc, cluster)
        head = _Q.pack(Q.SetAttribute2)
        # per attribute name: the call's tail (name string + NoAck flags byte), made once
        tails: dict[str, bytes] = {}

        def call(proc: int, name: str, value: str) -> bytes:
            # SetAttribute2(cluster, proc, value, name, NoAck) laid out as encode_call does
            tail = tails.get(name)
            if tail is None:
                tail = tails[name] = _cedar_str(name, crypto) + _NOACK_BYTE
            raw = value.encode("utf-8", "surrogateescape")
            if b"\0" in raw:
                raise ValueError("CEDAR strings cannot contain NUL bytes")
            if crypto:
                return b"".join((head, _QQ.pack(cluster, proc), _Q.pack(len(raw) + 1), raw, b"\0", tail))
            return b"".join((head, _QQ.pack(cluster, proc), raw, b"\0", tail))

        def read_replies(first: int, count: int) -> None:
            for want in range(first, first + count):
                if s._in is None:
                    msg = s._recv_message()
                    if msg.payload == _Q.pack(want):
                        continue  # the expected proc id, nothing else in the message
                    s._in = msg.decoder()
                got = self._reply("NewProc")
                if got != want:
                    raise QmgmtError(f"NewProc returned proc {got}, expected {want}", 0)

        count = 0
        unread: Optional[tuple[int, int]] = None  # (first proc, count) of the batch sent last
        batch: list[bytes] = []  # call payloads, framed (and encrypted) when the batch goes
        append = batch.append
        first_of_batch = 0
        for proc_attrs in result.proc_ads:
            proc = count
            append(new_proc)
            if count == 0:
                for name, value in cad_items:
                    append(call(-1, name, value))
            for name, value in proc_attrs.items():
                append(call(proc, name, str(proc) if name == "ProcId" else value))
            count += 1
            if count - first_of_batch >= self.PIPELINE:
                self._flush()  # calls held back before the submission, in order
                s.sock.sendall(conn.send_messages(batch))
                batch.clear()
                if unread is not None:
                    read_replies(*unread)
                unread = (first_of_batch, count - first_of_batch)
                first_of_batch = count
        self._flush()
        if batch:
            s.sock.sendall(conn.send_messages(batch))
        if unread is not None:
            read_replies(*unread)
        if count > first_of_batch:
            read_replies(first_of_batch, count - first_of_batch)
        return 0, count

    def begin(self) -> None:
        """BeginTransaction."""
        self._call(Q.BeginTransaction)
        self._reply("BeginTransaction")

    def abort(self) -> None:
        """AbortTransaction."""
        self._call(Q.AbortTransaction)
        self._reply("AbortTransaction")

    def commit(self, flags: int = 0) -> Optional[str]:
        """CommitTransaction(NoFlags): returns the schedd's WarningReason if any; raises
        QmgmtError with its ErrorReason when the commit is refused."""
        if flags:
            self._call(Q.CommitTransaction, flags)
        else:
            self._call(Q.CommitTransactionNoFlags)
        s = self.stream
        rval = s.get_int()
        errno = s.get_int() if rval < 0 else 0
        ad = s.get_ad() if s._dec().remaining else None
        s.end_of_message()
        if rval < 0:
            reason = ad.get_str("ErrorReason") if ad is not None else None
            raise QmgmtError("CommitTransaction failed" + (f": {reason}" if reason else f" (errno {errno})"),
                             errno, reason)
        return ad.get_str("WarningReason") if ad is not None else None

    def close(self) -> None:
        """CloseSocket (no reply) and close the connection."""
        try:
            self._call(Q.CloseSocket)
        except Exception:  # the schedd may already have closed (e.g. after a refused NoAck call)
            pass
        finally:
            self.stream.close()

    def __enter__(self) -> "QmgmtConnection":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
