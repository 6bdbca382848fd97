"""ProcD command set, error codes, usage/dump records and the wire format.

The command identifiers and error codes follow HTCondor's
``src/condor_procd/proc_family_io.h`` (enum ``proc_family_command_t`` and
``proc_family_error_t``); the numeric values are the enum positions there, so
a log line or a test can name the same number HTCondor would.

Wire format (our own; HTCondor uses a binary protocol over a named pipe)
-----------------------------------------------------------------------
The procd listens on a Unix stream socket whose path is the ``-A`` address.
Each message in either direction is a *frame*::

    4 bytes  big-endian unsigned length N  (1 <= N <= MAX_FRAME)
    N bytes  UTF-8 JSON object

Request object::

    {"command": "<NAME>" | <number>, ...arguments...}

where NAME is one of :class:`Command` without the ``PROC_FAMILY_`` prefix
(e.g. ``"KILL_FAMILY"``); arguments per command are listed in
``COMMAND_ARGS``.  Every reply object has::

    {"error": <proc_family_error_t number>, "error_name": "<ERROR NAME>",
     "error_string": "<human readable>", ...results...}

Results: GET_USAGE adds ``"usage"`` (a :class:`ProcFamilyUsage` as a dict);
DUMP adds ``"families"`` (a list of :class:`ProcFamilyDump` dicts);
TRACK_FAMILY_VIA_ALLOCATED_SUPPLEMENTARY_GROUP adds ``"gid"``.
Malformed frames or requests get ``PROC_FAMILY_ERROR_BAD_REQUEST`` (our
addition, numbered after HTCondor's ``PROC_FAMILY_ERROR_MAX``) with a message
naming the field that was wrong.  A connection may carry any number of
request/reply pairs; the server answers them in order.
"""

from __future__ import annotations

import enum
import json
import socket
import struct
from dataclasses import asdict, dataclass, field

MAX_FRAME = 16 * 1024 * 1024
_LEN = struct.Struct(">I")


class Command(enum.IntEnum):
    """``proc_family_command_t`` from proc_family_io.h (same order/values)."""

    REGISTER_SUBFAMILY = 0
    TRACK_FAMILY_VIA_ENVIRONMENT = 1
    TRACK_FAMILY_VIA_LOGIN = 2
    TRACK_FAMILY_VIA_ALLOCATED_SUPPLEMENTARY_GROUP = 3
    TRACK_FAMILY_VIA_ASSOCIATED_SUPPLEMENTARY_GROUP = 4
    SIGNAL_PROCESS = 5
    SUSPEND_FAMILY = 6
    CONTINUE_FAMILY = 7
    KILL_FAMILY = 8
    GET_USAGE = 9
    UNREGISTER_FAMILY = 10
    TAKE_SNAPSHOT = 11
    DUMP = 12
    QUIT = 13
    TRACK_FAMILY_VIA_CGROUP = 14


class ProcFamilyError(enum.IntEnum):
    """``proc_family_error_t`` from proc_family_io.h, plus BAD_REQUEST (ours)."""

    SUCCESS = 0
    BAD_ROOT_PID = 1
    BAD_WATCHER_PID = 2
    BAD_SNAPSHOT_INTERVAL = 3
    ALREADY_REGISTERED = 4
    FAMILY_NOT_FOUND = 5
    PROCESS_NOT_FOUND = 6
    PROCESS_NOT_FAMILY = 7
    UNREGISTER_ROOT = 8
    BAD_ENVIRONMENT_INFO = 9
    BAD_LOGIN_INFO = 10
    BAD_GLEXEC_INFO = 11
    NO_GROUP_ID_AVAILABLE = 12
    NO_GLEXEC = 13
    NO_CGROUP_ID_AVAILABLE = 14
    # HTCondor's PROC_FAMILY_ERROR_MAX is 15; codes from here on are ours.
    BAD_REQUEST = 16


