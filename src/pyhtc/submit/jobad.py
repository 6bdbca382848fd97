"""Build a job ClassAd from submit commands (HTCondor's SubmitHash semantics).

Source of the rules: src/condor_utils/submit_utils.cpp (SubmitHash::Set* and
init_base_ad) and the condor_submit manual page.  Attribute values are kept
as ClassAd expression TEXT, printed the way HTCondor's old-syntax unparser
prints them (strings in double quotes, ``"`` escaped).
"""
from __future__ import annotations

import functools
import os
import re
import socket

from . import argsenv
from .exprfmt import ExprSyntaxError, normalize, quote, references
from .keywords import SIMPLE_COMMANDS

__all__ = ["SubmitError", "JobContext", "build_job_ad", "UNIVERSES", "CONDOR_VERSION", "CONDOR_PLATFORM",
           "filesystem_domain", "DEFAULT_REQUEST_DISK"]

CONDOR_VERSION = "$CondorVersion: 25.14.1 2026-09-24 BuildID: pyhtc $"
CONDOR_PLATFORM = "$CondorPlatform: X86_64-pyhtc $"
DEFAULT_REQUEST_DISK = "MAX({ 1024,(TransferInputSizeMB + 1) * 1.25 }) * 1024"

# universe name -> JobUniverse number (condor_universe.h)
UNIVERSES = {"vanilla": 5, "scheduler": 7, "grid": 9, "java": 10, "parallel": 11, "local": 12, "vm": 13,
             "docker": 5, "container": 5}
NOTIFICATIONS = {"never": 0, "always": 1, "complete": 2, "error": 3, "start": 4}
_MIGHT_TRANSFER = {5, 10, 11, 13}


class SubmitError(ValueError):
    """The job ad could not be built; the message is HTCondor's wording."""


#: CONDOR_CONFIG values whose configuration did not load (not retried on every job)
_UNLOADABLE_CONFIGS: set = set()


def filesystem_domain() -> str:
    """The FileSystemDomain a job gets: the process configuration's FILESYSTEM_DOMAIN
    (default ``$(FULL_HOSTNAME)``), as condor_submit does (submit_utils.cpp,
    ``param("FILESYSTEM_DOMAIN")``), so that it equals the FileSystemDomain the startds of
    the same configuration advertise; the host's full name when no configuration loads."""
    from pyhtc.config import ConfigError, get_config
    key = os.environ.get("CONDOR_CONFIG")
    value = None
    if key not in _UNLOADABLE_CONFIGS:
        try:
            value = get_config().param("FILESYSTEM_DOMAIN")
        except (ConfigError, OSError):
            _UNLOADABLE_CONFIGS.add(key)
    return value or _host_full_name()


@functools.lru_cache(maxsize=1)
def _host_full_name() -> str:
    name = socket.gethostname()
    try:
        fq = socket.getfqdn(name)
    except OSError:
        fq = name
    return fq or name


class JobContext:
    """Everything about the submitting side a job ad depends on.

    cwd: submit directory (absolute); submit_time: Unix seconds;
    submit_method: JobSubmitMethod (0 condor_submit, 2 Python bindings);
    fs_domain: FileSystemDomain value; username: for AccountingGroup.
    """

    def __init__(self, cwd: str, submit_time: int, submit_method: int = 0,
                 fs_domain: str | None = None, username: str | None = None):
        self.cwd = cwd
        self.submit_time = int(submit_time)
        self.submit_method = submit_method
        self.fs_domain = fs_domain if fs_domain is not None else filesystem_domain()
        if username is None:
            try:
                import pwd
                username = pwd.getpwuid(os.getuid()).pw_name
            except (KeyError, ImportError):
                username = os.environ.get("USER", "")
        self.username = username


def _full_path(name: str, base: str) -> str:
    """Like SubmitHash::full_path: join with base, collapse repeated slashes."""
    p = name if name.startswith("/") else f"/{base}/{name}"
    return re.sub(r"/+", "/", p)


def _size_kb(path: str) -> int:
    """calc_image_size_kb: file size rounded up to KiB, 0 if it does not exist."""
    try:
        st = os.stat(path)
    except OSError:
        return 0
    if not os.path.isfile(path):
        return 0
    return (st.st_size + 1023) // 1024


def _bool(text: str | None, default: bool | None = None) -> bool | None:
    if text is None:
        return default
    t = text.strip().lower()
    if t in ("true", "t", "yes", "y", "1"):
        return True
    if t in ("false", "f", "no", "n", "0"):
        return False
    return default


def _expr(text: str, what: str) -> str:
    try:
        return normalize(text)
    except ExprSyntaxError as e:
        raise SubmitError(f"Parse error in expression: \n\t{what} = {text}\n\t({e})\n") from None


def _strip_quotes(s: str) -> str:
    s = s.strip()
    if len(s) >= 2 and s[0] == '"' and s[-1] == '"':
        return s[1:-1]
    return s


class _Params:
    """Case-insensitive access to expanded submit values (None when undefined or empty)."""

    def __init__(self, getter):
        self._get = getter

    def get(self, *names: str) -> str | None:
        for n in names:
            v = self._get(n)
            if v is not None:
                v = v.strip()
                if v != "":
                    return v
        return None


