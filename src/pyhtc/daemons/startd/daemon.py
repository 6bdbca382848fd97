"""``condor_startd``: slots, claims, starters and the execute-point policy.

Follows src/condor_startd.V6 (ResMgr.cpp, Resource.cpp, claim.cpp, command.cpp) and the
manual's admin-manual/ep-policy-configuration.rst.

Commands (all at DAEMON level, as startd_main.cpp registers them):

- ``REQUEST_CLAIM`` (442) from a schedd: ``secret ClaimId, ad request, string schedd
  address, int alive interval [, int num_preempting, secrets...]``, EOM.  The slot's
  Requirements (START ...) are evaluated against the request; a partitionable slot carves
  a dynamic slot sized by MODIFY_REQUEST_EXPR_REQUEST{CPUS,MEMORY,DISK}; the claim id then
  names the dynamic slot and the partitionable slot gets a new one.  Reply: ``[int 7,
  secret ClaimId, ad slot]`` when the request had ``_condor_SEND_CLAIMED_AD``, then ``int
  OK`` (1) / ``NOT_OK`` (0) / ``REQUEST_CLAIM_LEFTOVERS(_2)`` (3/5, followed by the
  partitionable slot's new claim id and ad when ``_condor_SEND_LEFTOVERS``), EOM;
- ``ACTIVATE_CLAIM`` (444) from a shadow: ``secret ClaimId, int 0, ad job``, EOM.  Starts a
  ``condor_starter`` for the job; reply ``int OK`` or a refusal (``int NOT_OK`` /
  ``CONDOR_TRY_AGAIN`` and, with ``_condor_send_activation_failure_ad``, an ad with
  VacateReason/VacateReasonCode);
- ``DEACTIVATE_CLAIM`` (403) / ``DEACTIVATE_CLAIM_FORCIBLY`` (404): ``secret ClaimId``,
  EOM; reply ``[Start = <claim may be reused>]``, then the starter is told to vacate
  (SIGTERM) or to kill the job (SIGQUIT);
- ``RELEASE_CLAIM`` (443): ``secret ClaimId``, EOM; no reply.  Any job is killed and the
  slot returns to Unclaimed (a dynamic slot is deleted and its resources go back);
- ``ALIVE`` (441): ``secret ClaimId``, EOM; refreshes the claim's lease.

Secrets are sent as strings (encrypted when the connection is).

Claim ids carry a security session (SEC_ENABLE_MATCH_PASSWORD_AUTHENTICATION, default
true; :mod:`pyhtc.cedar.security.match`): the startd registers it when it makes the claim id
and forgets it when the claim ends; the holder of the claim id resumes it, and the startd
grants that peer (``submit-side@matchsession``) its DAEMON- and CLIENT-level commands.

Collector updates (ResMgr.cpp): every UPDATE_INTERVAL all slots; on a state change, after a
one-second timer, only the slots whose ads changed, over a security session kept from one
update to the next.  A slot whose state did not change but whose ad did (the next job on
the same claim, usage) is sent at most every CHURN_UPDATE_SECONDS (see there).

The starter interface (until the shadow<->starter protocol exists): the startd writes the
job ad and the slot ad to files under ``$(EXECUTE)``, starts ``condor_starter -f -a
<slot> -job-ad F -machine-ad F -execute DIR`` (forked by the starter fork server,
:mod:`pyhtc.daemoncore.zygote`, asked without blocking the event loop -- :mod:`.forkserver`
-- unless ``STARTER_FORK_SERVER = False``) and signals it: SIGTERM = vacate, SIGQUIT =
kill, SIGTSTP = suspend, SIGCONT = continue (HTCondor's DC_SIGSOFTKILL, DC_SIGHARDKILL,
DC_SIGSUSPEND, DC_SIGCONTINUE).  The starter writes ``$(EXECUTE)/dir_<pid>.update.ad``
(usage) and ``dir_<pid>.result.ad`` (exit) beside its sandbox.
"""
from __future__ import annotations

import asyncio
import itertools
import os
import secrets
import subprocess
import sys
import time
from typing import Optional

from pyhtc.daemoncore.adfile import read_ad
from pyhtc import CONDOR_VERSION
from pyhtc import classad as C
from pyhtc.cedar.commands import Command
from pyhtc.cedar.wire_ad import NotALiteral, WireAd, from_classad, literal, parse_literal, to_classad
from pyhtc.daemoncore.daemon import PLATFORM_STRING, VERSION_STRING, Daemon
from pyhtc.daemoncore.log import Category

from pyhtc.cedar import claims as P
from pyhtc.cedar.security.match import (AUTH_METHOD_MATCH, SUBMIT_SIDE_MATCHSESSION_FQU, ClaimId,
                                        claim_session, new_claim_id)
from pyhtc.cedar.security.negotiation import ClientSessionCache
from .machine import Resources, load_averages, machine_attributes, machine_resources
from .slots import Claim, Slot, SlotConfigError, allocate, slot_specs

TRUE_WORDS = ("true", "1", "yes", "t")
#: policy knobs with their defaults when the configuration has none (manual, startd.rst)
POLICY_DEFAULTS = {
    "START": "True", "SUSPEND": "False", "CONTINUE": "True", "PREEMPT": "False",
    "KILL": "False", "WANT_SUSPEND": "False", "WANT_VACATE": "True", "WANT_HOLD": "False",
    "IS_OWNER": "(START =?= False)", "RANK": "0",
    "MODIFY_REQUEST_EXPR_REQUESTCPUS": "quantize(RequestCpus,{1})",
    "MODIFY_REQUEST_EXPR_REQUESTMEMORY": "quantize(RequestMemory,{128})",
    "MODIFY_REQUEST_EXPR_REQUESTDISK": "quantize(RequestDisk,{1024})",
}
#: permission levels a claim session's holder is granted (a DAEMON hole implies WRITE, READ)
_MATCH_SESSION_LEVELS = ("DAEMON", "WRITE", "READ", "CLIENT", "ALLOW")
#: seconds a state change waits before its collector update, so that changes coalesce
#: (ResMgr::rip_update_needed: a one-second timer, then only the dirty slots are sent)
UPDATE_COALESCE_SECONDS = 1.0
#: a slot whose state is what its last update showed but whose ad changed otherwise (the
#: next job on the same claim, usage) is sent again no sooner than this many seconds after
#: that update (a state change: within UPDATE_COALESCE_SECONDS; every slot: every
#: UPDATE_INTERVAL).  HTCondor's startd sends the dirty slots after the same one-second
#: timer whatever changed (ResMgr.cpp rip_update_needed); pyhtc holds back job churn so
#: that a busy claim reused many times a second does not cost an update per job: the
#: collector's JobId/ActivationCount/usage of such a slot lag by at most this much.
CHURN_UPDATE_SECONDS = 5.0
#: attributes a dynamic slot copies from the claim's request into its ad
_CLAIM_ATTRS = ("RemoteOwner", "RemoteUser", "AccountingGroup", "JobId", "GlobalJobId")
#: value types compared by value when a slot's cached evaluation ad is brought up to date
_PLAIN = (str, int, float, bool)
_MISSING = object()


def _wire_literal(value) -> Optional[str]:
    """Old-syntax text of a slot attribute's Python value when it is a literal or a list of
    literals (what :func:`pyhtc.cedar.wire_ad.from_classad` writes for it: ``"s"``, ``3``,
    ``{ "a","b" }``); None for anything else."""
    kind = type(value)
    if kind is str:
        return '"' + value.replace('"', '\\"') + '"'
    if kind is int:
        return str(value)
    if kind is float or kind is bool:
        return literal(value)
    if kind is list:
        items = [_wire_literal(v) if type(v) in _PLAIN else None for v in value]
        if None in items:
            return None
        return "{ " + ",".join(items) + " }"
    return None


