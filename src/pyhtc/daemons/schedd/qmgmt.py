"""Queue management (QMGMT_WRITE_CMD 1112 / QMGMT_READ_CMD 1111): the RPC loop a client
uses to submit and edit jobs (``htcondor2.Schedd.submit()``, ``Schedd.edit()``).

Wire protocol (src/condor_schedd.V6/qmgmt_receivers.cpp, PROTOCOL.md 6.6): each call is one
message ``int opcode, args...``; the reply (unless SetAttribute's NoAck flag is set) is one
message ``int rval`` then, when ``rval < 0``, ``int errno``; some calls add a value or a
ClassAd.  Errors of NoAck SetAttribute calls are remembered and make the commit fail.

Permission rules (qmgmt.cpp ModifyAttrCheck, SetAttribute):

- only an authenticated client may change anything; a QMGMT_READ_CMD connection may not;
- ``SECURE_JOB_ATTRS`` are silently ignored, ``IMMUTABLE_JOB_ATTRS`` (Owner, ClusterId,
  ProcId, MyType, TargetType, JobUniverse, User, OsUser) may not change once committed,
  ``PROTECTED_JOB_ATTRS`` only by a queue super user; only the owner (or a queue super user)
  may change a committed job;
- a new job's ``Owner = undefined`` becomes the authenticated owner, and ``User`` becomes
  ``owner@UID_DOMAIN``; setting another owner is refused unless a queue super user does it.
"""
from __future__ import annotations

import errno as E
import re
import struct
import sys
import time
from typing import Optional

from pyhtc import classad as C
from pyhtc.cedar.errors import CedarError, ConnectionClosed
from pyhtc.cedar.wire_ad import WireAd
from pyhtc.daemoncore.log import Category

from .factory import FactoryError, JobFactory, digest_path, items_path, parse_item_rows
from .jobactions import count_hold, quote, unquote
from .jobads import ConstraintMatcher, parse_expr, wire_ad
from .queue import QueueError

__all__ = ["QmgmtSession", "OP"]


class OP:
    """QMGMT opcodes (src/condor_schedd.V6/qmgmt_constants.h)."""

    InitializeConnection = 10001
    NewCluster = 10002
    NewProc = 10003
    DestroyCluster = 10004
    DestroyProc = 10005
    SetAttribute = 10006
    CommitTransactionNoFlags = 10007
    GetAttributeFloat = 10008
    GetAttributeInt = 10009
    GetAttributeString = 10010
    GetAttributeExpr = 10011
    DeleteAttribute = 10012
    GetNextJob = 10013
    GetJobAd = 10018
    GetJobByConstraint = 10019
    GetNextJobByConstraint = 10020
    SetAttributeByConstraint = 10021
    InitializeReadOnlyConnection = 10022
    BeginTransaction = 10023
    AbortTransaction = 10024
    GetAllJobsByConstraint = 10026
    SetAttribute2 = 10027
    CloseSocket = 10028
    SetEffectiveOwner = 10030
    CommitTransaction = 10031
    SetAttributeByConstraint2 = 10032
    SetAllowProtectedAttrChanges = 10035
    GetCapabilities = 10036
    SetJobFactory = 10037
    SendMaterializeData = 10039


# SetAttribute flags (src/condor_includes/condor_qmgr.h)
NO_ACK = 1 << 1
ONLY_MY_JOBS = 1 << 4
QUERY_ONLY = 1 << 5
POST_SUBMIT_CLUSTER_CHANGE = 1 << 7

_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*$")
#: values that are valid expressions without parsing them (integers, plain string literals)
_SIMPLE_VALUE = re.compile(r'-?[0-9]{1,18}|"[^"\\\x00-\x1f]*"')
#: attributes whose value the schedd fills in for a new job
_OWNER, _USER = "owner", "user"
#: lower-case names :meth:`QmgmtSession.set_attribute` treats specially for a new job
#: (JobStatus only matters for committed jobs)
_SPECIAL_SET = frozenset({_OWNER, _USER, "holdreasoncode"})


class QmgmtError(Exception):
    """A refused queue operation: ``errno`` and a message in HTCondor's words."""

    def __init__(self, errno: int, message: str = ""):
        super().__init__(message)
        self.errno = errno


_Q = struct.Struct(">q")
_QQ = struct.Struct(">qq")
_QQQ = struct.Struct(">qqq")
_SET_ATTR2 = _Q.pack(10027)
_SET_ATTR = _Q.pack(10006)
_NEW_PROC = _Q.pack(10003)