def build_job_ad(get, ctx: JobContext, cluster: int, proc: int, user_attrs: list[tuple[str, str]],
                 all_keys: list[str]) -> dict[str, str]:
    """Return the full job ad of one proc as {attribute: expression text}.

    ``get(name)`` returns a submit command's expanded value (None if undefined);
    ``user_attrs`` are the ``+Attr``/``My.Attr`` (name, expanded value) pairs;
    ``all_keys`` lists every command name defined (for ``request_<tag>`` and
    OAuth keys).  Raises SubmitError with HTCondor's message.
    """
    p = _Params(get)
    ad: dict[str, str] = {}

    def s(attr, value):
        ad[attr] = quote(value)

    # --- init_base_ad ----------------------------------------------------
    ad["ClusterId"] = str(cluster)
    ad["ProcId"] = str(proc)
    ad["MyType"] = quote("Job")
    ad["TargetType"] = quote("Machine")
    ad["QDate"] = str(ctx.submit_time)
    if ctx.submit_method >= 0:
        ad["JobSubmitMethod"] = str(ctx.submit_method)
    ad["Owner"] = "undefined"
    for a in ("RemoteWallClockTime", "RemoteUserCpu", "RemoteSysCpu", "CumulativeRemoteUserCpu",
              "CumulativeRemoteSysCpu"):
        ad[a] = "0.0"
    for a in ("ExitStatus", "NumCkpts", "NumJobStarts", "NumJobCompletions", "NumRestarts", "NumSystemHolds",
              "CommittedTime", "CommittedSlotTime", "CumulativeSlotTime", "TotalSuspensions",
              "LastSuspensionTime", "CumulativeSuspensionTime", "CommittedSuspensionTime"):
        ad[a] = "0"
    ad["ExitBySignal"] = "false"
    ad["CondorVersion"] = quote(CONDOR_VERSION)
    ad["SubmitVersion"] = quote(CONDOR_VERSION)
    ad["CondorPlatform"] = quote(CONDOR_PLATFORM)

    # --- universe (SetUniverse) ---------------------------------------------
    uni_raw = p.get("universe", "JobUniverse") or "vanilla"
    uni_text = uni_raw.lower()
    unsupported = {"standard": "Standard", "1": "Standard", "pvm": "PVM", "4": "PVM", "mpi": "MPI", "8": "MPI",
                   "globus": "Globus", "2": "Globus", "pipe": "Pipe", "3": "Pipe", "pvmd": "PVMD", "6": "PVMD"}
    if uni_text in unsupported:
        raise SubmitError(f"'{unsupported[uni_text]}' is not a supported universe.")
    if uni_text.isdigit():
        names = {v: k for k, v in UNIVERSES.items() if k not in ("docker", "container")}
        if int(uni_text) not in names:
            raise SubmitError(f"I don't know about the '{uni_raw}' universe.")
        uni_text = names[int(uni_text)]
    if uni_text not in UNIVERSES:
        raise SubmitError(f"I don't know about the '{uni_raw}' universe.")
    universe = UNIVERSES[uni_text]
    is_docker = uni_text == "docker"
    is_container = uni_text == "container"
    docker_image = p.get("docker_image", "DockerImage")
    cimage = p.get("container_image", "ContainerImage")
    if universe in (5, 12):
        if is_docker:
            if cimage:
                raise SubmitError("docker universe does not allow use of container_image.")
        elif docker_image and cimage:
            raise SubmitError("cannot declare both docker_image and container_image")
        elif docker_image or cimage:
            # a vanilla or local job with an image is a container job
            is_container = True
            if docker_image:
                ad["WantDockerImage"] = "true"
    ad["JobUniverse"] = str(universe)
    if is_docker:
        ad["WantDocker"] = "true"
    if is_container:
        ad["WantContainer"] = "true"
    if _bool(p.get("WantParallelScheduling"), False):
        ad["WantParallelScheduling"] = "true"
    grid_type = ""
    if universe == 9:
        gr = p.get("grid_resource", "GridResource")
        if gr is None:
            raise SubmitError("grid_resource attribute not defined for grid universe job")
        if gr.lower() == "ec2":
            raise SubmitError("EC2 grid jobs require a service URL")
        written = gr.split(" ", 1)[0]
        grid_type = written.lower()
        # validate_gridtype (submit_utils.cpp)
        if grid_type not in ("blah", "batch", "pbs", "sge", "lsf", "nqs", "naregi", "condor", "arc", "ec2", "gce",
                             "azure"):
            raise SubmitError(f"Invalid value '{written}' for grid type\n"
                              "Must be one of: condor, batch, arc, ec2, gce, or azure")
        s("GridResource", gr)

    # --- initialdir ---------------------------------------------------------
    iwd_text = p.get("initialdir", "initial_dir", "Iwd", "job_iwd")
    if iwd_text:
        iwd = _full_path(iwd_text, ctx.cwd)
        if not os.path.isdir(iwd):
            raise SubmitError(f"No such directory: {iwd}")
    else:
        iwd = re.sub(r"/+", "/", ctx.cwd)
    s("Iwd", iwd)

    # --- executable -----------------------------------------------------------
    transfer_exe = True
    ignore_exe = False
    if is_docker:
        if not docker_image:
            raise SubmitError("docker jobs require a docker_image")
        s("DockerImage", _strip_quotes(docker_image))
    if is_container:
        if docker_image:
            s("DockerImage", _strip_quotes(docker_image))
        if cimage:
            image = _strip_quotes(cimage)
            if not image or image.startswith(("instance://", "library://", "shub://")):
                raise SubmitError(f"'{cimage}' is not a valid container image")
            s("ContainerImage", image)
            if image.startswith("docker:"):
                ad["WantDockerImage"] = "true"
            elif image.endswith(".sif"):
                ad["WantSIF"] = "true"
            else:
                ad["WantSandboxImage"] = "true"
        if not docker_image and not cimage:
            raise SubmitError("container jobs require a container_image or docker_image")
    ename = p.get("executable", "Cmd")
    if ename is None:
        if is_container or is_docker:
            ignore_exe = True
        else:
            raise SubmitError("No 'executable' parameter was provided")
    te = p.get("transfer_executable", "TransferExecutable")
    if te is not None and te[:1] in ("F", "f"):
        ad["TransferExecutable"] = "false"
        transfer_exe = False
    if ignore_exe and transfer_exe:
        ad["TransferExecutable"] = "false"
        transfer_exe = False
    if ename is not None:
        cmd = _full_path(ename, ctx.cwd) if transfer_exe else ename
    else:
        cmd = ""
    s("Cmd", cmd)
    exe_stat_path = cmd if cmd.startswith("/") else os.path.join(ctx.cwd, cmd) if cmd else ""
    exe_kb = _size_kb(exe_stat_path) if exe_stat_path else 0

    # --- arguments ------------------------------------------------------------
    args1 = p.get("arguments", "Args")
    args2 = p.get("arguments2")
    try:
        if args2 is not None:
            items = argsenv.split_v2_raw(argsenv.v2_quoted_to_raw(args2)) if argsenv.is_v2_quoted(args2) \
                else argsenv.split_v2_raw(args2)
            s("Arguments", argsenv.v2_join(items))
        elif args1 is not None:
            if argsenv.is_v2_quoted(args1):
                items = argsenv.split_v2_raw(argsenv.v2_quoted_to_raw(args1))
                s("Arguments", argsenv.v2_join(items))
            else:
                items = argsenv.v1_wacked_to_args(args1)
                s("Args", " ".join(items))
        else:
            items = []
            s("Arguments", "")
    except argsenv.ArgsError as e:
        raise SubmitError(f"{e}\nThe full arguments you specified were: {args2 or args1}") from None
    if universe == 10 and not items:
        raise SubmitError("In Java universe, you must specify the class name to run.\nExample:\n\n"
                          "arguments = MyClass\n\n")

    # --- environment ----------------------------------------------------------
    env1 = p.get("environment", "env")
    env2 = p.get("environment2")
    env: dict[str, str] = {}
    try:
        if env2 is not None:
            env = argsenv.parse_env(env2)
        elif env1 is not None:
            env = argsenv.parse_env(env1)
    except argsenv.ArgsError as e:
        raise SubmitError(f"{e}\nThe environment you specified was: '{env2 or env1}'") from None
    getenv = p.get("getenv", "get_env")
    if getenv is not None:
        # SubmitHashEnvFilter / WhiteBlackEnvFilter (env.cpp, submit_utils.cpp): values with a
        # newline are never imported; with a V1-style environment also none with ';' or '|';
        # a pattern list ("x* !y*", separated by , ; or blanks) is matched ignoring case.
        flag = _bool(getenv)
        if flag is None or flag:
            import fnmatch
            pats = [x for x in re.split(r"[\s,;]+", getenv) if x] if flag is None else []
            white = [x.lower() for x in pats if not x.startswith("!")]
            black = [x[1:].lower() for x in pats if x.startswith("!")]
            v1 = env1 is not None and env2 is None
            for k, v in os.environ.items():
                if not k or k in env or "\n" in v or (v1 and (";" in v or "|" in v)):
                    continue
                low = k.lower()
                if black and any(fnmatch.fnmatchcase(low, b) for b in black):
                    continue
                if white and not any(fnmatch.fnmatchcase(low, w) for w in white):
                    continue
                env[k] = v
    prefer_v1 = env1 is not None and env2 is None and p.get("env") is not None and not argsenv.is_v2_quoted(p.get("env"))
    if prefer_v1:
        s("Env", ";".join(f"{k}={env[k]}" for k in sorted(env)))
        s("EnvDelim", ";")
    else:
        s("Environment", argsenv.env_v2_raw(env))

    # --- stdin / stdout / stderr ------------------------------------------------
    for key, alt, attr, xfer_attr, stream_attr, stream_key, xfer_key in (
            ("input", "stdin", "In", "TransferIn", "StreamIn", "stream_input", "transfer_input"),
            ("output", "stdout", "Out", "TransferOut", "StreamOut", "stream_output", "transfer_output"),
            ("error", "stderr", "Err", "TransferErr", "StreamErr", "stream_error", "transfer_error")):
        val = p.get(key, alt)
        stream = _bool(p.get(stream_key), None)
        xfer = _bool(p.get(xfer_key), None)
        if val is None or val == "/dev/null":
            s(attr, "/dev/null")
            ad[xfer_attr] = "false"
        else:
            s(attr, val)
            if xfer is False:
                ad[xfer_attr] = "false"
            else:
                ad[stream_attr] = "true" if stream else "false"

    # --- simple one-to-one commands (do_simple_commands) -------------------------------
    last_existed = False
    prev_attr = None
    for key, attr, kind, strip in SIMPLE_COMMANDS:
        if attr == prev_attr and last_existed:
            continue  # an alternate name of a command that was given
        prev_attr = attr
        val = p.get(key, attr)
        last_existed = val is not None
        if val is None:
            continue
        if strip:
            val = _strip_quotes(val)
        if kind == "expr":
            ad[attr] = _expr(val, attr)
        elif kind == "string":
            if key == "email_attributes":
                val = ",".join(x for x in re.split(r"[\s,]+", val) if x)
            if key in ("starter_log", "dagman_log", "output_directory") and val:
                val = _full_path(val, iwd)
            s(attr, val)
        elif kind in ("int", "uint"):
            try:
                n = int(_eval_int(val))
            except ValueError:
                raise SubmitError(f"{key}={val} is invalid, must eval to an integer.") from None
            if kind == "uint" and n < 0:
                raise SubmitError(f"{key}={val} is invalid, must eval to a non-negative integer.")
            ad[attr] = str(n)
        elif kind == "bool":
            b = _bool(val)
            if b is None:
                raise SubmitError(f"{key}={val} is invalid, must eval to a boolean.")
            ad[attr] = "true" if b else "false"
    if "JobPrio" not in ad:
        ad["JobPrio"] = "0"
    # ReportCommonMistakes (submit_utils.cpp)
    lease = ad.get("JobLeaseDuration")
    if lease and re.fullmatch(r"\d+", lease) and 0 < int(lease) < 20:
        ad["JobLeaseDuration"] = "20"
    hist = ad.get("JobMachineAttrsHistoryLength")
    if hist is not None and not (0 <= int(hist) <= 2 ** 31 - 1):
        raise SubmitError(f"job_machine_attrs_history_length={hist} is out of bounds 0 to {2 ** 31 - 1}")
    if "OutputDestination" in ad and "OutputDirectory" in ad:
        raise SubmitError("You cannot use both output_destination and output_directory in the same submit file")
    if p.get("checkpoint_exit_code") is not None:
        ad["WantFTOnCheckpoint"] = "true"

    # --- user log --------------------------------------------------------------------
    log = p.get("log", "UserLog")
    if log:
        s("UserLog", _full_path(log, iwd))

    # --- notification -------------------------------------------------------------------
    note = (p.get("notification", "JobNotification") or "never").lower()
    if note not in NOTIFICATIONS:
        raise SubmitError("Notification must be 'Never', 'Always', 'Complete', 'Start', or 'Error'")
    ad["JobNotification"] = str(NOTIFICATIONS[note])

    # --- rank, hosts, misc defaults --------------------------------------------------------
    rank = p.get("rank", "preferences")
    ad["Rank"] = _expr(rank, "rank") if rank else "0.0"
    if universe == 11:
        mc = p.get("machine_count", "node_count", "NodeCount")
        n = int(_eval_int(mc)) if mc else 1
        ad["MinHosts"] = ad["MaxHosts"] = str(n)
        ad["WantIOProxy"] = "true"
        ad["JobRequiresSandbox"] = "true"
    else:
        ad["MinHosts"] = ad["MaxHosts"] = "1"
    ad["CurrentHosts"] = "0"
    if "JobLeaseDuration" not in ad and universe not in (7, 9, 12):
        ad["JobLeaseDuration"] = "2400"
    lq = p.get("leave_in_queue", "LeaveJobInQueue")
    ad["LeaveJobInQueue"] = _expr(lq, "leave_in_queue") if lq else "false"

    # --- kill signals (SetKillSig) ---------------------------------------------
    ks = _fix_signal(p.get("kill_sig", "KillSig"))
    if ks is None and universe != 5:
        ks = "SIGTERM"
    if ks:
        s("KillSig", ks)
    for key, attr in (("remove_kill_sig", "RemoveKillSig"), ("hold_kill_sig", "HoldKillSig")):
        sig = _fix_signal(p.get(key, attr))
        if sig:
            s(attr, sig)
    kst = p.get("kill_sig_timeout", "KillSigTimeout")
    if kst:
        m = re.match(r"\s*([+-]?\d+)", kst)
        ad["KillSigTimeout"] = str(int(m.group(1)) if m else 0)
    if "JobStarterLog" in ad and "JobStarterDebug" not in ad:
        ad["JobStarterDebug"] = "true"

    # --- hold / status -------------------------------------------------------------------------
    ad["JobStatus"] = "1"
    if _bool(p.get("hold"), False):
        ad["JobStatus"] = "5"
        s("HoldReason", "submitted on hold at user's request")
        ad["HoldReasonCode"] = "15"
        ad["HoldReasonSubCode"] = "0"
    ad["EnteredCurrentStatus"] = str(ctx.submit_time)

    # --- job deferral (SetJobDeferral) ------------------------------------------------
    dt = p.get("deferral_time", "DeferralTime")
    if dt is not None:
        ad["DeferralTime"] = _expr(dt, "deferral_time")
        if re.fullmatch(r"-?[\d.]+", ad["DeferralTime"]) and not re.fullmatch(r"\d+", ad["DeferralTime"]):
            raise SubmitError(f"deferral_time = {dt} is invalid, must eval to a non-negative integer.")
    if any(a in ad for a in ("CronMinute", "CronHour", "CronDayOfMonth", "CronMonth", "CronDayOfWeek",
                             "DeferralTime")):
        for keys, attr, default in ((("cron_window", "CronWindow", "deferral_window", "DeferralWindow"),
                                     "DeferralWindow", "0"),
                                    (("cron_prep_time", "CronPrepTime", "deferral_prep_time", "DeferralPrepTime"),
                                     "DeferralPrepTime", "300")):
            v = p.get(*keys)
            if v is None:
                ad[attr] = default
            else:
                ad[attr] = _expr(v, keys[0])
                if re.fullmatch(r"-?[\d.]+", ad[attr]) and not re.fullmatch(r"\d+", ad[attr]):
                    raise SubmitError(f"{keys[2]} = {v} is invalid, must eval to a non-negative integer.")
        if universe == 7 and "DeferralTime" in ad:
            raise SubmitError("DeferralTime does not work for scheduler universe jobs.\n"
                              "Consider submitting this job using the local universe, instead")

    # --- policy expressions ------------------------------------------------------------------------
    for key, attr in (("periodic_hold", "PeriodicHold"), ("periodic_hold_reason", "PeriodicHoldReason"),
                      ("periodic_hold_subcode", "PeriodicHoldSubCode"), ("periodic_release", "PeriodicRelease"),
                      ("periodic_remove", "PeriodicRemove"), ("periodic_vacate", "PeriodicVacate"),
                      ("on_exit_hold_reason", "OnExitHoldReason"), ("on_exit_hold_subcode", "OnExitHoldSubCode")):
        v = p.get(key, attr)  # SetPeriodicExpressions: the attribute name is accepted too
        if v:
            ad[attr] = _expr(v, attr)
    _set_retries(p, ad)

    # --- resources ------------------------------------------------------------------------------------
    _set_requests(p, ad, all_keys)

    # --- accounting group (SetAccountingGroup), concurrency limits -------------------
    project = p.get("project_name", "ProjectName")
    if project:
        s("ProjectName", project)
    grp = p.get("accounting_group", "AccountingGroup")
    if _bool(p.get("nice_user", "NiceUser"), False):
        if not grp:
            grp = "nice-user"  # NICE_USER_ACCOUNTING_GROUP_NAME
        ad["MaxJobRetirementTime"] = "0"
    gu = p.get("accounting_group_user", "AcctGroupUser")
    if grp or gu:
        user = gu or ctx.username
        for what, val in (("accounting_group", grp), ("accounting_group_user", user)):
            if val is not None and not re.fullmatch(r"[A-Za-z0-9_.@\-]+", val):
                raise SubmitError(f"Invalid {what}: {val}")
        s("AcctGroupUser", user)
        if grp:
            s("AcctGroup", grp)
            s("AccountingGroup", f"{grp}.{user}")
        else:
            s("AccountingGroup", user)
    cl = p.get("concurrency_limits")
    cle = p.get("concurrency_limits_expr")
    if cl and cle:
        raise SubmitError("concurrency_limits and concurrency_limits_expr can't be used together")
    if cl:
        limits = sorted(x for x in re.split(r"[\s,]+", cl.lower()) if x)
        for lim in limits:
            if not re.fullmatch(r"[a-z0-9_.\-]+(:\d+(\.\d*)?)?", lim):
                raise SubmitError(f"Invalid concurrency limit '{lim}'")
        if limits:
            s("ConcurrencyLimits", ",".join(limits))
    elif cle:
        ad["ConcurrencyLimits"] = _expr(cle, "concurrency_limits_expr")

    # --- OAuth services --------------------------------------------------------------------------------
    svcs = p.get("use_oauth_services", "use_oauth_service")
    if svcs:
        out = []
        lower_keys = {k.lower() for k in all_keys}
        for svc in [x.strip() for x in re.split(r"[,\s]+", svcs) if x.strip()]:
            handles = set()
            pref = svc.lower() + "_oauth_"
            for k in lower_keys:
                for kind in ("permissions_", "resource_"):
                    if k.startswith(pref + kind) and len(k) > len(pref + kind):
                        handles.add(k[len(pref + kind):])
            if handles:
                out.extend(f"{svc}*{h}" for h in sorted(handles))
            else:
                out.append(svc)
        s("OAuthServicesNeeded", ",".join(out))

    # --- x509 proxy -------------------------------------------------------------------------------------
    proxy = p.get("x509userproxy")
    if proxy:
        path = _full_path(proxy, iwd)
        try:
            with open(path, "rb"):
                pass
        except OSError:
            raise SubmitError("unable to read proxy file") from None
        s("x509userproxy", path)

    # --- file transfer ---------------------------------------------------------------------------------------
    ad["ExecutableSize"] = str(exe_kb)
    image_kb = exe_kb
    isz = p.get("image_size")
    if isz:
        q = parse_int64_bytes(isz, 1024)
        if q is None or q < 1:
            raise SubmitError("Image Size must be positive" if q is not None else f"'{isz}' is not valid for Image Size")
        ad["ImageSize"] = str(q)
    else:
        ad["ImageSize"] = str(image_kb)
    _set_transfer(p, ad, universe, iwd, exe_kb, is_container, ctx, transfer_exe, cmd)

    # --- user attributes (+Attr / My.Attr) -------------------------------------------------------------------
    for name, value in user_attrs:
        ad[name] = _expr(value, "+" + name) if value.strip() else "undefined"
    if "Requirements" not in [n for n, _ in user_attrs]:
        ad["Requirements"] = _requirements(p, ad, universe, is_container, is_docker, grid_type)
    return ad