def _truthy(value) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value != 0
    return False




def write_ad_file(path: str, ad, atomic: bool = True) -> None:
    """Write ``ad`` (a ClassAd, a WireAd or ``(name, expression text)`` pairs) in the old
    ClassAd syntax (one ``Name = expr`` a line); ``atomic``: through a temporary file renamed
    over ``path`` (a file name nobody reads before it is complete does not need it)."""
    wire = from_classad(ad) if isinstance(ad, C.ClassAd) else ad
    text = "".join([f"{name} = {expr}\n" for name, expr in wire])
    target = path + ".tmp" if atomic else path
    with open(target, "w") as f:
        f.write(text)
    if atomic:
        os.replace(target, path)


def read_ad_file(path: str) -> Optional[C.ClassAd]:
    """Read an old-syntax ad file written by :func:`write_ad_file` (None if absent)."""
    try:
        return read_ad(path)
    except FileNotFoundError:
        return None


#: the attributes of a starter's result ad that the startd logs when the starter exits
_SUMMARY_ATTRS = ("ExitCode", "ExitBySignal", "ExitSignal", "HoldReasonCode")
_SUMMARY_KEYS = {k.lower(): k for k in _SUMMARY_ATTRS}


def _result_summary(path: str) -> str:
    """``ExitCode=0, ExitBySignal=False`` ...: the :data:`_SUMMARY_ATTRS` of the starter's
    result ad at ``path`` ("" when there is none).  Only those lines are parsed, not the
    whole ad (they are literals the starter writes, one ``Name = value`` a line)."""
    try:
        with open(path) as f:
            text = f.read()
    except OSError:
        return ""
    values = {}
    for line in text.splitlines():
        name, eq, value = line.partition("=")
        key = _SUMMARY_KEYS.get(name.strip().lower())
        if key is None or not eq:
            continue
        try:
            values[key] = parse_literal(value)
        except NotALiteral:
            ad = read_ad_file(path) or C.ClassAd()  # not the plain literal it should be
            return ", ".join(f"{k}={ad.get(k)}" for k in _SUMMARY_ATTRS if k in ad)
    return ", ".join(f"{k}={values[k]}" for k in _SUMMARY_ATTRS if k in values)