def _parse_set_attribute(payload: bytes, crypto: bool):
    """``(cluster, proc, value, name, flags)`` of a SetAttribute / SetAttribute2 call message
    (qmgmt_send_stubs.cpp: int opcode, int cluster, int proc, string value, string name
    [, char flags]), decoded from the payload bytes as :class:`pyhtc.cedar.codec.Decoder`
    would; None for any other message or anything unusual (a NULL string, bytes left over,
    a truncated field): those take the general path, which reports errors."""
    head = payload[:8]
    if head == _SET_ATTR2:
        two = True
    elif head == _SET_ATTR:
        two = False
    else:
        return None
    n = len(payload)
    if crypto and two and n >= 41:
        # the usual shape (what every client sends per attribute), in fewer steps: both
        # strings end with their only NUL, the flags byte ends the message
        c, p, vlen = _QQQ.unpack_from(payload, 8)
        vend = 31 + vlen  # the value's NUL
        if vlen > 1 and vend + 10 <= n and payload.find(0, 32, vend + 1) == vend and payload[32] != 0xFF:
            nlen = _Q.unpack_from(payload, vend + 1)[0]
            nend = vend + 8 + nlen  # the name's NUL
            if nlen > 1 and nend + 2 == n and payload.find(0, vend + 9, nend + 1) == nend \
                    and payload[vend + 9] != 0xFF:
                return (c, p, payload[32:vend].decode("utf-8", "surrogateescape"),
                        payload[vend + 9:nend].decode("utf-8", "surrogateescape"), payload[nend + 1])
    if n < 24:
        return None
    c, p = _QQ.unpack_from(payload, 8)
    pos = 24
    out = []
    for _ in (0, 1):
        if crypto:
            if pos + 8 > n:
                return None
            length = _Q.unpack_from(payload, pos)[0]
            pos += 8
            if length < 1 or pos + length > n:
                return None
            body = payload[pos:pos + length]
            pos += length
            if body[0] == 0xFF:
                return None
            nul = body.find(0)
            if nul >= 0:
                body = body[:nul]
        else:
            if pos >= n or payload[pos] == 0xFF:
                return None
            end = payload.find(0, pos)
            if end < 0:
                return None
            body = payload[pos:end]
            pos = end + 1
        out.append(body.decode("utf-8", "surrogateescape"))
    flags = 0
    if two:
        if pos >= n:
            return None
        flags = payload[pos]
        pos += 1
    if pos != n:
        return None
    return c, p, out[0], out[1], flags


class _BatchedIO:
    """The message I/O of a QMGMT connection with replies held back while more calls are
    already waiting: a client that pipelines calls (many NewProc / NoAck SetAttribute
    calls sent before it reads the replies) gets its replies in one write instead of a
    system call each.  Held replies go out before the session waits for the peer, when
    :data:`FLUSH_BYTES` gather, and at the end of the session -- a client waiting for a
    reply has sent nothing more, so it never waits for a held one."""

    FLUSH_BYTES = 256 * 1024

    def __init__(self, io):
        self._io = io
        self.conn = io.conn
        self._out: list[bytes] = []
        self._size = 0
        self._ready: list = []  # messages received but not served yet

    def __getattr__(self, name):
        return getattr(self._io, name)

    async def send_bytes(self, data: bytes) -> None:
        if data:
            self._out.append(data)
            self._size += len(data)
            if self._size >= self.FLUSH_BYTES:
                await self.flush()

    def hold(self, data: bytes) -> bool:
        """Hold ``data`` (wire bytes of a reply) without awaiting; True when
        :data:`FLUSH_BYTES` have gathered and the caller should :meth:`flush`."""
        self._out.append(data)
        self._size += len(data)
        return self._size >= self.FLUSH_BYTES

    async def flush(self) -> None:
        """Write the held replies."""
        if self._out:
            data = b"".join(self._out)
            self._out, self._size = [], 0
            await self._io.send_bytes(data)

    def take_ready(self) -> list:
        """Every message already received (put back ones first), without awaiting."""
        if self._ready:
            ready, self._ready = self._ready, []
            return ready
        return self.conn.next_messages()

    def put_back(self, msgs: list) -> None:
        """Messages taken by :meth:`take_ready` but not served: they come first next."""
        if msgs:
            self._ready = msgs + self._ready

    async def recv_message(self):
        if self._ready:
            return self._ready.pop(0)
        msg = self.conn.next_message()
        if msg is not None:
            return msg
        await self.flush()
        return await self._io.recv_message()