def _fix_signal(sig: str | None) -> str | None:
    """fixupKillSigName: a number becomes its SIG name; a name must be a known signal."""
    if sig is None:
        return None
    import signal as _signal
    m = re.match(r"\s*([+-]?\d+)", sig)
    if m and int(m.group(1)) != 0:
        try:
            return _signal.Signals(int(m.group(1))).name
        except ValueError:
            raise SubmitError(f"invalid signal {sig}") from None
    name = sig.strip().upper()
    full = name if name.startswith("SIG") else "SIG" + name
    if full not in _signal.Signals.__members__:
        raise SubmitError(f"invalid signal {sig}")
    return name


def _eval_int(text: str) -> int:
    t = text.strip()
    if re.fullmatch(r"-?\d+", t):
        return int(t)
    if re.fullmatch(r"[\d\s+\-*/%()]+", t):
        import ast
        node = ast.parse(t, mode="eval")
        for sub in ast.walk(node):
            if not isinstance(sub, (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Constant, ast.operator,
                                    ast.unaryop)):
                raise ValueError(t)
        return int(eval(compile(node, "<int>", "eval"), {"__builtins__": {}}, {}))  # arithmetic only
    if t.lower() in ("true", "false"):
        return 1 if t.lower() == "true" else 0
    raise ValueError(t)