# Readable strings in the spirit of proc_family_io.cpp's table (our wording).
ERROR_STRINGS = {
    ProcFamilyError.SUCCESS: "Success",
    ProcFamilyError.BAD_ROOT_PID: "Invalid family root pid",
    ProcFamilyError.BAD_WATCHER_PID: "Invalid family watcher pid",
    ProcFamilyError.BAD_SNAPSHOT_INTERVAL: "Invalid maximum snapshot interval",
    ProcFamilyError.ALREADY_REGISTERED: "Family with the given root pid is already registered",
    ProcFamilyError.FAMILY_NOT_FOUND: "No family with the given root pid is registered",
    ProcFamilyError.PROCESS_NOT_FOUND: "The given pid is not part of the monitored process tree",
    ProcFamilyError.PROCESS_NOT_FAMILY: "The given pid is not part of a registered family",
    ProcFamilyError.UNREGISTER_ROOT: "The root family cannot be unregistered",
    ProcFamilyError.BAD_ENVIRONMENT_INFO: "Invalid environment tracking information",
    ProcFamilyError.BAD_LOGIN_INFO: "Invalid login tracking information",
    ProcFamilyError.BAD_GLEXEC_INFO: "Invalid glexec information",
    ProcFamilyError.NO_GROUP_ID_AVAILABLE: "No group id available for tracking",
    ProcFamilyError.NO_GLEXEC: "glexec is not supported",
    ProcFamilyError.NO_CGROUP_ID_AVAILABLE: "No cgroup available for tracking",
    ProcFamilyError.BAD_REQUEST: "Malformed request",
}


def error_lookup(code: int) -> str:
    """Readable string for an error code (like ``proc_family_error_lookup``)."""
    try:
        return ERROR_STRINGS[ProcFamilyError(code)]
    except ValueError:
        return f"Unknown error code {code}"


# Arguments each command takes: name -> (type, required).  A pid of 0 means
# "the root family" wherever a family is named (HTCondor's lookup_family with
# zero_means_root).
COMMAND_ARGS: dict[Command, dict[str, tuple[type, bool]]] = {
    Command.REGISTER_SUBFAMILY: {"root_pid": (int, True), "watcher_pid": (int, True),
                                 "max_snapshot_interval": (int, True)},
    Command.TRACK_FAMILY_VIA_ENVIRONMENT: {"pid": (int, True), "environment": (list, True)},
    Command.TRACK_FAMILY_VIA_LOGIN: {"pid": (int, True), "login": (str, True)},
    Command.TRACK_FAMILY_VIA_ALLOCATED_SUPPLEMENTARY_GROUP: {"pid": (int, True)},
    Command.TRACK_FAMILY_VIA_ASSOCIATED_SUPPLEMENTARY_GROUP: {"pid": (int, True), "gid": (int, True)},
    Command.SIGNAL_PROCESS: {"pid": (int, True), "signal": (int, True)},
    Command.SUSPEND_FAMILY: {"pid": (int, True)},
    Command.CONTINUE_FAMILY: {"pid": (int, True)},
    Command.KILL_FAMILY: {"pid": (int, True)},
    Command.GET_USAGE: {"pid": (int, True)},
    Command.UNREGISTER_FAMILY: {"pid": (int, True)},
    Command.TAKE_SNAPSHOT: {},
    Command.DUMP: {"pid": (int, True)},
    Command.QUIT: {},
    Command.TRACK_FAMILY_VIA_CGROUP: {"pid": (int, True), "cgroup": (str, True)},
}


@dataclass
class ProcFamilyUsage:
    """Aggregate usage of a family and its subfamilies (``struct ProcFamilyUsage``).

    CPU times are float seconds (HTCondor sends whole seconds); sizes are KiB
    like HTCondor's.  ``max_resident_set_size`` is our addition (largest
    total RSS observed, or the cgroup's memory peak when larger).  Counters
    HTCondor initialises to -1 mean "not available".
    """

    user_cpu_time: float = 0.0
    sys_cpu_time: float = 0.0
    percent_cpu: float = 0.0
    max_image_size: int = 0
    total_image_size: int = 0
    total_resident_set_size: int = 0
    max_resident_set_size: int = 0
    num_procs: int = 0
    block_reads: int = -1
    block_writes: int = -1
    block_read_bytes: int = -1
    block_write_bytes: int = -1
    m_instructions: int = -1
    io_wait: float = -1.0

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "ProcFamilyUsage":
        return cls(**{k: d[k] for k in cls.__dataclass_fields__ if k in d})


@dataclass
class ProcFamilyProcessDump:
    """One process in a DUMP (``struct ProcFamilyProcessDump``); times in seconds,
    birthday is the process start time (seconds since the epoch)."""

    pid: int
    ppid: int
    birthday: float
    user_time: float
    sys_time: float