class QmgmtSession:
    """One QMGMT connection: its implicit transaction, active cluster, deferred errors.

    ``schedd`` is the :class:`~.daemon.Schedd`; ``read_only`` for QMGMT_READ_CMD.
    """

    def __init__(self, schedd, stream, read_only: bool):
        self.s = schedd
        self.stream = stream
        self._batched = None
        if hasattr(getattr(stream, "_io", None), "conn"):
            self._batched = stream._io = _BatchedIO(stream._io)
        self.read_only = read_only
        self.fqu: Optional[str] = stream.peer.user
        self.owner = (self.fqu or "").split("@", 1)[0] or None
        self.tx = schedd.queue.begin(self.fqu)
        self.active_cluster = -1
        self.errors: list[tuple[int, str]] = []
        self._plain_names: dict[str, str] = {}  # attribute name -> lower case, checks passed
        #: the same as UTF-8 bytes -> (name, lower case), for :meth:`_fast_set`
        self._name_bytes: dict[bytes, tuple[str, str]] = {}
        self.scan: Optional[list] = None
        self.allow_protected = True
        self._owner_jobs: Optional[int] = None  # the owner's jobs in the queue (MAX_JOBS_PER_OWNER)
        #: late materialization of this transaction: cluster -> JobFactory / item lines
        self.factories: dict[int, JobFactory] = {}
        self.item_lines: dict[int, list[str]] = {}

    # -- permission checks ---------------------------------------------------------------
    @property
    def super_user(self) -> bool:
        return self.s.is_queue_super_user(self.fqu)

    def _check_modify(self, c: int, p: int, name: str, value: Optional[str],
                      deleting: bool = False) -> bool:
        """ModifyAttrCheck: raise QmgmtError to refuse, return False to ignore quietly."""
        func = "DeleteAttribute" if deleting else "SetAttribute"
        if self.read_only or self.fqu is None:
            raise QmgmtError(E.EACCES, "Authentication is required to set attributes")
        if c <= 0:  # 0.0 is the queue's header ad; no job has cluster id <= 0
            raise QmgmtError(E.EACCES, f"{func} of special ad {c}.{p} is not permitted")
        if not _NAME_RE.match(name or ""):
            raise QmgmtError(E.EINVAL, f"Got invalid attribute named {name} for job {c}.{p}")
        if not deleting:
            try:
                if not _SIMPLE_VALUE.fullmatch(value):
                    parse_expr(value)
            except Exception:
                raise QmgmtError(E.EINVAL, f"Received invalid attribute value '{value}' for "
                                           f"job {c}.{p}; ignoring") from None
        low = name.lower()
        if low in self.s.secure_attrs:
            self.s.dprintf(Category.ALWAYS, f"{func} attempt to edit secure attribute {name} "
                                            f"in job {c}.{p}. Ignoring!")
            return False
        if (c, p) in self.s.queue.ads:
            if not self.s.owns(self.fqu, c, p):
                raise QmgmtError(E.EACCES, f"User {self.owner} may not change attributes for "
                                           f"jobs they do not own (job {c}.{p})")
            if low in self.s.immutable_attrs:
                raise QmgmtError(E.EACCES, f"Attempt to edit immutable attribute {name} in job {c}.{p}")
            if low in self.s.protected_attrs and not (self.super_user and self.allow_protected):
                raise QmgmtError(E.EACCES, f"Unauthorized setting of protected attribute {name} "
                                           f"denied for real owner {self.owner} (effective owner "
                                           f"{self.owner}; allowed protected attribute change = "
                                           f"{'true' if self.allow_protected else 'false'}) in job {c}.{p}")
        elif c == self.active_cluster and c in self.tx.new_clusters:
            if p < -1 or p >= self.tx.next_proc.get(c, 0):
                raise QmgmtError(E.ENOENT, f"Modifying attribute {name} in non-active cluster "
                                           f"{c} (current active cluster is {self.active_cluster})")
            if deleting and self.tx.get_attribute(c, p, name) is None:
                raise QmgmtError(E.ENOENT, "")
        else:
            raise QmgmtError(E.ENOENT, f"Modifying attribute {name} in nonexistent job {c}.{p}")
        return True

    def set_attribute(self, c: int, p: int, name: str, value: str, flags: int = 0) -> None:
        """SetAttribute with HTCondor's checks and special cases (Owner, User, JobStatus).
        Raises QmgmtError."""
        if not self._check_modify(c, p, name, value):
            return
        low = name.lower()
        if low in (_OWNER, _USER) and c > 0 and p >= 0:
            if p > 0:
                return  # Owner/User live in the cluster ad; procs' copies are ignored
            p = -1
        if low == _OWNER:
            value = self._owner_value(c, p, value)
            if flags & QUERY_ONLY:
                return
            self.tx.set_attribute(c, p, name, value)
            self.tx.set_attribute(c, p, "User", quote(f"{unquote(value)}@{self.s.uid_domain}"))
            return
        if low == _USER:
            value = self._user_value(c, p, value)
        if low == "jobstatus" and (c, p) in self.s.queue.ads:
            self._check_status_change(c, p, value)
        if flags & QUERY_ONLY:
            return
        self.tx.set_attribute(c, p, name, value)
        if low == "holdreasoncode":
            # qmgmt.cpp counts every hold (e.g. submit with hold = true) except spooling ones
            try:
                code = int(value)
            except ValueError:
                code = 0
            if code != 16:
                count_hold(self.tx, c, p, code)

    def _owner_value(self, c, p, value: str) -> str:
        if value.strip().lower() == "undefined":
            if not self.owner:
                raise QmgmtError(E.EACCES, "Client is not authenticated and owner is undefined")
            value = quote(self.owner)
        owner = unquote(value)
        if owner is None or '"' in owner:
            raise QmgmtError(E.EACCES, f"Unable to set owner to {value} as it is not a valid owner string")
        if owner == "LOCAL_SYSTEM" or (owner == "root" and not self.s.allow_root_owner):
            raise QmgmtError(E.EACCES, f"Setting job owner to {value} is not permitted")
        old = unquote(self.tx.get_attribute(c, p, "Owner")) if self.tx.exists(c, p) else None
        if old is not None and old != owner and not self.s.all_users_trusted:
            raise QmgmtError(E.EACCES, f"Setting owner to {value} when previously set to "
                                       f"{old} is not permitted.")
        if owner != self.owner and not self.s.all_users_trusted and not self.super_user:
            raise QmgmtError(E.EACCES, f"Setting owner to {owner} when active owner is "
                                       f"{self.owner} is not permitted")
        return quote(owner)

    def _user_value(self, c, p, value: str) -> str:
        if value.strip().lower() == "undefined":
            if not self.fqu:
                raise QmgmtError(E.EACCES, "Client is not authenticated and owner is undefined")
            return quote(self.fqu)
        user = unquote(value)
        if not user or '"' in user:
            raise QmgmtError(E.EACCES, f"Unable to set User to {value}")
        old = unquote(self.tx.get_attribute(c, p, "User")) if self.tx.exists(c, p) else None
        if old is not None and old != user and not self.s.all_users_trusted:
            raise QmgmtError(E.EACCES, f"Setting User to {value} when previously set to {old} "
                                       f"is not permitted.")
        return quote(user)

    def _check_status_change(self, c, p, value: str) -> None:
        """The JobStatus hook of qmgmt.cpp SetAttribute: a removed job only goes to held."""
        try:
            new = int(value)
        except ValueError:
            raise QmgmtError(E.EINVAL, f"Invalid JobStatus {value} for job {c}.{p}") from None

        def geti(attr):
            t = self.tx.get_attribute(c, p, attr)
            try:
                return int(t) if t is not None else 0
            except ValueError:
                return 0
        cur = geti("JobStatus")
        if new not in (3, 5) and 3 in (cur, geti("LastJobStatus"), geti("JobStatusOnRelease")):
            raise QmgmtError(E.EINVAL, f"Changing JobStatus of removed job {c}.{p} to {new} is invalid")
        if cur == 3 and new == 5 and geti("JobStatusOnRelease") != 3:
            self.tx.set_attribute(c, p, "JobStatusOnRelease", "3")
        if new != cur and cur > 0:
            self.tx.set_attribute(c, p, "LastJobStatus", str(cur))

    # -- the RPC loop --------------------------------------------------------------------
    async def run(self) -> None:
        """Serve calls until CloseSocket or the connection ends; an uncommitted transaction
        is then discarded."""
        st = self.stream
        io = self._batched
        conn = st.conn
        try:
            while True:
                try:
                    if io is not None and st._in is None:
                        # the calls of a submission (NewProc, SetAttribute) are decoded
                        # straight from the message bytes and, while more calls are already
                        # received, served without awaiting; anything else goes through
                        # the stream
                        msgs = io.take_ready() or [await io.recv_message()]
                        other = None
                        replies = []  # NewProc replies, framed together below
                        for i, msg in enumerate(msgs):
                            payload = msg.payload
                            if len(payload) == 16 and payload[:8] == _NEW_PROC:
                                replies.append(self._new_proc_reply(_Q.unpack_from(payload, 8)[0]))
                            elif not (msg.crypto_mode and self._fast_set(payload)):
                                other = msg
                                io.put_back(msgs[i + 1:])
                                break
                        if replies and io.hold(conn.send_messages(replies)):
                            await io.flush()
                        if other is None:
                            continue
                        call = _parse_set_attribute(other.payload, other.crypto_mode)
                        if call is not None:
                            c, p, value, name, flags = call
                            if await self._set_attribute_call(c, p, value, name, flags) is False:
                                return
                            continue
                        st._in = other.decoder()
                    op = await st.get_int()
                except (CedarError, EOFError, ConnectionError, OSError) as exc:
                    if not isinstance(exc, (EOFError, ConnectionError, ConnectionClosed)):
                        self.s.dprintf(Category.ALWAYS, f"QMGMT: connection from {st.peer.address} "
                                                        f"ended: {type(exc).__name__}: {exc}")
                    return
                handler = self._ops.get(op)
                if handler is None:
                    self.s.dprintf(Category.ALWAYS, f"QMGMT: unknown request {op} from "
                                                    f"{st.peer.address}; closing")
                    return
                if await handler(self) is False:
                    return
        finally:
            self.tx.abort()
            if self._batched is not None:
                try:
                    await self._batched.flush()
                except (CedarError, ConnectionError, OSError):
                    pass

    async def _reply(self, rval: int, errno: int = 0, *extra) -> None:
        st = self.stream
        st.put_int(rval)
        if rval < 0:
            st.put_int(errno)
        for kind, v in extra:
            getattr(st, "put_" + kind)(v)
        await st.end_of_message()

    async def _op_init(self):
        await self.stream.end_of_message()

    async def _op_close(self):
        await self.stream.end_of_message()
        return False

    async def _op_set_effective_owner(self):
        owner = await self.stream.get_string()
        await self.stream.end_of_message()
        if not owner or owner == self.owner:
            return await self._reply(0)
        if self.super_user:
            self.owner = owner.split("@", 1)[0]
            self.fqu = owner if "@" in owner else f"{owner}@{self.s.uid_domain}"
            return await self._reply(0)
        await self._reply(-1, E.EACCES)

    async def _op_allow_protected(self):
        val = await self.stream.get_int()
        await self.stream.end_of_message()
        self.allow_protected = bool(val)
        await self._reply(0)

    async def _op_capabilities(self):
        await self.stream.get_int()  # mask
        await self.stream.end_of_message()
        # GetSchedulerCapabilities (qmgmt.cpp)
        self.stream.put_ad(WireAd.from_values({"LateMaterialize": self.s.allow_late_materialize,
                                               "LateMaterializeVersion": 2}))
        await self.stream.end_of_message()

    async def _op_new_cluster(self):
        await self.stream.end_of_message()
        if self.read_only or self.fqu is None:
            self.stream.put_int(-1).put_int(E.EACCES)
            self.stream.put_ad(WireAd.from_values({"ErrorCode": E.EACCES,
                                                   "ErrorReason": "Cannot allocate a cluster id"}))
            await self.stream.end_of_message()
            return
        limit = self.s.max_jobs_submitted
        if limit is not None and self.s.queue.job_count() >= limit:
            self.stream.put_int(-2).put_int(E.EINVAL)
            self.stream.put_ad(WireAd.from_values({
                "ErrorCode": E.EINVAL,
                "ErrorReason": f"Number of submitted jobs would exceed MAX_JOBS_SUBMITTED"}))
            await self.stream.end_of_message()
            return
        cid = self.tx.new_cluster()
        self.active_cluster = cid
        self.s.dprintf(Category.FULLDEBUG, f"QMGMT: NewCluster {cid} for {self.fqu}")
        await self._reply(cid)

    async def _op_new_proc(self):
        c = await self.stream.get_int()
        await self.stream.end_of_message()
        await self.stream.put_message(self._new_proc_reply(c))

    def _new_proc_reply(self, c: int) -> bytes:
        """NewProc(cluster) (qmgmt.cpp NewProc): allocate the next proc of the cluster being
        submitted; returns the reply payload, ``int proc`` or ``int rval < 0, int errno``
        (-2 MAX_JOBS_SUBMITTED, -3 MAX_JOBS_PER_OWNER, -4 MAX_JOBS_PER_SUBMISSION).  The
        job ad is filled in at commit (:meth:`Schedd.commit_transaction`), so the reply
        goes out before anything else is done."""
        tx = self.tx
        if self.read_only or self.fqu is None:
            return _QQ.pack(-1, E.EACCES)
        if c != self.active_cluster or c not in tx.new_clusters:
            return _QQ.pack(-1, E.EINVAL)
        s = self.s
        if len(tx.new_clusters) == 1:
            added = tx.next_proc.get(c, 0)
        else:
            added = sum(tx.next_proc.get(k, 0) for k in tx.new_clusters)
        limit = s.max_jobs_submitted
        if limit is not None and s.queue.job_count() + added >= limit:
            return _QQ.pack(-2, E.EINVAL)   # NEWJOB_ERR_MAX_JOBS_SUBMITTED
        limit = s.max_jobs_per_owner
        if limit is not None:
            if self._owner_jobs is None:
                self._owner_jobs = s.jobs_of(self.fqu)
            if self._owner_jobs + added >= limit:
                s.dprintf(Category.ALWAYS, f"NewProc(): MAX_JOBS_PER_OWNER exceeded for {self.owner}, "
                                           f"submit failed.  Limit is {limit}.")
                return _QQ.pack(-3, E.EINVAL)   # NEWJOB_ERR_MAX_JOBS_PER_OWNER
        limit = s.max_jobs_per_submission
        if limit is not None and added >= limit:
            return _QQ.pack(-4, E.EINVAL)   # NEWJOB_ERR_MAX_JOBS_PER_SUBMISSION
        return _Q.pack(tx.new_proc(c))

    async def _op_destroy_proc(self):
        c = await self.stream.get_int()
        p = await self.stream.get_int()
        await self.stream.end_of_message()
        await self._reply(*self._destroy(c, p))

    async def _op_destroy_cluster(self):
        c = await self.stream.get_int()
        await self.stream.end_of_message()
        await self._reply(*self._destroy(c, None))

    def _destroy(self, c: int, p: Optional[int]) -> tuple[int, int]:
        if self.read_only or self.fqu is None:
            return -1, E.EACCES
        if c in self.tx.new_clusters:
            if p is None:
                self.tx.destroy_cluster(c)
                self.factories.pop(c, None)
                self.item_lines.pop(c, None)
            elif self.tx.exists(c, p):
                self.tx.destroy_proc(c, p)
            else:
                return -1, E.ENOENT
            return 0, 0
        procs = self.tx.procs(c) if p is None else ([p] if self.tx.exists(c, p) else [])
        if not procs:
            return -1, E.ENOENT
        if not all(self.s.owns(self.fqu, c, q) for q in procs):
            return -1, E.EACCES
        for q in procs:
            self.tx.retire(c, q)
        return 0, 0

    async def _op_set_attribute(self, two: bool):
        st = self.stream
        dec = await st._decoder()  # the call's message is in: decode it without awaiting
        c = dec.get_int()
        p = dec.get_int()
        value = dec.get_string()
        name = dec.get_string()
        flags = dec.get_char() if two else 0
        await st.end_of_message()
        return await self._set_attribute_call(c, p, value, name, flags)

    async def _set_attribute_call(self, c: int, p: int, value: str, name: str, flags: int):
        """Serve one decoded SetAttribute(2) call; False ends the connection."""
        if not value:
            if flags & NO_ACK:
                return False
            return await self._reply(-1, E.EINVAL)
        if flags & NO_ACK and self.errors:
            return  # ignored after the first deferred error
        if flags == NO_ACK and p >= 0 and self._fast_new_proc_set(c, p, name, value):
            return
        try:
            self.set_attribute(c, p, name, value, flags)
            rval, err = 0, 0
        except (QmgmtError, QueueError) as exc:
            rval, err = -1, exc.errno
            self.s.dprintf(Category.ALWAYS, f"SetAttribute({c}.{p}, {name}) refused: {exc}")
            if flags & NO_ACK:
                self.errors.append((err, str(exc)))
        if not flags & NO_ACK:
            await self._reply(rval, err)

    def _fast_set(self, payload: bytes) -> bool:
        """Serve the message ``payload`` (of an encrypted stream) if it is what a submission
        sends per proc: SetAttribute2(cluster, proc, value, name, NoAck) of an ordinary
        attribute on a proc created in this transaction, laid out as every client lays it
        out (qmgmt_send_stubs.cpp: int opcode, int cluster, int proc, string value, string
        name, char flags; each string ``int len`` + bytes + NUL).  The checks are those of
        :meth:`_fast_new_proc_set`, the name's done once per name.  Returns False, having
        changed nothing, for anything else: the general path then decides."""
        n = len(payload)
        if n < 41 or payload[n - 1] != NO_ACK or payload[:8] != _SET_ATTR2 or self.errors:
            return False
        c, p, vlen = _QQQ.unpack_from(payload, 8)
        vend = 31 + vlen  # the value's NUL
        if vlen <= 1 or vend + 10 > n or payload.find(0, 32, vend + 1) != vend or payload[32] == 0xFF:
            return False
        nend = vend + 8 + _Q.unpack_from(payload, vend + 1)[0]  # the name's NUL
        if nend + 2 != n or nend <= vend + 9:
            return False
        entry = self._name_bytes.get(payload[vend + 9:nend])
        if entry is None:
            if payload.find(0, vend + 9, nend + 1) != nend or payload[vend + 9] == 0xFF:
                return False
            name = payload[vend + 9:nend].decode("utf-8", "surrogateescape")
            if self.read_only or self.fqu is None or not _NAME_RE.match(name):
                return False
            low = sys.intern(name.lower())
            if low in self.s.secure_attrs or low in _SPECIAL_SET:
                return False
            entry = self._name_bytes[payload[vend + 9:nend]] = (sys.intern(name), low)
        tx = self.tx
        if c != self.active_cluster or p < 0 or p >= tx.next_proc.get(c, 0) or c not in tx.new_clusters:
            return False
        value = payload[32:vend].decode("utf-8", "surrogateescape")
        if not _SIMPLE_VALUE.fullmatch(value):
            try:
                parse_expr(value)
            except Exception:
                return False
        elif vlen <= 3:
            value = sys.intern(value)  # JobStatus = 1 and the like: one copy for all procs
        key = (c, p)
        ad = tx.staged.get(key)
        if ad is None or key in tx.destroyed:
            return False
        name, low = entry
        old = ad.get(low)
        ad[low] = (old[0] if old else name, value)
        return True

    def _fast_new_proc_set(self, c: int, p: int, name: str, value: str) -> bool:
        """SetAttribute of an ordinary attribute on a proc created in this transaction (what
        a submission sends per proc), with the checks of :meth:`_check_modify` that apply
        to it done cheaply: the name's checks are remembered per name.  Returns False when
        the general path must decide (anything else, or anything refused)."""
        tx = self.tx
        if c != self.active_cluster or c not in tx.new_clusters or p >= tx.next_proc.get(c, 0):
            return False
        low = self._plain_names.get(name)
        if low is None:
            if self.read_only or self.fqu is None or not _NAME_RE.match(name):
                return False
            low = sys.intern(name.lower())
            if low in self.s.secure_attrs or low in _SPECIAL_SET:
                return False
            self._plain_names[name] = low
        if not _SIMPLE_VALUE.fullmatch(value):
            try:
                parse_expr(value)
            except Exception:
                return False
        key = (c, p)
        ad = tx.staged.get(key)
        if ad is None or key in tx.destroyed:
            return False
        old = ad.get(low)
        ad[low] = (old[0] if old else sys.intern(name), value)
        return True

    async def _op_set_attr1(self):
        return await self._op_set_attribute(False)

    async def _op_set_attr2(self):
        return await self._op_set_attribute(True)

    async def _op_set_by_constraint(self, two: bool):
        st = self.stream
        constraint = await st.get_string()
        value = await st.get_string()
        name = await st.get_string()
        flags = (await st.get_char()) if two else 0
        await st.end_of_message()
        rval, err = self.set_by_constraint(constraint, name, value, flags)
        await self._reply(rval, err)

    async def _op_sbc1(self):
        return await self._op_set_by_constraint(False)

    async def _op_sbc2(self):
        return await self._op_set_by_constraint(True)

    def set_by_constraint(self, constraint: str, name: str, value: str, flags: int) -> tuple[int, int]:
        """SetAttributeByConstraint: returns ``(number of jobs changed, 0)`` or ``(-1, errno)``
        (ENOENT when nothing matched)."""
        if self.read_only or self.fqu is None:
            return -1, E.EACCES
        try:
            expr = parse_expr(constraint or "true")
        except Exception:
            return -1, E.EINVAL
        only_mine = bool(flags & ONLY_MY_JOBS) and self.s.only_my_jobs and not self.super_user
        jobs = clusters = 0
        error = 0
        match = ConstraintMatcher(self.s.queue, expr).matches
        for c, p in list(self.s.queue.jobs()):
            if (c, p) not in self.s.queue.ads or not match(c, p):
                continue
            if only_mine and not self.s.owns(self.fqu, c, p):
                continue
            jobs += 1
            try:
                self.set_attribute(c, p, name, value, flags & ~ONLY_MY_JOBS)
            except (QmgmtError, QueueError) as exc:
                self.s.dprintf(Category.ALWAYS, f"SetAttributeByConstraint {c}.{p} {name}: {exc}")
                error = exc.errno
        if error:
            return -1, error
        if jobs == 0 and clusters == 0:
            return -1, E.ENOENT
        return jobs or clusters, 0

    async def _op_delete_attribute(self):
        st = self.stream
        c = await st.get_int()
        p = await st.get_int()
        name = await st.get_string()
        await st.end_of_message()
        try:
            self._check_modify(c, p, name, None, deleting=True)
            if self.tx.get_attribute(c, p, name) is None:
                raise QmgmtError(E.ENOENT, f"{name} is not set in job {c}.{p}")
            if not self.tx.delete_attribute(c, p, name):
                self.tx.set_attribute(c, p, name, "undefined")  # set only in the cluster ad
            await self._reply(0)
        except (QmgmtError, QueueError) as exc:
            await self._reply(-1, exc.errno)

    async def _op_begin(self):
        await self.stream.end_of_message()
        self.errors = []
        await self._reply(0)

    async def _op_abort(self):
        await self.stream.end_of_message()
        self.errors = []
        self.tx.abort()
        self.factories = {}
        self.item_lines = {}
        self.active_cluster = -1
        await self._reply(0)

    async def _op_commit(self, with_flags: bool):
        st = self.stream
        if with_flags:
            await st.get_int()
        await st.end_of_message()
        if self.errors:
            code, msg = self.errors[0]
            self.tx.abort()
            self.errors = []
            st.put_int(-1).put_int(-code if code > 0 else -1)
            st.put_ad(WireAd.from_values({"ErrorCode": 2, "ErrorReason": msg}))
            await st.end_of_message()
            return
        try:
            warnings = self.s.commit_transaction(self)
        except QmgmtError as exc:
            self.tx.abort()
            st.put_int(-1).put_int(exc.errno)
            st.put_ad(WireAd.from_values({"ErrorCode": 2, "ErrorReason": str(exc)}))
            await st.end_of_message()
            return
        self.active_cluster = -1
        self._owner_jobs = None
        st.put_int(0)
        reply = WireAd()
        if warnings:
            reply.set("WarningReason", warnings)
        st.put_ad(reply)
        await st.end_of_message()

    async def _op_commit0(self):
        return await self._op_commit(False)

    async def _op_commit1(self):
        return await self._op_commit(True)

    def _lookup(self, c: int, p: int, name: str) -> Optional[str]:
        if name.lower() in self.s.private_attrs or not self.tx.exists(c, p):
            return None
        return self.tx.get_attribute(c, p, name)

    async def _read_get(self):
        st = self.stream
        c = await st.get_int()
        p = await st.get_int()
        name = await st.get_string()
        await st.end_of_message()
        return c, p, name

    async def _op_get_expr(self):
        c, p, name = await self._read_get()
        text = self._lookup(c, p, name)
        if text is None:
            return await self._reply(-1, E.ENOENT)
        await self._reply(0, 0, ("string", text))

    async def _op_get_string(self):
        c, p, name = await self._read_get()
        text = self._lookup(c, p, name)
        value = None
        if text is not None:
            try:
                v = parse_expr(text).eval(self.s.ads.get(c, p) if (c, p) in self.s.queue.ads else None)
            except Exception:
                v = None
            value = v if isinstance(v, str) else None
        if value is None:
            return await self._reply(-1, E.ENOENT)
        await self._reply(0, 0, ("string", value))

    async def _op_get_number(self, kind: str):
        c, p, name = await self._read_get()
        text = self._lookup(c, p, name)
        value = None
        if text is not None:
            try:
                v = parse_expr(text).eval(self.s.ads.get(c, p) if (c, p) in self.s.queue.ads else None)
            except Exception:
                v = None
            if isinstance(v, C.Value):
                value = None  # UNDEFINED / ERROR (an int-like enum)
            elif isinstance(v, (bool, int, float)):
                value = int(v) if isinstance(v, bool) else v
        if value is None:
            return await self._reply(-1, E.ENOENT)
        if kind == "int":
            await self._reply(0, 0, ("int", int(value)))
        else:
            await self._reply(0, 0, ("double", float(value)))

    async def _op_get_int(self):
        return await self._op_get_number("int")

    async def _op_get_float(self):
        return await self._op_get_number("float")

    def _job_wire(self, c: int, p: int) -> WireAd:
        ad = wire_ad(self.tx.job_attrs(c, p))
        return ad

    async def _op_get_job_ad(self):
        st = self.stream
        c = await st.get_int()
        p = await st.get_int()
        await st.end_of_message()
        if c < 1 or p < -1 or not self.tx.exists(c, p):
            return await self._reply(-1, E.ENOENT)
        st.put_int(0)
        st.put_ad(self._job_wire(c, p), include_private=False)
        await st.end_of_message()

    def _matching(self, constraint: Optional[str]) -> list:
        if not constraint:
            return list(self.s.queue.jobs())
        match = ConstraintMatcher(self.s.queue, parse_expr(constraint)).matches
        return [(c, p) for c, p in self.s.queue.jobs() if match(c, p)]

    async def _next_job(self, constraint: Optional[str], init: int):
        st = self.stream
        if init or self.scan is None:
            try:
                self.scan = self._matching(constraint)
            except Exception:
                self.scan = []
        while self.scan:
            c, p = self.scan.pop(0)
            if (c, p) in self.s.queue.ads:
                st.put_int(0)
                st.put_ad(self._job_wire(c, p), include_private=False)
                await st.end_of_message()
                return
        await self._reply(-1, E.ENOENT)

    async def _op_get_next_job(self):
        init = await self.stream.get_int()
        await self.stream.end_of_message()
        await self._next_job(None, init)

    async def _op_get_next_by_constraint(self):
        init = await self.stream.get_int()
        constraint = await self.stream.get_string()
        await self.stream.end_of_message()
        await self._next_job(constraint, init)

    async def _op_get_job_by_constraint(self):
        constraint = await self.stream.get_string()
        await self.stream.end_of_message()
        self.scan = None
        await self._next_job(constraint, 1)

    async def _op_get_all_by_constraint(self):
        st = self.stream
        constraint = await st.get_string()
        projection = await st.get_string()
        await st.end_of_message()
        proj = [a for a in re.split(r"[,\s]+", projection or "") if a] or None
        try:
            jobs = self._matching(constraint)
        except Exception:
            jobs = []
        now = int(time.time())
        for c, p in jobs:
            st.put_int(0)
            st.put_ad(self._job_wire(c, p), include_private=False, server_time=now, whitelist=proj)
        st.put_int(-1).put_int(E.ENOENT)
        await st.end_of_message()

    async def _op_set_job_factory(self):
        """SetJobFactory(cluster, num, filename, digest) (qmgmt_receivers.cpp,
        QmgmtHandleSetJobFactory): only for the cluster being submitted; sets
        JobMaterializeLimit = num, JobMaterializeDigestFile, JobMaterializeNextProcId = 0."""
        st = self.stream
        c = await st.get_int()
        num = await st.get_int()
        await st.get_string()  # filename: unused since 8.7 (the digest travels as text)
        digest = await st.get_string()
        await st.end_of_message()
        if c != self.active_cluster or c not in self.tx.new_clusters or self.read_only:
            return await self._reply(-1, E.EPERM)
        if not self.s.allow_late_materialize:
            self.s.dprintf(Category.ALWAYS, f"Failing remote SetJobFactory {c} because "
                                            f"SCHEDD_ALLOW_LATE_MATERIALIZE is false")
            return await self._reply(-1, E.EPERM)
        if not digest:
            return await self._reply(-1, E.EINVAL)
        try:
            factory = JobFactory(c, digest, self.item_lines.get(c))
        except FactoryError as exc:
            self.s.dprintf(Category.ALWAYS, f"Failing remote SetJobFactory {c} because "
                                            f"MakeJobFactory failed : {exc}")
            return await self._reply(-1, E.EINVAL)
        self.tx.set_attribute(c, -1, "JobMaterializeLimit", str(num))
        self.tx.set_attribute(c, -1, "JobMaterializeDigestFile", quote(digest_path(self.s.spool, c)))
        self.tx.set_attribute(c, -1, "JobMaterializeNextProcId", "0")
        self.factories[c] = factory
        self.tx.factories[c] = (digest, factory.rows)
        await self._reply(0)

    async def _op_send_materialize_data(self):
        """SendMaterializeData(cluster, flags, item bytes...) (QmgmtHandleSendMaterializeData):
        the item lines of the cluster being submitted; the reply is ``string filename,
        int row_count, int rval`` (+ errno)."""
        st = self.stream
        c = await st.get_int()
        await st.get_int()  # flags
        dec = await st._decoder()
        data = dec.get_bytes(dec.remaining)
        await st.end_of_message()
        if c != self.active_cluster or c not in self.tx.new_clusters or self.read_only:
            return False  # as the receiver: no reply, the connection ends
        path = items_path(self.s.spool, c)
        try:
            if not self.s.allow_late_materialize:
                raise QmgmtError(E.EPERM, "SCHEDD_ALLOW_LATE_MATERIALIZE is false")
            rows = parse_item_rows(data)
        except (QmgmtError, FactoryError) as exc:
            self.s.dprintf(Category.ALWAYS, f"Failing remote SendMaterializeData {c}: {exc}")
            st.put_string("").put_int(0).put_int(-1).put_int(getattr(exc, "errno", E.EINVAL))
            await st.end_of_message()
            return
        self.item_lines[c] = rows
        self.tx.set_attribute(c, -1, "JobMaterializeItemsFile", quote(path))
        st.put_string(path).put_int(len(rows)).put_int(0)
        await st.end_of_message()

    _ops = {
        OP.InitializeConnection: _op_init,
        OP.InitializeReadOnlyConnection: _op_init,
        OP.CloseSocket: _op_close,
        OP.SetEffectiveOwner: _op_set_effective_owner,
        OP.SetAllowProtectedAttrChanges: _op_allow_protected,
        OP.GetCapabilities: _op_capabilities,
        OP.NewCluster: _op_new_cluster,
        OP.NewProc: _op_new_proc,
        OP.DestroyProc: _op_destroy_proc,
        OP.DestroyCluster: _op_destroy_cluster,
        OP.SetAttribute: _op_set_attr1,
        OP.SetAttribute2: _op_set_attr2,
        OP.SetAttributeByConstraint: _op_sbc1,
        OP.SetAttributeByConstraint2: _op_sbc2,
        OP.DeleteAttribute: _op_delete_attribute,
        OP.BeginTransaction: _op_begin,
        OP.AbortTransaction: _op_abort,
        OP.CommitTransactionNoFlags: _op_commit0,
        OP.CommitTransaction: _op_commit1,
        OP.GetAttributeExpr: _op_get_expr,
        OP.GetAttributeString: _op_get_string,
        OP.GetAttributeInt: _op_get_int,
        OP.GetAttributeFloat: _op_get_float,
        OP.GetJobAd: _op_get_job_ad,
        OP.GetNextJob: _op_get_next_job,
        OP.GetNextJobByConstraint: _op_get_next_by_constraint,
        OP.GetJobByConstraint: _op_get_job_by_constraint,
        OP.GetAllJobsByConstraint: _op_get_all_by_constraint,
        OP.SetJobFactory: _op_set_job_factory,
        OP.SendMaterializeData: _op_send_materialize_data,
    }