def _set_retries(p: _Params, ad: dict) -> None:
    """SetJobRetries (submit_utils.cpp): max_retries / retry_until / success_exit_code / on_exit_*."""
    erc = p.get("on_exit_remove", "OnExitRemove")
    ehc = p.get("on_exit_hold", "OnExitHold")
    max_retries = p.get("max_retries", "JobMaxRetries")
    sec = p.get("success_exit_code", "JobSuccessExitCode")
    retry_until = p.get("retry_until")
    if max_retries is None and sec is None and retry_until is None:
        if erc:
            ad["OnExitRemove"] = _expr(erc, "on_exit_remove")
        if ehc:
            ad["OnExitHold"] = _expr(ehc, "on_exit_hold")
        return
    if retry_until is not None:
        if re.fullmatch(r"\s*[+-]?\d+\s*", retry_until):
            retry_until = f"ExitCode =?= {int(retry_until)}"
        else:
            retry_until = _expr(retry_until, "retry_until")
            if _needs_parens_for_or(retry_until):
                retry_until = f"({retry_until})"
    try:
        ad["JobMaxRetries"] = str(_eval_int(max_retries)) if max_retries is not None else "2"
    except ValueError:
        raise SubmitError(f"max_retries={max_retries} is invalid, it must be an integer.") from None
    ad["OnExitHold"] = _expr(ehc, "on_exit_hold") if ehc else "false"
    if sec is not None:
        try:
            ad["JobSuccessExitCode"] = str(_eval_int(sec))
        except ValueError:
            raise SubmitError(f"success_exit_code={sec} is invalid, it must be an integer.") from None
        code_check = "JobSuccessExitCode"
    else:
        code_check = "0"
    if retry_until:
        code_check += " || " + retry_until
    remove = "NumJobCompletions > JobMaxRetries || ExitCode =?= " + code_check
    if erc:
        e = _expr(erc, "on_exit_remove")
        remove += " || " + (f"({e})" if _needs_parens_for_or(e) else e)
    ad["OnExitRemove"] = _expr(remove, "on_exit_remove")


