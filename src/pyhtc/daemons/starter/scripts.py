"""The job's pre and post commands (``+PreCmd`` / ``+PostCmd``), run by the starter before
and after the job when STARTER_ALLOW_JOB_PRE_AND_POST_CMD allows.

Follows src/condor_starter.V6.1/starter.cpp (SpawnJobOrPreScript, Reaper) and
script_proc.cpp (ScriptProc::StartJob):

- ``<Name>Cmd`` (``Name`` is ``Pre`` or ``Post``) is the program, relative to the sandbox;
  its arguments are ``<Name>Arguments`` (new syntax) when set and not empty, else
  ``<Name>Args`` (old syntax); its environment is ``<Name>Environment`` (new syntax), else
  ``<Name>Env`` (old syntax), plus what the starter publishes to every job (_CONDOR_* ...),
  not the job's own environment; ``argv[0]`` is ``condor_<Name>script``;
- it runs as the job's user, in the job's working directory, niced by 10, with /dev/null
  as stdin/stdout/stderr, and is no member of the job's process family;
- the pre command runs first and the job starts when it exits; the post command runs after
  the job exited.  When the job ad sets ``Success<Name>ExitCode`` (or
  ``Success<Name>ExitSignal`` with ``Success<Name>ExitBySignal``) and the command ends
  otherwise, the job is held: "Pre script failed." (code 43, PreScriptFailed) or
  "Post script failed." (code 44, PostScriptFailed), subcode 0 (condor_holdcodes.h);
- STARTER_ALLOW_JOB_PRE_AND_POST_CMD (default false) is a boolean or an expression
  evaluated with the slot ad as MY and the job ad as TARGET.
"""
from __future__ import annotations

import os
import signal
from typing import Optional

from pyhtc import classad as C
from pyhtc.config import parse_boolean

from .environment import parse_arguments, parse_environment

HOLD_CODES = {"Pre": 43, "Post": 44}     # CONDOR_HOLD_CODE::PreScriptFailed / PostScriptFailed


def allowed(config, machine: C.ClassAd, job: C.ClassAd) -> bool:
    """STARTER_ALLOW_JOB_PRE_AND_POST_CMD for this slot and job (default False)."""
    text = config.param("STARTER_ALLOW_JOB_PRE_AND_POST_CMD")
    if text is None:
        return False
    value = parse_boolean(text)
    if value is not None:
        return value
    try:
        result = C.ExprTree(text).eval(machine, job)
    except (SyntaxError, C.ClassAdException, TypeError, ValueError):
        return False
    if isinstance(result, bool):
        return result
    return isinstance(result, (int, float)) and result != 0


def wanted(job: C.ClassAd, name: str) -> bool:
    """Whether the job ad names a ``<name>Cmd``."""
    cmd = job.get(f"{name}Cmd")
    return isinstance(cmd, str) and cmd != ""


def command(job: C.ClassAd, name: str, sandbox: str) -> list[str]:
    """``[program, argv0, args...]`` of the ``name`` script (see the module doc).  Raises
    ValueError for malformed arguments."""
    cmd = job[f"{name}Cmd"]
    path = cmd if os.path.isabs(cmd) else os.path.join(sandbox, cmd)
    v2, v1 = job.get(f"{name}Arguments"), job.get(f"{name}Args")
    if isinstance(v2, str) and v2:
        args = parse_arguments(v2, new_syntax=True)
    elif isinstance(v1, str) and v1:
        args = parse_arguments(v1, new_syntax=False)
    else:
        args = []
    return [path, f"condor_{name}script"] + args


def environment(job: C.ClassAd, name: str, published: dict) -> dict:
    """The script's own environment plus the starter's ``published`` variables."""
    env = {}
    v2, v1 = job.get(f"{name}Environment"), job.get(f"{name}Env")
    if isinstance(v2, str) and v2:
        env.update(parse_environment(v2, new_syntax=True))
    elif isinstance(v1, str) and v1:
        env.update(parse_environment(v1, new_syntax=False))
    env.update(published)
    return env


def desired_status(job: C.ClassAd, name: str) -> Optional[int]:
    """computeDesiredExitStatus (starter_util.cpp): the raw wait status the script must end
    with, or None when the job ad sets no Success<name>Exit* attribute."""
    code, sig, by_signal = (job.get(f"Success{name}ExitCode"), job.get(f"Success{name}ExitSignal"),
                            job.get(f"Success{name}ExitBySignal"))
    specified = False
    want_code = want_sig = 0
    if isinstance(code, int) and not isinstance(code, bool):
        want_code, specified = code, True
    if isinstance(sig, int) and not isinstance(sig, bool):
        want_sig, specified = sig, True
    if not specified:
        return None
    if by_signal is True:
        return want_sig
    return want_code << 8


def spawn(argv: list[str], cwd: str, env: dict, ids) -> int:
    """Fork and exec the script (``argv`` = [program, argv0, args...]) as ``ids`` = (uid,
    gid, user name) or ourselves, niced by 10, stdio on /dev/null, in its own session.
    Returns its pid; raises OSError (with the child's reason) when it cannot be executed."""
    err_r, err_w = os.pipe2(os.O_CLOEXEC)
    pid = os.fork()
    if pid == 0:
        try:
            os.close(err_r)
            os.setsid()
            null = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):
                os.dup2(null, fd)
            if ids is not None:
                os.initgroups(ids[2], ids[1])
                os.setgid(ids[1])
                os.setuid(ids[0])
            os.chdir(cwd)
            os.nice(10)
            for sig in (signal.SIGTERM, signal.SIGQUIT, signal.SIGTSTP, signal.SIGCONT, signal.SIGINT):
                signal.signal(sig, signal.SIG_DFL)
            os.closerange(3, err_w)
            os.closerange(err_w + 1, 65536)
            os.execve(argv[0], argv[1:], env)
        except BaseException as exc:
            try:
                os.write(err_w, f"{type(exc).__name__}: {exc}".encode()[:1000])
            finally:
                os._exit(127)
    os.close(err_w)
    msg = os.read(err_r, 1000)
    os.close(err_r)
    if msg:
        os.waitpid(pid, 0)
        raise OSError(f"Failed to execute '{argv[0]}': {msg.decode(errors='replace')}")
    return pid