@dataclass
class ProcFamilyDump:
    """One family in a DUMP (``struct ProcFamilyDump``).  ``parent_root`` is 0
    for the root family."""

    parent_root: int
    root_pid: int
    watcher_pid: int
    procs: list[ProcFamilyProcessDump] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "ProcFamilyDump":
        return cls(parent_root=d["parent_root"], root_pid=d["root_pid"],
                   watcher_pid=d["watcher_pid"],
                   procs=[ProcFamilyProcessDump(**p) for p in d["procs"]])


class ProtocolError(Exception):
    """A frame or request could not be decoded; the message says what and where."""


def send_frame(sock: socket.socket, obj: dict) -> None:
    """Encode ``obj`` as JSON and send it as one length-prefixed frame."""
    data = json.dumps(obj, separators=(",", ":")).encode("utf-8")
    if len(data) > MAX_FRAME:
        raise ProtocolError(f"frame of {len(data)} bytes exceeds MAX_FRAME {MAX_FRAME}")
    sock.sendall(_LEN.pack(len(data)) + data)


def _recv_exact(sock: socket.socket, n: int, what: str, allow_eof: bool = False) -> bytes | None:
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            if allow_eof and not buf:
                return None
            raise ProtocolError(f"connection closed after {len(buf)} of {n} bytes of {what}")
        buf += chunk
    return bytes(buf)


def recv_frame(sock: socket.socket) -> dict | None:
    """Read one frame; return the decoded JSON object, or None on a clean EOF
    before the first length byte.  Raises :class:`ProtocolError` naming the
    byte offset of bad JSON or a bad length."""
    head = _recv_exact(sock, 4, "frame length", allow_eof=True)
    if head is None:
        return None
    (n,) = _LEN.unpack(head)
    if n == 0 or n > MAX_FRAME:
        raise ProtocolError(f"bad frame length {n} (must be 1..{MAX_FRAME})")
    body = _recv_exact(sock, n, "frame body")
    try:
        obj = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError as e:
        raise ProtocolError(f"frame body is not UTF-8 at byte offset {e.start}") from None
    except json.JSONDecodeError as e:
        raise ProtocolError(f"frame body is not JSON: {e.msg} at byte offset {e.pos}") from None
    if not isinstance(obj, dict):
        raise ProtocolError(f"frame body must be a JSON object, got {type(obj).__name__}")
    return obj


def parse_request(obj: dict) -> tuple[Command, dict]:
    """Validate a request object; return (command, arguments).

    Raises :class:`ProtocolError` naming the missing/ill-typed field."""
    if "command" not in obj:
        raise ProtocolError("request has no 'command' field")
    raw = obj["command"]
    try:
        if isinstance(raw, bool):
            raise ValueError
        if isinstance(raw, int):
            cmd = Command(raw)
        elif isinstance(raw, str):
            name = raw.upper()
            if name.startswith("PROC_FAMILY_"):
                name = name[len("PROC_FAMILY_"):]
            cmd = Command[name]
        else:
            raise ValueError
    except (ValueError, KeyError):
        raise ProtocolError(f"unknown command {raw!r}") from None
    args = {}
    for name, (typ, required) in COMMAND_ARGS[cmd].items():
        if name not in obj:
            if required:
                raise ProtocolError(f"{cmd.name}: missing argument '{name}'")
            continue
        val = obj[name]
        if typ is int and (isinstance(val, bool) or not isinstance(val, int)):
            raise ProtocolError(f"{cmd.name}: argument '{name}' must be an integer, got {val!r}")
        if typ is not int and not isinstance(val, typ):
            raise ProtocolError(f"{cmd.name}: argument '{name}' must be a {typ.__name__}, got {val!r}")
        args[name] = val
    extra = set(obj) - set(COMMAND_ARGS[cmd]) - {"command"}
    if extra:
        raise ProtocolError(f"{cmd.name}: unexpected argument(s) {sorted(extra)}")
    return cmd, args


def reply(code: ProcFamilyError, message: str | None = None, **results) -> dict:
    """Build a reply object for ``code`` (message defaults to the error string)."""
    out = {"error": int(code), "error_name": code.name,
           "error_string": message or error_lookup(code)}
    out.update(results)
    return out