def _needs_parens_for_or(expr: str) -> bool:
    """True when ``expr`` has a top-level ``?:`` (binds looser than ``||``)."""
    return _top_level_has(expr, ("?",))


def parse_int64_bytes(text: str, base: int) -> int | None:
    """metric_units.cpp parse_int64_bytes: ``4GB``/``1024M``/``2.5G``/``100`` -> units of ``base`` bytes.

    A bare number is already in ``base`` units; the result is rounded up; up to
    three fractional digits count.  None when ``text`` is not such a quantity.
    """
    m = re.fullmatch(r"\s*([+-]?\d+)(?:\.(\d*))?\s*(?:([KkMmGgTt])[Bb]?)?\s*", text)
    if not m:
        return None
    val = int(m.group(1))
    digits = (m.group(2) or "")[:3]
    fract = sum(int(d) / 10 ** (i + 1) for i, d in enumerate(digits))
    unit = (m.group(3) or "").lower()
    mult = {"": base, "k": 1024, "m": 1024 ** 2, "g": 1024 ** 3, "t": 1024 ** 4}[unit]
    return int(((val + fract) * mult + base - 1) // base)


def parse_int64_bytes_ex(text: str, base: int, separators: str = "") -> tuple:
    """metric_units.cpp parse_int64_bytes with separators: ``(value, unit, end)`` where
    ``value`` is in units of ``base`` bytes (None when ``text`` does not start with such a
    quantity followed by the end or a separator), ``unit`` the unit letter given ("" for
    none) and ``end`` the index just past the quantity (at the separator, if any)."""
    m = re.match(r"\s*([+-]?\d+)(?:\.(\d*))?\s*(?:([KkMmGgTt])[Bb]?)?\s*", text)
    if not m:
        return None, "", 0
    end = m.end()
    if end < len(text) and text[end] not in separators:
        return None, "", 0
    val = int(m.group(1))
    digits = (m.group(2) or "")[:3]
    fract = sum(int(d) / 10 ** (i + 1) for i, d in enumerate(digits))
    unit = m.group(3) or ""
    mult = {"": base, "k": 1024, "m": 1024 ** 2, "g": 1024 ** 3, "t": 1024 ** 4}[unit.lower()]
    return int(((val + fract) * mult + base - 1) // base), unit, end


#: what a retry of each resource request needs of the eviction (submit_utils.cpp
#: SetBuiltInOnEvictCheck: the starter's OOM / out-of-disk vacate codes)
_EVICT_REQUIREMENTS = {
    "requestmemory": "(VacateReasonCode==21 || VacateReasonCode == 34) && VacateReasonSubCode == 102",
    "requestdisk": "(VacateReasonCode==21 || VacateReasonCode == 34) && VacateReasonSubCode == 104",
}


def _on_evict_check(ad: dict, attr: str, subkey: str, scale: int, line: str | None,
                    incr: str | None = None) -> None:
    """A retry of a resource request after an eviction for exceeding it (submit_utils.cpp
    SetBuiltInOnEvictCheck; manual: retry_request_memory, retry_request_memory_max,
    retry_request_memory_increase, ``request_memory = a, b``).

    ``line`` is ``q1, q2, ..., last`` (quantities with units, ``last`` may be an
    expression); ``incr`` a quantity or an expression that references ``attr``.  Sets
    ``TransformOnEvict`` (the list of attributes with such a check) and
    ``TransformBody_<attr>``, the transform the schedd applies when the job is evicted for
    exceeding the request: a REQUIREMENTS line on the vacate codes, then SET / EVALSET
    lines (0x1e separates lines), with ``Retry<attr>`` (the sequence) or ``Max<attr>`` and
    ``Next<attr>`` (the growth) as the form asks.  Raises SubmitError naming the command."""
    seq: list[int] = []
    last = None
    if line:
        pos = 0
        while True:
            q, _, end = parse_int64_bytes_ex(line[pos:], scale, ",")
            if q is None:
                break
            seq.append(q)
            pos += end
            if pos < len(line) and line[pos] == ",":
                pos += 1
                continue
            break
        tail = line[pos:].strip()
        if tail:
            try:
                last = normalize(tail)
            except ExprSyntaxError:
                raise SubmitError(f"{subkey}={tail} is invalid. must be an expression or number\n") from None
    prev = 0
    if len(seq) > 1:
        for v in seq:
            if v <= prev:
                raise SubmitError(f"{subkey} must have an increasing sequence of values, but {v} "
                                  f"is not greater than {prev}\n")
            prev = v
    top = None
    last_is_expr = False
    if last is not None:
        top, last_is_expr = last, True
    elif seq:
        top = str(seq.pop())
    elif not incr:
        return
    if seq:
        retry = "Retry" + attr
        ad[retry] = "{" + ",".join(str(v) for v in seq) + "," + top + "}"
        index = retry + "Index"
        body = (f"EVALSET {attr} {retry}[{index}?:0]\x1e"
                f"EVALSET {index} MIN({{size({retry})-1, ({index}?:0)+1}})")
    elif incr:
        q, _, _ = parse_int64_bytes_ex(incr, scale)
        if q is not None:
            if q <= 0:
                raise SubmitError(f"{attr} retry increment must be a positive number or an "
                                  f"expression that references {attr}\n")
            increment = f"{attr} + {q}"
        else:
            try:
                increment = normalize(incr)
            except ExprSyntaxError:
                increment = None
            if increment is None or attr.lower() not in {r.lower() for r in references(increment)[1]}:
                raise SubmitError(f"{attr} retry increment must be a positive number or an "
                                  f"expression that references {attr}\n")
        if top is not None:
            ad["Max" + attr] = top
            ad["Next" + attr] = increment
            body = f"EVALSET {attr} MIN({{Next{attr}, Max{attr}}})"
        else:  # no maximum: the increment is applied once, computed now
            from pyhtc import classad as C
            scope = C.ClassAd()
            if re.fullmatch(r"-?\d+", ad.get(attr, "")):
                scope[attr] = int(ad[attr])
            scope["Increment"] = C.ExprTree(increment)
            value = scope.eval("Increment")
            if type(value) is not int:
                raise SubmitError(f"{attr} retry increment ({incr}) must evaluate to an integer at "
                                  f"submit time\n")
            body = f"SET {attr} {value}"
    else:
        body = f"{'EVALSET' if last_is_expr else 'SET'} {attr} {top}"
    lines = ""
    req = _EVICT_REQUIREMENTS.get(attr.lower())
    if req:
        lines = "REQUIREMENTS " + req + "\x1e"
    ad["TransformBody_" + attr] = quote(lines + body)
    names = _unquote_list(ad.get("TransformOnEvict"))
    if attr.lower() not in {n.lower() for n in names}:
        ad["TransformOnEvict"] = quote(" ".join(names + [attr]))


def _unquote_list(text: str | None) -> list[str]:
    """The words of a string attribute's expression text (``"a b"`` -> ``["a", "b"]``)."""
    if not text:
        return []
    return _strip_quotes(text).split()


def _set_requests(p: _Params, ad: dict, all_keys: list[str]) -> None:
    """SetRequestResources/Cpus/Gpus/Mem/Disk and SetResourceRequirements (submit_utils.cpp)."""
    for key in all_keys:
        if not key.lower().startswith("request_"):
            continue
        rname = key[len("request_"):]
        if rname.lower() in ("cpus", "cpu", "gpus", "gpu", "disk", "memory") or len(rname) < 2 \
                or rname.startswith("_"):
            continue
        val = p.get(key)
        if val is None:
            continue
        ad["Request" + rname] = _expr(val, key)
    cpus = p.get("request_cpus", "RequestCpus")
    if cpus is None:
        cpus = "1"  # JOB_DEFAULT_REQUESTCPUS
    if cpus.lower() != "undefined":
        ad["RequestCpus"] = _expr(cpus, "request_cpus")
    gpus = p.get("request_gpus", "RequestGPUs")
    if gpus is not None and gpus.lower() != "undefined":
        ad["RequestGPUs"] = _expr(gpus, "request_gpus")
    mem = p.get("request_memory", "RequestMemory")
    if mem is None:
        mem = "128"  # JOB_DEFAULT_REQUESTMEMORY with no configuration
    if mem.lower() != "undefined":
        q, _, end = parse_int64_bytes_ex(mem, 1024 * 1024, ",")
        ad["RequestMemory"] = str(q) if q is not None else _expr(mem, "request_memory")
        if q is not None:
            rest = mem[end + 1:] if end < len(mem) else ""
            if rest:  # request_memory = 1G, 4G: the second value is the retry request
                _on_evict_check(ad, "RequestMemory", "request_memory", 1024 * 1024, rest)
            else:
                rrm = p.get("retry_request_memory")
                rrmax = p.get("retry_request_memory_max")
                rrmincr = p.get("retry_request_memory_increase")
                if rrm:
                    _on_evict_check(ad, "RequestMemory", "retry_request_memory", 1024 * 1024, rrm)
                elif rrmax or rrmincr:
                    _on_evict_check(ad, "RequestMemory", "retry_request_memory_max", 1024 * 1024,
                                    rrmax, rrmincr)
    disk = p.get("request_disk", "RequestDisk")
    if disk is None:
        ad["RequestDisk"] = DEFAULT_REQUEST_DISK
    elif disk.lower() != "undefined":
        q, _, end = parse_int64_bytes_ex(disk, 1024, ",")
        ad["RequestDisk"] = str(q) if q is not None else _expr(disk, "request_disk")
        if q is not None:
            rest = disk[end + 1:] if end < len(disk) else ""
            if rest:
                _on_evict_check(ad, "RequestDisk", "request_disk", 1024, rest)
            elif p.get("retry_request_disk"):
                _on_evict_check(ad, "RequestDisk", "request_disk", 1024, p.get("retry_request_disk"))
    if "RequestGPUs" not in ad:
        return
    req = p.get("require_gpus", "RequireGPUs")
    if req:
        ad["RequireGPUs"] = _expr(req, "require_gpus")
    for key, attr in (("gpus_minimum_capability", "GPUsMinCapability"),
                      ("gpus_maximum_capability", "GPUsMaxCapability")):
        v = p.get(key, attr)
        if v:
            ad[attr] = _expr(v, key)
    gmem = p.get("gpus_minimum_memory", "GPUsMinMemory")
    if gmem:
        q = parse_int64_bytes(gmem, 1024 * 1024)
        ad["GPUsMinMemory"] = str(q) if q is not None else _expr(gmem, "gpus_minimum_memory")
    rt = p.get("gpus_minimum_runtime", "GPUsMinRuntime")
    if rt:
        m = re.fullmatch(r"\s*(\d+)(?:\.(\d+))?\s*", rt)
        if m and (m.group(2) is None or int(m.group(2)) < 100):
            major = int(m.group(1))
            minor = int(m.group(2)) if m.group(2) is not None else -1
            ver = major if (minor == -1 and major > 1000) else major * 1000 + (minor * 10 if minor > 0 else 0)
            ad["GPUsMinRuntime"] = str(ver)
        else:
            ad["GPUsMinRuntime"] = _expr(rt, "gpus_minimum_runtime")
    props = references(ad["RequireGPUs"])[1] if "RequireGPUs" in ad else set()
    clauses = []
    if "GPUsMinCapability" in ad and "capability" not in props:
        clauses.append("Capability >= GPUsMinCapability")
    if "GPUsMaxCapability" in ad and "capability" not in props:
        clauses.append("Capability <= GPUsMaxCapability")
    if "GPUsMinMemory" in ad and "globalmemorymb" not in props:
        clauses.append("GlobalMemoryMb >= GPUsMinMemory")
    if "GPUsMinRuntime" in ad and "maxsupportedversion" not in props:
        clauses.append("MaxSupportedVersion >= GPUsMinRuntime")
    if clauses:
        if "RequireGPUs" in ad:
            base = ad["RequireGPUs"]
            if _needs_parens_for_and(base):
                base = f"({base})"
            ad["RequireGPUs"] = _expr(base + " && " + " && ".join(clauses), "require_gpus")
        else:
            ad["RequireGPUs"] = _expr(" && ".join(clauses), "require_gpus")


def _needs_parens_for_and(expr: str) -> bool:
    """True when ``expr`` has a top-level ``||`` or ``?:`` (binds looser than ``&&``)."""
    return _top_level_has(expr, ("||", "?"))


def _top_level_has(expr: str, ops: tuple[str, ...]) -> bool:
    depth = 0
    i = 0
    in_str = False
    while i < len(expr):
        c = expr[i]
        if in_str:
            if c == "\\":
                i += 2
                continue
            if c == '"':
                in_str = False
        elif c == '"':
            in_str = True
        elif c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif depth == 0 and any(expr.startswith(op, i) for op in ops):
            return True
        i += 1
    return False


def _url_scheme(item: str) -> str | None:
    m = re.match(r"([A-Za-z][A-Za-z0-9+.\-]*)://", item)
    return m.group(1).lower() if m else None


def _set_transfer(p: _Params, ad: dict, universe: int, iwd: str, exe_kb: int, is_container: bool,
                  ctx: JobContext, transfer_exe: bool, cmd: str) -> None:
    """SetTransferFiles: ShouldTransferFiles, WhenToTransferOutput, TransferInput/Output, sizes."""
    inputs: list[str] = []
    in_specified = False
    tif = p.get("transfer_input_files", "TransferInputFiles")
    size_kb = 0

    def local_size(f):
        if _url_scheme(f):
            return 0
        return _size_kb(f if f.startswith("/") else os.path.join(iwd, f))

    if tif:
        for f in _strip_quotes(tif).split(","):
            f = f.strip()
            if f:
                inputs.append(f)
                size_kb += local_size(f)
        in_specified = bool(inputs)
    if is_container:
        # process_container_input_files (submit_utils.cpp)
        img = p.get("container_image", "ContainerImage")
        if img:
            img = _strip_quotes(img)
            if not _bool(p.get("transfer_container"), True):
                ad["ContainerImageSource"] = quote("local")
            elif img.startswith(("docker://", "oras://")):
                ad["ContainerImageSource"] = quote(img.split("://", 1)[0])
            elif _bool(p.get("container_is_common"), False):
                pass
            else:
                inputs.append(img)
                size_kb += local_size(img)
                in_specified = True
                base = img[:-1] if img.endswith("/") else img
                ad["ContainerImage"] = quote(base.rsplit("/", 1)[-1])
                ad["ContainerImageFullPath"] = quote(img)
                ad["ContainerImageSource"] = quote(base.split(":", 1)[0] if ":" in base else "cedar")
    # stdin counts toward the input size
    if ad.get("TransferIn") != "false":
        fin = _unq(ad["In"])
        if fin:
            size_kb += local_size(fin)
    outputs = None
    tof = p.get("transfer_output_files", "TransferOutputFiles")
    if tof is not None:
        outputs = [f.strip() for f in _strip_quotes(tof).split(",") if f.strip()]
    should_text = p.get("should_transfer_files", "ShouldTransferFiles")
    default_should = should_text is None
    should = "IF_NEEDED"
    if should_text is not None:
        t = should_text.strip().lower()
        if t in ("yes", "y", "true", "t", "always"):
            should = "YES"
        elif t in ("no", "n", "false", "f", "never"):
            should = "NO"
        elif t in ("if_needed", "ifneeded"):
            should = "IF_NEEDED"
        else:
            raise SubmitError(f"\nERROR: invalid value ({should_text}) for ShouldTransferFiles.  "
                              "Please either specify YES, NO, or IF_NEEDED and try again.")
    if should == "NO" and (in_specified or outputs is not None):
        what = ('transfer_input_files" and "transfer_output_files",' if in_specified and outputs is not None
                else 'transfer_input_files",' if in_specified else 'transfer_output_files",')
        raise SubmitError(f"\nERROR: you specified files you want Condor to transfer via \"{what} "
                          "but you disabled should_transfer_files.")
    when_text = p.get("when_to_transfer_output", "WhenToTransferOutput")
    default_when = when_text is None
    when = "ON_EXIT"
    if when_text is not None:
        t = when_text.strip().upper()
        if t not in ("ON_EXIT", "ON_EXIT_OR_EVICT", "ON_SUCCESS", "NEVER"):
            raise SubmitError(f"\nERROR: invalid value ({when_text}) for WhenToTransferOutput.  "
                              "Please either specify ON_EXIT, or ON_EXIT_OR_EVICT and try again.")
        when = t
    if not default_should and default_when and should == "NO":
        when = "NEVER"
    if (should == "NO" and when != "NEVER") or (should != "NO" and when == "NEVER"):
        raise SubmitError(f"\nERROR: WhenToTransferOutput specified as {when} yet ShouldTransferFiles defined as "
                          f"{should_text or should}.  Please remove this contradiction from your submit file "
                          "and try again.")
    if default_should and when == "ON_EXIT_OR_EVICT" and should == "IF_NEEDED":
        should = "YES"
    if when == "ON_EXIT_OR_EVICT" and should == "IF_NEEDED":
        raise SubmitError('\nERROR: "when_to_transfer_output = ON_EXIT_OR_EVICT" and '
                          '"should_transfer_files = IF_NEEDED" are incompatible.')
    ad["ShouldTransferFiles"] = quote(should)
    if should != "NO":
        ad["WhenToTransferOutput"] = quote(when)
    if should != "YES":
        ad["FileSystemDomain"] = quote(ctx.fs_domain)
    if should != "NO" and universe == 10:
        if cmd and cmd != "java":
            if cmd not in inputs:
                inputs.append(cmd)
                size_kb += local_size(cmd)
        jars = p.get("jar_files")
        if jars:
            for j in jars.split(","):
                j = j.strip()
                if j:
                    inputs.append(j)
                    size_kb += local_size(j)
        ad["Cmd"] = quote("java")
        ad["TransferExecutable"] = "false"
    ad["TransferInputSizeMB"] = str((exe_kb + size_kb + 1023) // 1024)
    ad["DiskUsage"] = str(exe_kb + size_kb)
    if should != "NO":
        if in_specified:
            ad["TransferInput"] = quote(",".join(inputs))
        if outputs is not None:
            ad["TransferOutput"] = quote(",".join(outputs))
    elif universe not in (9, 10, 13) and _bool(p.get("transfer_executable"), False):
        raise SubmitError("\nERROR: You explicitly requested that the executable be transfered, but for this "
                          "to work, you must enable Condor's file transfer functionality.")
    remaps = p.get("transfer_output_remaps")
    if remaps:
        ad["TransferOutputRemaps"] = quote(_strip_quotes(remaps))


def _unq(text: str) -> str:
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        return text[1:-1].replace('\\"', '"')
    return text


def _requirements(p: _Params, ad: dict, universe: int, is_container: bool, is_docker: bool, grid_type: str) -> str:
    """SetRequirements: the user's clause plus HTCondor's default clauses."""
    orig = p.get("requirements")
    answer = f"({orig})" if orig else ""
    if universe == 9 and grid_type != "condor":
        return _expr(answer or "true", "requirements")
    _, mrefs = references(answer) if answer else (set(), set())
    if "requirements" in mrefs:
        raise SubmitError(f"Requirements = {answer}\nIs Circular. Did you intend to use $(Requirements) ?")
    checks_arch = "arch" in mrefs
    checks_opsys = is_container or is_docker or bool(mrefs & {"opsys", "opsysandver", "opsyslongname",
                                                               "opsysshortname", "opsysname", "opsyslegacy"})
    parts = [answer] if answer else []

    def add(clause):
        parts.append(clause)

    arch_clause = '(TARGET.Arch == "X86_64")'
    if universe == 10:
        add("TARGET.HasJava")
    elif is_docker:
        if not checks_arch:
            add(arch_clause)
        add("TARGET.HasDocker")
    elif is_container:
        if not checks_arch:
            add(arch_clause)
        img = _unq(ad.get("ContainerImage", '""'))
        if "DockerImage" in ad or img.startswith("docker:"):
            add("TARGET.HasContainer && TARGET.HasDockerURL")
        elif img.endswith(".sif"):
            add("TARGET.HasContainer && TARGET.HasSIF")
        elif "ContainerImage" in ad:
            add("TARGET.HasContainer && TARGET.HasSandboxImage")
        else:
            add("TARGET.HasContainer")
    else:
        if not checks_arch:
            add(arch_clause)
        if not checks_opsys:
            add('(TARGET.OpSys == "LINUX")')
    disk = ad.get("RequestDisk")
    if "disk" not in mrefs:
        if disk is not None and not (re.fullmatch(r"[\d.]+", disk) and float(disk) <= 0):
            if universe == 5:
                add('(versionGE(split(TARGET.CondorVersion)[1],"25.12.0") || (TARGET.Disk >= RequestDisk))')
            else:
                add("(TARGET.Disk >= RequestDisk)")
        elif disk is None:
            add("(TARGET.Disk >= DiskUsage)")
    elif disk is not None:
        add("(TARGET.Disk >= RequestDisk)")
    mem = ad.get("RequestMemory")
    if mem is not None and not (re.fullmatch(r"[\d.]+", mem) and float(mem) <= 1.0):
        add("(TARGET.Memory >= RequestMemory)")
    if universe != 9 and "cpus" not in mrefs:
        cpus = ad.get("RequestCpus")
        if cpus is not None and not (re.fullmatch(r"[\d.]+", cpus) and float(cpus) <= 1.0):
            add("(TARGET.Cpus >= RequestCpus)")
    tags = sorted((a for a in ad if a.lower().startswith("request") and len(a) >= 9 and a[7] != "_"
                   and a.lower() not in ("requestcpus", "requestdisk", "requestmemory")), key=str.lower)
    for attr in tags:
        tag = attr[7:]
        if tag.lower() in mrefs:
            continue
        val = ad[attr]
        if val.startswith('"'):
            if len(val) > 2:
                add(f"regexp({attr}, TARGET.{tag})")
            continue
        if re.fullmatch(r"-?[\d.]+", val) and float(val) <= 0:
            continue
        if "Require" + tag in ad:
            add(f"(countMatches(MY.Require{tag},TARGET.Available{tag}) >= {attr})")
        else:
            add(f"(TARGET.{tag} >= {attr})")
    if universe in _MIGHT_TRANSFER:
        should = _unq(ad.get("ShouldTransferFiles", '"IF_NEEDED"'))
        domain = "(TARGET.FileSystemDomain == MY.FileSystemDomain)"
        checks_fsdomain = "filesystemdomain" in mrefs
        checks_ft = bool(mrefs & {"hasfiletransfer", "hasjobtransferplugins"})
        if should == "NO":
            if not checks_fsdomain:
                add(domain)
        elif not checks_ft:
            xfer = "TARGET.HasFileTransfer"
            if p.get("transfer_plugins"):
                xfer = "TARGET.HasJobTransferPlugins"
            if any(k in ad for k in ("EncryptInputFiles", "EncryptOutputFiles", "DontEncryptInputFiles",
                                     "DontEncryptOutputFiles")) and "hasperfileencryption" not in mrefs:
                xfer += " && TARGET.HasPerFileEncryption"
            if ("TransferCheckpoint" in ad or ad.get("PreserveRelativePaths") == "true"
                    or _unq(ad.get("WhenToTransferOutput", "")) == "ON_SUCCESS"):
                xfer += ' && versioncmp(split(TARGET.CondorVersion)[1],"8.9.7") >= 0'
            methods = set()
            for f in _unq(ad.get("TransferInput", '""')).split(","):
                sch = _url_scheme(f.strip())
                if sch:
                    methods.add(sch)
            od = ad.get("OutputDestination")
            if od and _url_scheme(_unq(od)):
                methods.add(_url_scheme(_unq(od)))
            for remap in _unq(ad.get("TransferOutputRemaps", '""')).split(";"):
                if "=" in remap:
                    sch = _url_scheme(remap.split("=", 1)[1].strip())
                    if sch:
                        methods.add(sch)
            ordered = sorted(methods)
            if "hasfiletransferpluginmethods" not in mrefs:
                for m in ordered:
                    xfer += f' && stringListIMember("{m}",TARGET.HasFileTransferPluginMethods)'
            if ordered:
                ad["WantTransferPluginMethods"] = quote(",".join(ordered))
            if should == "IF_NEEDED" and not checks_fsdomain:
                add(f"({domain} || ({xfer}))")
            else:
                add(f"({xfer})")
    if any(k in ad for k in ("CronMinute", "CronHour", "CronDayOfMonth", "CronMonth", "CronDayOfWeek",
                             "DeferralTime")):
        if universe != 12:
            add("TARGET.HasJobDeferral")
        ad.setdefault("ScheddInterval", "300")  # SCHEDD_INTERVAL default
        add("(((time() + ScheddInterval) >= (DeferralTime - DeferralPrepTime)) && "
            "(time() < (DeferralTime + DeferralWindow)))")
    if ad.get("WantFTOnCheckpoint") == "true" and "hasselfcheckpointtransfers" not in mrefs:
        add("TARGET.HasSelfCheckpointTransfers")
    return _expr(" && ".join(parts), "requirements")