class Startd(Daemon):
    """The startd: one :class:`Slot` per configured slot plus dynamic slots."""

    subsystem = "STARTD"
    ready_at_startup = False

    # -- setup -----------------------------------------------------------------------
    def main_init(self) -> None:
        self._reset_ad_cache()
        self._update_seq = 0
        self._sent: dict = {}
        self._loadavg = (0.0, 0.0)
        self._collector_sessions = ClientSessionCache()
        self.execute = self.param("EXECUTE") or os.path.join(self.param("LOCAL_DIR") or "/tmp", "execute")
        os.makedirs(self.execute, exist_ok=True)
        self._clean_execute()
        self._seq = itertools.count(1)
        self.slots: list[Slot] = []
        try:
            self._build_slots()
        except (SlotConfigError, ValueError) as exc:
            self.dprintf(Category.ERROR, f"ERROR: bad slot configuration: {exc}")
            self.shutdown_done(1)
            return
        self.reaper = self.dc.register_reaper("starter", self._starter_exited)
        # condor_starter processes are forked by a fork server that has imported the
        # starter once (pyhtc.daemoncore.zygote); STARTER_FORK_SERVER = False: afresh
        self.zygote = None
        if self.param_boolean("STARTER_FORK_SERVER", True):
            from .forkserver import AsyncZygote
            self.zygote = AsyncZygote(self.dc, ["pyhtc.daemons.starter.main"], name="starter")
            try:
                self.zygote.start()
            except OSError as exc:
                self.dprintf(Category.ALWAYS, f"Cannot start the starter fork server: {exc}")
                self.zygote = None
        for cmd in (P.REQUEST_CLAIM, P.ACTIVATE_CLAIM, P.DEACTIVATE_CLAIM,
                    P.DEACTIVATE_CLAIM_FORCIBLY, P.RELEASE_CLAIM, P.ALIVE):
            self.register_command(cmd, P.COMMAND_NAMES[cmd], self._handlers()[cmd], "DAEMON")
        self._update_pending = False
        self._churn_timer: Optional[int] = None
        self._to_invalidate: list[str] = []
        self._timers: list[int] = []
        self._first_update = True
        self.main_config()

    def _clean_execute(self) -> None:
        """Remove what earlier starters left in EXECUTE (sandboxes dir_<pid>, their
        update/result/hold ads, job and machine ad hand-off files), as the startd does at
        startup (startd_main.cpp, cleanup of the execute directory)."""
        import shutil
        for entry in os.listdir(self.execute):
            if not (entry.startswith("dir_") or (entry.startswith(".slot") and entry.endswith(".ad"))):
                continue
            owner = entry[4:].split(".", 1)[0] if entry.startswith("dir_") else ""
            if owner.isdigit() and os.path.exists(f"/proc/{owner}"):
                # a starter of a startd that was killed still runs its job (own session):
                # it finishes and reports to its shadow; its sandbox is not stale yet
                continue
            path = os.path.join(self.execute, entry)
            self.dprintf(Category.ALWAYS, f"Removing stale {path} from the execute directory")
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path, ignore_errors=True)
            else:
                try:
                    os.unlink(path)
                except OSError:
                    pass

    def _handlers(self) -> dict:
        return {P.REQUEST_CLAIM: self.cmd_request_claim, P.ACTIVATE_CLAIM: self.cmd_activate_claim,
                P.DEACTIVATE_CLAIM: self.cmd_deactivate_claim,
                P.DEACTIVATE_CLAIM_FORCIBLY: self.cmd_deactivate_claim,
                P.RELEASE_CLAIM: self.cmd_release_claim, P.ALIVE: self.cmd_alive}

    def _reset_ad_cache(self) -> None:
        """Forget the configuration-derived parts of the slot ads (built again at next use)."""
        self._templates: dict = {}
        self._wire_templates: dict = {}
        self._wire_bases: dict = {}
        self._wire_exprs: dict = {}
        self._startd_attrs = None
        self._startd_job_attrs: list = []
        self._daemon_name = None

    def main_config(self) -> None:
        self._reset_ad_cache()
        for tid in self._timers:
            self.dc.cancel_timer(tid)
        update = self.param_integer("UPDATE_INTERVAL", 300, min_value=1)
        poll = self.param_integer("POLLING_INTERVAL", 5, min_value=1)
        self._timers = [
            self.dc.register_timer(0, self.send_updates, period=update, name="update collector"),
            self.dc.register_timer(poll, self.evaluate_policy, period=poll, name="policy"),
        ]

    def _new_claim(self) -> Claim:
        """A fresh claim id (claim.cpp ClaimId::ClaimId).  With
        SEC_ENABLE_MATCH_PASSWORD_AUTHENTICATION (default true) it carries a match session
        that is registered here at once, so its holder (schedd, shadow) resumes it instead
        of authenticating (:mod:`pyhtc.cedar.security.match`)."""
        with_session = self.param_boolean("SEC_ENABLE_MATCH_PASSWORD_AUTHENTICATION", True)
        cid = new_claim_id(self.sinful, self.start_time, next(self._seq), with_session=with_session,
                           version=CONDOR_VERSION)
        if with_session and self.server is not None:
            self.server.sessions.add(claim_session(cid, SUBMIT_SIDE_MATCHSESSION_FQU,
                                                   peer_version=VERSION_STRING))
        return Claim(cid.text)

    def _forget_claim(self, claim: Claim) -> None:
        """Drop the match session of a claim that ended (its id is no longer valid)."""
        if self.server is not None:
            sid = ClaimId(claim.id).session_id
            if sid:
                self.server.sessions.remove(sid)

    def _authorize(self, user, method, command: int, peer: str) -> bool:
        # the match identity is only believed from a claim session, never from a peer that
        # authenticated (FS, TOKEN ...) under that name
        if user == SUBMIT_SIDE_MATCHSESSION_FQU and method != AUTH_METHOD_MATCH:
            return False
        return super()._authorize(user, method, command, peer)

    def authorize(self, user, command: int, peer: str) -> bool:
        """The holder of a claim session may run the startd's DAEMON- and CLIENT-level
        commands (startd_main.cpp punches those holes for SUBMIT_SIDE_MATCHSESSION_FQU);
        everyone else goes through the ALLOW/DENY lists."""
        if user == SUBMIT_SIDE_MATCHSESSION_FQU:
            entry = self.commands.get(command)
            if entry is not None and entry[2] in _MATCH_SESSION_LEVELS:
                self.log.dprintf(Category.SECURITY, f"PERMISSION GRANTED to {user} for command "
                                 f"{command} ({entry[0]}), access level {entry[2]}: claim session")
                return True
        return super().authorize(user, command, peer)

    def _build_slots(self) -> None:
        total = machine_resources(self.config, self.execute)
        self.total = total
        specs = slot_specs(self.config)
        sizes = allocate(specs, total)
        for i, (spec, size) in enumerate(zip(specs, sizes), start=1):
            kind = "Partitionable" if spec.partitionable else "Static"
            slot = Slot(i, spec.type_id, kind, size, self._new_claim(),
                        total=Resources(size.cpus, size.memory, size.disk))
            self.slots.append(slot)
            self.dprintf(Category.ALWAYS, f"{kind} slot {slot.name}: Cpus={size.cpus} "
                         f"Memory={size.memory} Disk={size.disk}")
        for slot in self.slots:
            if self._is_owner(slot):
                slot.set_state("Owner", "Idle")

    # -- lookups ---------------------------------------------------------------------
    def all_slots(self) -> list[Slot]:
        """Every slot, each partitionable slot followed by its dynamic slots."""
        out = []
        for s in self.slots:
            out.append(s)
            out.extend(s.children)
        return out

    def slot_by_claim(self, claim_id: str) -> Optional[Slot]:
        """The slot whose current claim has this id (None if no slot has it)."""
        for s in self.all_slots():
            if secrets.compare_digest(s.claim.id, claim_id):
                return s
        return None

    def config_expr(self, knob: str) -> str:
        """The text of a policy expression (config value or POLICY_DEFAULTS)."""
        v = self.param(knob)
        return v if v not in (None, "") else POLICY_DEFAULTS.get(knob, "False")

    def eval_policy(self, knob: str, slot_ad: C.ClassAd, job_ad: Optional[C.ClassAd]) -> bool:
        """Evaluate a policy knob with MY = the slot ad and TARGET = the job (manual,
        ep-policy-configuration.rst); UNDEFINED and ERROR count as False."""
        try:
            return _truthy(C.ExprTree(self.config_expr(knob)).eval(slot_ad, job_ad))
        except (SyntaxError, C.ClassAdException) as exc:
            self.dprintf(Category.ERROR, f"ERROR: cannot evaluate {knob}: {exc}")
            return False

    def _is_owner(self, slot: Slot) -> bool:
        return self.eval_policy("IS_OWNER", self.eval_ad(slot), None)

    # -- ads -------------------------------------------------------------------------
    def _template(self, kind: str) -> C.ClassAd:
        """The attributes of a ``kind`` slot's ad that change only with the configuration
        (machine attributes, versions, the START/RANK/Requirements expressions ...): built
        once per configuration, copied by :meth:`slot_ad`."""
        t = self._templates.get(kind)
        if t is not None:
            return t
        now = time.time()
        t = C.ClassAd()
        t["MyType"] = "Machine"
        t["TargetType"] = "Job"
        for k, v in machine_attributes(self.config, self.start_time, now).items():
            t[k] = v
        t.update({
            "TotalCpus": float(self.total.cpus), "TotalMemory": self.total.memory,
            "TotalDisk": self.total.disk, "MyAddress": self.sinful, "StartdIpAddr": self.sinful,
            "CondorVersion": VERSION_STRING, "CondorPlatform": PLATFORM_STRING,
            "DaemonStartTime": self.start_time, "CondorLoadAvg": 0.0, "TotalCondorLoadAvg": 0.0,
        })
        t["MachineMaxVacateTime"] = C.ExprTree(self.param("MachineMaxVacateTime") or "10 * 60")
        t["Start"] = C.ExprTree(self.config_expr("START"))
        t["Rank"] = C.ExprTree(self.config_expr("RANK"))
        if kind == "Partitionable":
            t["PartitionableSlot"] = True
            t["WithinResourceLimits"] = C.ExprTree(
                "(ifThenElse(TARGET.RequestCpus =!= undefined, MY.Cpus >= TARGET.RequestCpus, MY.Cpus > 0)"
                " && ifThenElse(TARGET.RequestMemory =!= undefined, MY.Memory >= TARGET.RequestMemory, MY.Memory > 0)"
                " && ifThenElse(TARGET.RequestDisk =!= undefined, MY.Disk >= TARGET.RequestDisk, MY.Disk > 0))")
            t["Requirements"] = C.ExprTree("START && WithinResourceLimits")
        else:
            t["Requirements"] = C.ExprTree("START")
        if kind == "Dynamic":
            t["DynamicSlot"] = True
        self._templates[kind] = t
        if self._startd_attrs is None:
            extra = []
            for name in (self.param("STARTD_ATTRS") or "").replace(",", " ").split() + \
                    (self.param("STARTD_EXPRS") or "").replace(",", " ").split():
                val = self.param(name)
                if val is not None:
                    try:
                        extra.append((name, C.ExprTree(val)))
                    except SyntaxError:
                        extra.append((name, val))
            self._startd_attrs = extra
            self._startd_job_attrs = (self.param("STARTD_JOB_ATTRS") or "").replace(",", " ").split()
            self._daemon_name = self.name
        return t

    def _load_average(self, now: float) -> float:
        """/proc/loadavg's 1-minute figure, read at most once a second."""
        if now - self._loadavg[0] >= 1.0:
            self._loadavg = (now, load_averages())
        return self._loadavg[1]

    def slot_name(self, slot: Slot) -> str:
        """The ad Name of ``slot``: ``slot1_2@host`` (``slot1@name@host`` with STARTD_NAME)."""
        if self._daemon_name is None:
            self._daemon_name = self.name
        return f"{slot.name}@{self._daemon_name}"

    def _slot_attrs(self, slot: Slot, now: float) -> dict:
        """The attributes of ``slot``'s ad that are not in its kind's :meth:`_template`:
        state, resources, claim, job, times (name -> Python value or ExprTree, in the order
        they override each other; STARTD_ATTRS / STARTD_EXPRS last)."""
        self._template(slot.kind)
        daemon_name = self._daemon_name
        r = slot.resources
        idle = int(now - self.start_time)
        out = {
            "KeyboardIdle": idle, "ConsoleIdle": idle, "TotalLoadAvg": self._load_average(now),
            "Name": f"{slot.name}@{daemon_name}", "SlotID": slot.slot_id,
            "SlotTypeID": -slot.type_id if slot.kind == "Dynamic" else slot.type_id,
            "SlotType": slot.kind, "State": slot.state, "Activity": slot.activity,
            "EnteredCurrentState": int(slot.entered_state),
            "EnteredCurrentActivity": int(slot.entered_activity),
            "Cpus": r.cpus, "Memory": r.memory, "Disk": r.disk,
            "TotalSlots": sum(1 + len(s.children) for s in self.slots),
            "TotalSlotCpus": slot.total.cpus if slot.total else r.cpus,
            "TotalSlotMemory": slot.total.memory if slot.total else r.memory,
            "TotalSlotDisk": slot.total.disk if slot.total else r.disk,
            "MyCurrentTime": int(now),
            "LoadAvg": 1.0 if slot.activity == "Busy" else 0.0,
            "UpdateSequenceNumber": self._update_seq,
            "ActivationCount": slot.claim.activations,
        }
        if slot.kind == "Partitionable":
            kids = slot.children
            out["NumDynamicSlots"] = len(kids)
            out["ChildName"] = [f"{k.name}@{daemon_name}" for k in kids]
            out["ChildCpus"] = [k.resources.cpus for k in kids]
            out["ChildMemory"] = [k.resources.memory for k in kids]
            out["ChildDisk"] = [k.resources.disk for k in kids]
            out["ChildState"] = [k.state for k in kids]
            out["ChildActivity"] = [k.activity for k in kids]
            out["ChildRemoteUser"] = [k.claim.job_ad.get("User", k.claim.job_ad.get("Owner", ""))
                                      if k.claim.job_ad is not None else "" for k in kids]
        if slot.kind == "Dynamic":
            out["ParentSlotName"] = f"{slot.parent.name}@{daemon_name}"
        if slot.state == "Claimed" and slot.claim.job_ad is not None:
            job = slot.claim.job_ad
            user = job.get("User") or job.get("Owner")
            if user:
                out["RemoteUser"] = user
                out["RemoteOwner"] = user
            if job.get("AccountingGroup"):
                out["AccountingGroup"] = job["AccountingGroup"]
            out["ClientMachine"] = (slot.claim.client_addr.strip("<>").split(":")[0]
                                    or self._template(slot.kind)["Machine"])
            out["RemoteScheddName"] = job.get("ScheddName", "") or ""
            out["CurrentRank"] = 0.0
            out["ClaimStartTime"] = int(slot.claim.claimed_at)
            act = slot.claim.activation_ad
            if act is not None and slot.claim.starter_pid is not None:
                if "ClusterId" in act and "ProcId" in act:
                    out["JobId"] = f"{act['ClusterId']}.{act['ProcId']}"
                if "GlobalJobId" in act:
                    out["GlobalJobId"] = act["GlobalJobId"]
                out["JobStart"] = int(slot.claim.activated_at)
                out["JobUniverse"] = act.get("JobUniverse", 5)
                out["StarterPid"] = slot.claim.starter_pid
                out.update(slot.claim.usage)
                # STARTD_JOB_ATTRS: job attributes copied into the slot ad (Resource.cpp)
                for name in self._startd_job_attrs:
                    if name in act:
                        out[name] = act.lookup(name)
        for name, value in self._startd_attrs:
            out.pop(name, None)
            out[name] = value
        return out

    def slot_ad(self, slot: Slot, now: Optional[float] = None) -> C.ClassAd:
        """The public ad of ``slot`` (HTCondor's attribute names; manual "Machine ClassAd
        Attributes"): a copy of the configuration's template for the slot's kind plus
        :meth:`_slot_attrs`.  The caller may modify it (see :meth:`eval_ad` otherwise)."""
        now = time.time() if now is None else now
        ad = C.ClassAd(self._template(slot.kind))
        ad.update(self._slot_attrs(slot, now))
        return ad

    def eval_ad(self, slot: Slot, now: Optional[float] = None) -> C.ClassAd:
        """:meth:`slot_ad` for evaluating policy expressions against (START, Requirements,
        SUSPEND ...): the same attributes and values, but one ClassAd kept per slot and
        brought up to date by setting only the attributes whose values changed since the
        last call (Resource.cpp keeps one r_classad per slot the same way).  The caller must
        not modify it, nor keep it across a later call for the same slot."""
        now = time.time() if now is None else now
        template = self._template(slot.kind)
        dyn = self._slot_attrs(slot, now)
        cached = slot.ad_cache
        if cached is None or cached[0] is not template:
            ad = C.ClassAd(template)
            ad.update(dyn)
            slot.ad_cache = (template, ad, dyn)
            return ad
        _, ad, last = cached
        for name, value in dyn.items():
            old = last.get(name, _MISSING)
            if old is value or (type(old) is type(value) and type(value) in _PLAIN and old == value):
                continue
            ad[name] = value
        for name in last:
            if name not in dyn:  # e.g. RemoteUser once the claim ended
                if name in template:
                    ad[name] = template.lookup(name)
                elif name in ad:
                    del ad[name]
        slot.ad_cache = (template, ad, dyn)
        return ad

    def slot_wire_ad(self, slot: Slot, now: Optional[float] = None) -> list:
        """:meth:`slot_ad` in wire form: ``(name, old-syntax expression text)`` pairs, as
        :func:`pyhtc.cedar.wire_ad.put_ad` sends them.  The template's texts are unparsed
        once per configuration, and the template's part not overridden by the slot's own
        attributes is computed once per set of those attribute names; of the slot's own
        attributes, literals are written directly (what collector updates and the starter's
        machine ad file carry)."""
        now = time.time() if now is None else now
        dyn = self._slot_attrs(slot, now)
        key = (slot.kind, tuple(dyn))
        base = self._wire_bases.get(key)
        if base is None:
            t = self._wire_templates.get(slot.kind)
            if t is None:
                t = self._wire_templates[slot.kind] = [
                    (n.lower(), n, e) for n, e in from_classad(self._template(slot.kind))]
            mine = {n.lower() for n in dyn}
            base = [(n, e) for low, n, e in t if low not in mine]
            if len(self._wire_bases) >= 256:
                self._wire_bases.clear()
            self._wire_bases[key] = base
        own = list(base)
        complex_values = None
        exprs = self._wire_exprs
        for name, value in dyn.items():
            text = _wire_literal(value)
            if text is None and type(value) is C.ExprTree:
                hit = exprs.get(id(value))  # STARTD_ATTRS expressions: one object per config
                if hit is not None and hit[0] is value:
                    text = hit[1]
                else:
                    text = dict(from_classad(C.ClassAd({name: value})))[name]
                    if len(exprs) >= 512:  # STARTD_JOB_ATTRS bring new objects per job
                        exprs.clear()
                    exprs[id(value)] = (value, text)
            if text is not None:
                own.append((name, text))
            else:
                if complex_values is None:
                    complex_values = {}
                complex_values[name] = value
        if complex_values:
            own.extend(from_classad(C.ClassAd(complex_values)))
        return own

    def private_ad(self, slot: Slot) -> C.ClassAd:
        """The private ad: Name, MyAddress and the ClaimId (collector's private table)."""
        return C.ClassAd(dict(self._private_values(slot)))

    def _private_values(self, slot: Slot) -> list:
        name = self.slot_name(slot)
        return [("MyType", "Machine"), ("Name", name), ("MyAddress", self.sinful),
                ("StartdIpAddr", self.sinful), ("ClaimId", slot.claim.id),
                ("Capability", slot.claim.id)]

    def private_wire_ad(self, slot: Slot) -> list:
        """:meth:`private_ad` in wire form (its values are all strings)."""
        return [(n, literal(v)) for n, v in self._private_values(slot)]

    # -- collector updates -------------------------------------------------------------
    def collectors(self) -> list[str]:
        """COLLECTOR_HOST as a list of ``host:port`` (empty if unset)."""
        hosts = self.param("COLLECTOR_HOST") or ""
        return [h.strip() for h in hosts.replace(" ", ",").split(",") if h.strip()]

    @staticmethod
    def _fingerprint(slot: Slot) -> tuple:
        """``(state part, churn part)`` of what a slot's ad shows that can change between
        two updates.  The state part: state, activity, the time the state was entered,
        resources, claim id, whether a starter runs, a partitionable slot's children (its
        ad is sent again when children come or go; their Child* lists are refreshed then
        and by the periodic update).  The churn part: what changes with every job on the
        same claim (activation count, starter pid, job ads, the time the activity was
        entered) and usage.  An ad whose fingerprint did not change since it was last sent
        is not sent again on a state change; one whose churn part alone changed is sent at
        most every :data:`CHURN_UPDATE_SECONDS`."""
        c, r = slot.claim, slot.resources
        state = (slot.state, slot.activity, slot.entered_state, r.cpus, r.memory, r.disk, c.id,
                 c.starter_pid is None)
        if slot.children:
            state += tuple((k.name, k.resources.cpus, k.resources.memory, k.resources.disk)
                           for k in slot.children)
        churn = (slot.entered_activity, c.activations, c.starter_pid, id(c.job_ad),
                 id(c.activation_ad), tuple(c.usage.items()))
        return state, churn

    def schedule_update(self) -> None:
        """Send the ads of the slots that changed soon (Resource::update: a state change
        updates the collector through a short timer, so several changes coalesce into
        one update and only the slots whose ads changed are sent)."""
        if not self._update_pending:
            self._update_pending = True
            self.dc.register_timer(UPDATE_COALESCE_SECONDS, self.send_changed_updates,
                                   name="update on state change")

    async def _send_churn_updates(self) -> None:
        self._churn_timer = None
        await self.send_updates(only_changed=True)

    async def send_changed_updates(self) -> None:
        """The timer of :meth:`schedule_update`: UPDATE_STARTD_AD for the changed slots."""
        await self.send_updates(only_changed=True)

    async def send_updates(self, only_changed: bool = False) -> None:
        """UPDATE_STARTD_AD to every collector: for each slot (every slot, or with
        ``only_changed`` the slots whose ads changed since they were last sent) the public
        ad then the private ad in one message, further slots on the same connection,
        DC_NOP to end."""
        self._update_pending = False
        if self.shutting_down:
            return  # the ads are invalidated at the end of the shutdown instead
        slots = self.all_slots()
        prints = {s.name: self._fingerprint(s) for s in slots}
        sent_at = time.monotonic()
        if only_changed:
            chosen, later = [], None
            for s in slots:
                fp, last = prints[s.name], self._sent.get(s.name)
                if last is None or last[0][0] != fp[0]:
                    chosen.append(s)          # a state change: now
                elif last[0][1] != fp[1]:     # the same state, another job or usage: later
                    due = last[1] + CHURN_UPDATE_SECONDS
                    if sent_at >= due:
                        chosen.append(s)
                    else:
                        later = due if later is None else min(later, due)
            if later is not None and self._churn_timer is None:
                self._churn_timer = self.dc.register_timer(
                    later - sent_at, self._send_churn_updates, name="update after job churn")
            slots = chosen
            if not slots:
                return
        self._update_seq += 1
        now = time.time()
        pairs = [(self.slot_wire_ad(s, now), self.private_wire_ad(s)) for s in slots]
        for addr in self.collectors():
            await self._send(addr, int(Command.UPDATE_STARTD_AD), pairs)
        if not only_changed:
            self._sent = {}
        for s in slots:
            self._sent[s.name] = (prints[s.name], sent_at)
        if self._first_update:
            self._first_update = False
            if self.parent_sinful:
                await self.send_ready("Ready")

    async def _send(self, addr: str, command: int, pairs) -> bool:
        """One connection to collector ``addr`` carrying ``pairs`` (public, private or None)
        as ``command`` messages.  The security session is kept and resumed by the next
        update (a collector that restarted no longer knows it: the update negotiates anew)."""
        from pyhtc.cedar.errors import SecurityError
        from pyhtc.cedar.transport_asyncio import open_command
        from pyhtc.client import parse_address
        try:
            host, port = parse_address(addr)
            policy = self._level_policy("CLIENT")
            try:
                stream = await open_command(host, port, command, policy, timeout=10,
                                            cache=self._collector_sessions)
            except SecurityError as exc:
                if "resume" not in str(exc):
                    raise
                stream = await open_command(host, port, command, policy, timeout=10,
                                            cache=self._collector_sessions)
            try:
                for i, (pub, pvt) in enumerate(pairs):
                    if i:
                        stream.put_int(command)
                    stream.put_ad(pub)
                    if pvt is not None:
                        stream.put_ad(pvt)
                    await stream.end_of_message()
                if command == Command.UPDATE_STARTD_AD:
                    stream.put_int(int(Command.DC_NOP))
                    await stream.end_of_message()
            finally:
                await stream.close()
        except Exception as exc:  # a collector being down must not stop the startd
            self.dprintf(Category.ALWAYS, f"Failed to send {len(pairs)} ad(s) to collector {addr}: {exc}")
            return False
        self.log.dprintf(Category.COMMAND, f"Sent {len(pairs)} ad(s) with command {command} to {addr}")
        return True

    def _invalidate_soon(self, name: str) -> None:
        """INVALIDATE_STARTD_ADS for a deleted dynamic slot's ad, with those of the other
        slots deleted in the same instant: one message on the next turn of the event loop
        (a schedd releasing its claims at once deletes many dynamic slots)."""
        if not self._to_invalidate:
            self.dc.loop.call_soon(self._flush_invalidations)
        self._to_invalidate.append(name)

    def _flush_invalidations(self) -> None:
        names, self._to_invalidate = self._to_invalidate, []
        if names:
            self.dc.spawn(self.invalidate(names), name="invalidate dslots")

    async def invalidate(self, names: list[str]) -> None:
        """INVALIDATE_STARTD_ADS for the named slot ads (dynamic slot deleted, shutdown)."""
        if not names:
            return
        q = WireAd()
        q.set("MyType", "Query")
        q.set("TargetType", "Machine")
        q.set_expr("Requirements", " || ".join(f'(Name == "{n}")' for n in names))
        for addr in self.collectors():
            await self._send(addr, int(Command.INVALIDATE_STARTD_ADS), [(q, None)])

    # -- claim protocol ------------------------------------------------------------------
    async def cmd_request_claim(self, stream) -> None:
        """REQUEST_CLAIM (command.cpp command_request_claim / request_claim)."""
        claim_id = await stream.get_string()
        wire = await stream.get_ad()
        schedd_addr = await stream.get_string()
        alive = await stream.get_int()
        if not await stream.peek_end_of_message():
            n = await stream.get_int()
            for _ in range(max(0, n)):
                await stream.get_string()
        await stream.end_of_message()
        req = to_classad(wire)
        flags = {}
        for k in ("_condor_SEND_CLAIMED_AD", "_condor_SEND_LEFTOVERS", "_condor_SECURE_CLAIM_ID",
                  "_condor_CLAIM_PARTITIONABLE_SLOT"):
            if k in req:
                flags[k] = _truthy(req.get(k))
                del req[k]
        num_dslots = req.get("_condor_NUM_DYNAMIC_SLOTS", 1)
        for k in [k for k in req.keys() if k.lower().startswith("_condor_")]:
            del req[k]

        async def refuse(why: str) -> None:
            self.dprintf(Category.ALWAYS, f"Refusing REQUEST_CLAIM from {schedd_addr}: {why}")
            stream.put_int(P.NOT_OK)
            await stream.end_of_message()

        slot = self.slot_by_claim(claim_id)
        if slot is None:
            return await refuse("can't find resource with that ClaimId")
        if flags.get("_condor_CLAIM_PARTITIONABLE_SLOT") or num_dslots not in (0, 1):
            # whole-pslot claims and several dslots per request are not implemented
            return await refuse("claiming the partitionable slot itself or more than one "
                                "dynamic slot per request is not supported")
        if self.shutting_down:
            return await refuse("startd is shutting down")
        if slot.state not in ("Unclaimed", "Owner") or slot.kind == "Dynamic":
            return await refuse(f"{slot.name} is in state {slot.state}")
        ad = self.eval_ad(slot)
        if not _truthy(ad.lookup("Requirements").eval(ad, req)):
            return await refuse(f"{slot.name}: Requirements (START) not satisfied by the request")
        if slot.kind == "Partitionable":
            try:
                claimed = self._carve(slot, req, ad, claim_id)
            except ValueError as exc:
                return await refuse(f"{slot.name}: {exc}")
        else:
            claimed = slot
        claim = claimed.claim
        claim.job_ad, claim.client_addr, claim.alive_interval = req, schedd_addr, alive
        claim.claimed_at = time.time()
        claimed.set_state("Claimed", "Idle")
        self.dprintf(Category.ALWAYS, f"{claimed.name}: State change: claiming protocol successful "
                     f"(claim {claim.public_id}, schedd {schedd_addr})")
        now = time.time()
        if flags.get("_condor_SEND_CLAIMED_AD"):
            stream.put_int(P.REQUEST_CLAIM_SLOT_AD)
            stream.put_string(claim.id)
            stream.put_ad(self.slot_wire_ad(claimed, now))
        if slot.kind == "Partitionable" and flags.get("_condor_SEND_LEFTOVERS"):
            secure = flags.get("_condor_SECURE_CLAIM_ID", False)
            stream.put_int(P.REQUEST_CLAIM_LEFTOVERS_2 if secure else P.REQUEST_CLAIM_LEFTOVERS)
            left = self.slot_wire_ad(slot, now)
            name = self.slot_name(slot)
            left.append(("LastSlotName", literal(f"{claimed.name}@{name.split('@', 1)[1]}")))
            stream.put_string(slot.claim.id)
            stream.put_ad(left)
        else:
            stream.put_int(P.OK)
        await stream.end_of_message()
        self.schedule_update()

    def _carve(self, pslot: Slot, req: C.ClassAd, pslot_ad: C.ClassAd, claim_id: str) -> Slot:
        """Make a dynamic slot for ``req`` out of ``pslot`` (slot_builder / Resource.cpp
        create_dslots); the claim id moves to it and the pslot gets a fresh one.
        Raises ValueError when the request does not fit."""
        want = {}
        for res, attr, default in (("cpus", "RequestCpus", 1), ("memory", "RequestMemory", 128),
                                   ("disk", "RequestDisk", 1024)):
            job = C.ClassAd(req)
            if attr not in job:
                job[attr] = default
            try:
                v = C.ExprTree(self.config_expr(f"MODIFY_REQUEST_EXPR_{attr.upper()}")).eval(job, pslot_ad)
            except (SyntaxError, C.ClassAdException):
                v = None
            if not isinstance(v, (int, float)) or isinstance(v, bool):
                v = job.eval(attr)
            if not isinstance(v, (int, float)) or isinstance(v, bool) or v < 0:
                raise ValueError(f"{attr} does not evaluate to a non-negative number")
            want[res] = int(-(-v // 1))
        want["cpus"] = max(1, want["cpus"])
        have = pslot.resources
        for res in ("cpus", "memory", "disk"):
            if want[res] > getattr(have, res):
                raise ValueError(f"request for {want[res]} {res} exceeds the {getattr(have, res)} left")
        size = Resources(want["cpus"], want["memory"], want["disk"])
        have.cpus -= size.cpus
        have.memory -= size.memory
        have.disk -= size.disk
        dslot = Slot(pslot.slot_id, pslot.type_id, "Dynamic", size, pslot.claim,
                     sub_id=pslot.next_child, parent=pslot,
                     total=Resources(size.cpus, size.memory, size.disk))
        dslot.claim.id = claim_id
        pslot.next_child += 1
        pslot.children.append(dslot)
        pslot.claim = self._new_claim()
        self.dprintf(Category.ALWAYS, f"New dynamic slot {dslot.name}: Cpus={size.cpus} "
                     f"Memory={size.memory} Disk={size.disk}")
        return dslot

    async def _refuse_activation(self, stream, send_ad: bool, code: int, reason: str,
                                 try_again: bool = False) -> None:
        self.dprintf(Category.ALWAYS, f"activate_claim refused: {reason}")
        stream.put_int(P.CONDOR_TRY_AGAIN if try_again else P.NOT_OK)
        if send_ad:
            stream.put_ad(from_classad(C.ClassAd({"VacateReason": reason, "VacateReasonCode": code})))
        await stream.end_of_message()

    async def cmd_activate_claim(self, stream) -> None:
        """ACTIVATE_CLAIM (command.cpp command_activate_claim / activate_claim)."""
        claim_id = await stream.get_string()
        await stream.get_int()  # formerly the starter version; ignored as in HTCondor
        job_wire = await stream.get_ad()
        await stream.end_of_message()
        job = to_classad(job_wire)
        send_ad = False
        if "_condor_send_activation_failure_ad" in job:
            send_ad = _truthy(job.get("_condor_send_activation_failure_ad"))
            del job["_condor_send_activation_failure_ad"]
            job_wire.delete("_condor_send_activation_failure_ad")
        slot = self.slot_by_claim(claim_id)
        if slot is None:
            return await self._refuse_activation(stream, send_ad, P.ACTIVATION_REFUSED_UNCLAIMED,
                                                 "ClaimId not found")
        if self.shutting_down:
            return await self._refuse_activation(stream, send_ad, P.ACTIVATION_REFUSED_UNCLAIMED,
                                                 "STARTD is shutting down")
        if slot.state != "Claimed":
            return await self._refuse_activation(stream, send_ad, P.ACTIVATION_REFUSED_UNCLAIMED, "Not claimed")
        claim = slot.claim
        if claim.starter_pid is not None and claim.deactivating:
            return await self._refuse_activation(stream, send_ad, P.ACTIVATION_REFUSED_STILL_CLEANING,
                                                 "starter is still alive", try_again=True)
        if slot.activity != "Idle":
            return await self._refuse_activation(stream, send_ad, P.ACTIVATION_REFUSED_NOT_IDLE,
                                                 "Slot is not idle")
        if claim.activations and self._worklife_expired(claim):
            return await self._refuse_activation(stream, send_ad, P.ACTIVATION_REFUSED_WORKLIFE_EXPIRED,
                                                 "Claim worklife expired")
        ad = self.eval_ad(slot)
        if "JobUniverse" not in job:
            return await self._refuse_activation(stream, send_ad, P.ACTIVATION_REFUSED_NO_MATCH,
                                                 "No JobUniverse in Job ClassAd")
        if not _truthy(ad.lookup("Requirements").eval(ad, job)):
            return await self._refuse_activation(stream, send_ad, P.ACTIVATION_REFUSED_NO_MATCH,
                                                 "Slot does not match job")
        try:
            pid = await self._spawn_starter(slot, job, job_wire)
        except OSError as exc:
            return await self._refuse_activation(stream, send_ad, P.ACTIVATION_REFUSED_BAD_REQUEST,
                                                 f"Failed to spawn starter: {exc}")
        stream.put_int(P.OK)
        await stream.end_of_message()
        self.dprintf(Category.ALWAYS, f"{slot.name}: State change: claim-activation protocol "
                     f"successful, Starter {pid}")

    def _starter_env(self) -> dict:
        """The starter's environment: ours without _CONDOR_STARTER_* overrides, plus the
        _CONDOR_* knobs and CONDOR_CONFIG the startd was given (computed once: neither
        changes while the startd runs)."""
        env = getattr(self, "_starter_env_cache", None)
        if env is None:
            env = {k: v for k, v in os.environ.items() if not k.startswith("_CONDOR_STARTER_")}
            env.update({k: v for k, v in self.environ.items()
                        if k.startswith("_CONDOR_") or k == "CONDOR_CONFIG"})
            self._starter_env_cache = env
        return env

    def _worklife_expired(self, claim: Claim) -> bool:
        worklife = self.param_integer("CLAIM_WORKLIFE", 1200)
        return worklife >= 0 and time.time() - claim.claimed_at > worklife

    async def _spawn_starter(self, slot: Slot, job: C.ClassAd, job_wire: WireAd) -> int:
        """Write the job ad (as it came on the wire) and the slot ad for the starter, start
        it and mark the slot Claimed/Busy; returns the starter's pid.  Raises OSError.

        The slot is Busy from the moment the request goes to the starter fork server (a
        second ACTIVATE_CLAIM meanwhile is refused as for a running starter); the pid is
        recorded on the claim as soon as the fork server names it, before that starter's
        exit can be reported (:class:`.forkserver.AsyncZygote`)."""
        n = next(self._seq)
        job_file = os.path.join(self.execute, f".{slot.name}.{n}.job.ad")
        machine_file = os.path.join(self.execute, f".{slot.name}.{n}.machine.ad")
        # fresh names the starter reads only once it is started: no need for a rename
        write_ad_file(job_file, job_wire, atomic=False)
        write_ad_file(machine_file, self.slot_wire_ad(slot), atomic=False)
        args = [sys.executable, "-m", "pyhtc.daemons.starter.main", "-f", "-a", slot.name,
                "-job-ad", job_file, "-machine-ad", machine_file, "-execute", self.execute]
        env = self._starter_env()
        claim = slot.claim
        prev_state, prev_activity = slot.state, slot.activity
        slot.set_state("Claimed", "Busy")

        def started(pid: int) -> None:
            self._starter_started(slot, claim, job, pid)

        pid = None
        if self.zygote is not None:
            try:
                pid = await self.zygote.spawn(args[2], args[3:], self.reaper, env=env,
                                              new_session=True, devnull_stdin=True,
                                              on_pid=started)
            except OSError as exc:
                self.dprintf(Category.ALWAYS, f"Starter fork server failed ({exc}); "
                                              "starting condor_starter directly")
        if pid is None:
            try:
                if self.shutting_down:
                    raise OSError("the startd is shutting down")
                pid = self.dc.create_process(args, self.reaper, env=dict(env), new_session=True,
                                             stdin=subprocess.DEVNULL, stdout=None, stderr=None)
            except OSError:
                if slot.claim is claim and claim.starter_pid is None:
                    slot.set_state(prev_state, prev_activity)
                raise
            started(pid)
        return pid

    def _starter_started(self, slot: Slot, claim: Claim, job: C.ClassAd, pid: int) -> None:
        """Record starter ``pid`` on ``claim``.  A claim that ended while the starter was
        being forked (RELEASE_CLAIM, shutdown) gets its starter told to stop at once."""
        claim.starter_pid, claim.activation_ad, claim.activated_at = pid, job, time.time()
        claim.activations += 1
        claim.deactivating = ""
        claim.usage = {}
        gone = slot.parent is not None and slot not in slot.parent.children  # dslot deleted
        if gone or slot.claim is not claim or slot.state != "Claimed":
            self.dprintf(Category.ALWAYS, f"{slot.name}: the claim ended while starter {pid} "
                                          "was started: killing it")
            self.dc.send_signal(pid, 3)
            return
        slot.set_state("Claimed", "Busy")
        self.schedule_update()
        if self.shutting_down:
            self.dc.send_signal(pid, 15 if self.shutting_down == "graceful" else 3)

    def _slot_by_starter(self, pid: int) -> Optional[Slot]:
        for s in self.all_slots():
            if s.claim.starter_pid == pid:
                return s
        return None

    def _starter_exited(self, pid: int, status: int) -> None:
        slot = self._slot_by_starter(pid)
        summary = _result_summary(os.path.join(self.execute, f"dir_{pid}.result.ad"))
        self.dprintf(Category.ALWAYS, f"Starter pid {pid} exited with status {status}"
                     + (f" ({summary})" if summary else ""))
        if slot is None:
            return
        claim = slot.claim
        claim.starter_pid = None
        claim.deactivating = ""
        if slot.state == "Preempting" or claim.closing:
            self.release_claim(slot, "claim closed")
        else:
            slot.set_state("Claimed", "Idle")
            self.schedule_update()

    def release_claim(self, slot: Slot, why: str, graceful: bool = False) -> None:
        """End the claim.  A running starter is first told to vacate (``graceful``:
        Preempting/Vacating, SIGTERM already sent by the caller; KILL may still escalate)
        or to kill the job (Preempting/Killing, SIGQUIT); once it is reaped the slot goes
        Unclaimed/Owner with a new claim id, or a dynamic slot is deleted."""
        if slot.claim.starter_pid is not None:
            slot.claim.closing = True
            if graceful:
                slot.set_state("Preempting", "Vacating")
            else:
                slot.set_state("Preempting", "Killing")
                self.dc.send_signal(slot.claim.starter_pid, 3)  # SIGQUIT: fast shutdown
            self.schedule_update()
            return
        self.dprintf(Category.ALWAYS, f"{slot.name}: releasing claim {slot.claim.public_id}: {why}")
        if slot.kind == "Dynamic":
            parent = slot.parent
            parent.children.remove(slot)
            parent.resources.cpus += slot.resources.cpus
            parent.resources.memory += slot.resources.memory
            parent.resources.disk += slot.resources.disk
            self._forget_claim(slot.claim)
            name = self.slot_name(slot)
            self._sent.pop(slot.name, None)
            self.dprintf(Category.ALWAYS, f"Deleting dynamic slot {slot.name}")
            self._invalidate_soon(name)
        else:
            self._forget_claim(slot.claim)
            slot.claim = self._new_claim()
            slot.set_state("Owner" if self._is_owner(slot) else "Unclaimed", "Idle")
        self.schedule_update()

    async def _read_claim_id(self, stream) -> tuple[str, Optional[Slot]]:
        claim_id = await stream.get_string()
        await stream.end_of_message()
        return claim_id, self.slot_by_claim(claim_id)

    async def cmd_deactivate_claim(self, stream) -> None:
        """DEACTIVATE_CLAIM / _FORCIBLY (command.cpp deactivate_claim)."""
        graceful = stream.command == P.DEACTIVATE_CLAIM
        _, slot = await self._read_claim_id(stream)
        if slot is None or slot.state != "Claimed":
            stream.put_ad(from_classad(C.ClassAd({"Start": False})))
            await stream.end_of_message()
            return
        claim = slot.claim
        closing = claim.closing or self._worklife_expired(claim)
        stream.put_ad(from_classad(C.ClassAd({"Start": not closing})))
        await stream.end_of_message()
        if claim.starter_pid is not None:
            claim.deactivating = "graceful" if graceful else "forcibly"
            self.dprintf(Category.ALWAYS, f"{slot.name}: Called deactivate_claim"
                         f"{'' if graceful else '_forcibly'}()")
            self.dc.send_signal(claim.starter_pid, 15 if graceful else 3)
        if closing:
            claim.closing = True
            self.release_claim(slot, "Claim deactivated", graceful=graceful)

    async def cmd_release_claim(self, stream) -> None:
        """RELEASE_CLAIM (command.cpp command_release_claim): no reply."""
        _, slot = await self._read_claim_id(stream)
        if slot is None or slot.state not in ("Claimed", "Matched"):
            self.dprintf(Category.ALWAYS, "Ignoring RELEASE_CLAIM for an unknown or unclaimed claim id")
            return
        self.dprintf(Category.ALWAYS, f"{slot.name}: State change: received RELEASE_CLAIM command")
        self.release_claim(slot, "Schedd released the claim")

    async def cmd_alive(self, stream) -> None:
        """ALIVE: the schedd still holds the claim (Resource::got_alive)."""
        _, slot = await self._read_claim_id(stream)
        if slot is not None and slot.state == "Claimed":
            slot.claim.usage["LastClaimAliveTime"] = int(time.time())

    # -- policy ----------------------------------------------------------------------------
    def evaluate_policy(self) -> None:
        """Every POLLING_INTERVAL (manual ep-policy-configuration.rst "The Policy
        Expressions"): Owner <-> Unclaimed by IS_OWNER; for a running job WANT_SUSPEND &&
        SUSPEND suspends, CONTINUE resumes, PREEMPT vacates (or holds with WANT_HOLD), KILL
        ends a vacate that takes too long."""
        changed = False
        for slot in self.all_slots():
            claim = slot.claim
            if claim.starter_pid is not None:
                upd = read_ad_file(os.path.join(self.execute, f"dir_{claim.starter_pid}.update.ad"))
                if upd is not None:
                    for k in ("RemoteUserCpu", "RemoteSysCpu", "ImageSize", "ResidentSetSize", "MemoryUsage"):
                        if k in upd:
                            claim.usage[k] = upd[k]
            if slot.state in ("Owner", "Unclaimed") and slot.kind != "Dynamic":
                want = "Owner" if self._is_owner(slot) else "Unclaimed"
                if want != slot.state:
                    changed |= slot.set_state(want, "Idle")
                continue
            if claim.starter_pid is None:
                continue
            ad = self.eval_ad(slot)
            job = claim.activation_ad
            if slot.state == "Claimed" and slot.activity == "Busy":
                if self.eval_policy("WANT_SUSPEND", ad, job) and self.eval_policy("SUSPEND", ad, job):
                    self.dprintf(Category.ALWAYS, f"{slot.name}: State change: SUSPEND is TRUE")
                    self.dc.send_signal(claim.starter_pid, 20)  # SIGTSTP
                    changed |= slot.set_state("Claimed", "Suspended")
                elif self.eval_policy("PREEMPT", ad, job):
                    changed |= self._preempt(slot, ad, job)
            elif slot.state == "Claimed" and slot.activity == "Suspended":
                if self.eval_policy("CONTINUE", ad, job):
                    self.dprintf(Category.ALWAYS, f"{slot.name}: State change: CONTINUE is TRUE")
                    self.dc.send_signal(claim.starter_pid, 18)  # SIGCONT
                    changed |= slot.set_state("Claimed", "Busy")
                elif self.eval_policy("PREEMPT", ad, job):
                    self.dc.send_signal(claim.starter_pid, 18)
                    changed |= self._preempt(slot, ad, job)
            elif slot.state == "Preempting" and slot.activity == "Vacating":
                if self.eval_policy("KILL", ad, job):
                    self.dprintf(Category.ALWAYS, f"{slot.name}: State change: KILL is TRUE")
                    self.dc.send_signal(claim.starter_pid, 3)
                    changed |= slot.set_state("Preempting", "Killing")
                elif time.time() - slot.entered_activity > self.vacate_time(ad, job):
                    self.dprintf(Category.ALWAYS, f"{slot.name}: max vacating time expired; killing the job")
                    self.dc.send_signal(claim.starter_pid, 3)
                    changed |= slot.set_state("Preempting", "Killing")
        if changed:
            self.schedule_update()

    def vacate_time(self, ad: C.ClassAd, job) -> float:
        """Seconds a vacating job gets: the slot's MachineMaxVacateTime, or the job's
        JobMaxVacateTime when smaller (Resource.cpp, claim.cpp beginActivation)."""
        def num(expr_owner, attr, target):
            try:
                v = expr_owner.lookup(attr).eval(expr_owner, target) if attr in expr_owner else None
            except (SyntaxError, C.ClassAdException):
                v = None
            return v if isinstance(v, (int, float)) and not isinstance(v, bool) else None
        machine = num(ad, "MachineMaxVacateTime", job)
        machine = 600 if machine is None else machine
        jobs = num(job, "JobMaxVacateTime", ad) if job is not None else None
        return min(machine, jobs) if jobs is not None else machine

    def _preempt(self, slot: Slot, ad: C.ClassAd, job) -> bool:
        claim = slot.claim
        claim.closing = True
        self.dprintf(Category.ALWAYS, f"{slot.name}: State change: PREEMPT is TRUE")
        if self.eval_policy("WANT_HOLD", ad, job):
            reason = self.param("WANT_HOLD_REASON")
            text = None
            if reason:
                try:
                    text = C.ExprTree(reason).eval(ad, job)
                except (SyntaxError, C.ClassAdException):
                    text = reason
            claim.hold_reason = text if isinstance(text, str) and text else \
                "The startd put the job on hold"
            hold = C.ClassAd({"HoldReason": claim.hold_reason, "HoldReasonCode": P.HOLD_STARTD_HELD_JOB,
                              "HoldReasonSubCode": 0})
            write_ad_file(os.path.join(self.execute, f"dir_{claim.starter_pid}.hold.ad"), hold)
            self.dprintf(Category.ALWAYS, f"{slot.name}: WANT_HOLD is TRUE: {claim.hold_reason}")
        if self.eval_policy("WANT_VACATE", ad, job):
            self.dc.send_signal(claim.starter_pid, 15)
            return slot.set_state("Preempting", "Vacating")
        self.dc.send_signal(claim.starter_pid, 3)
        return slot.set_state("Preempting", "Killing")

    # -- shutdown ----------------------------------------------------------------------------
    def _kill_starters(self, signum: int) -> bool:
        running = False
        for slot in self.all_slots():
            if slot.claim.starter_pid is not None:
                running = True
                self.dc.send_signal(slot.claim.starter_pid, signum)
        return running

    def main_shutdown_graceful(self) -> None:
        self._shutdown(15)

    def main_shutdown_fast(self) -> None:
        self._shutdown(3)

    def _shutdown(self, signum: int) -> None:
        self._kill_starters(signum)

        async def wait_starters(seconds: float) -> bool:
            deadline = time.time() + seconds
            while any(s.claim.starter_pid is not None for s in self.all_slots()):
                if time.time() > deadline:
                    return False
                await asyncio.sleep(0.05)
            return True

        async def finish():
            # a graceful shutdown gives vacating jobs 20 s, then kills them
            if not await wait_starters(20 if signum == 15 else 10) and signum == 15:
                self.dprintf(Category.ALWAYS, "Starters still running after 20 s: killing their jobs")
                self._kill_starters(3)
                await wait_starters(10)
            await self.invalidate([self.slot_name(s) for s in self.all_slots()])
            self.shutdown_done(0)
        self.dc.spawn(finish(), name="startd shutdown")


def main(argv=None) -> int:
    """Entry point of ``condor_startd`` (``_CONDOR_STARTD_PROFILE=<dir>`` profiles it: see
    :meth:`pyhtc.daemoncore.daemon.Daemon.main`)."""
    return Startd.main(argv)


if __name__ == "__main__":
    sys.exit(main())
