"""``condor_negotiator``: the negotiation cycle, the NEGOTIATE protocol with schedds, the
accountant's commands and the Negotiator/Accounting ads.

Follows src/condor_negotiator.V6/matchmaker.cpp and the manual's admin-manual/
cm-configuration.rst.  At startup and every ``NEGOTIATOR_INTERVAL`` seconds (default 60),
at once after a ``RESCHEDULE`` over TCP or UDP -- never sooner than
``NEGOTIATOR_MIN_INTERVAL`` (5) seconds after the previous cycle began nor
``NEGOTIATOR_CYCLE_DELAY`` (20) seconds after it ended (matchmaker.cpp ``negotiationTime``)
-- and when the pool changes (every
``NEGOTIATOR_CHANGE_POLL_INTERVAL`` seconds, a pyhtc knob, default 5, 0 = off, the
negotiator asks the collector for the slots' names and states and the submitters' idle
counts; a change with idle jobs and unclaimed slots starts a cycle) one cycle runs:

1. QUERY_STARTD_ADS, QUERY_STARTD_PVT_ADS (claim ids; needs NEGOTIATOR authorization at the
   collector) and QUERY_SUBMITTOR_ADS from ``COLLECTOR_HOST``, constrained by
   ``NEGOTIATOR_SLOT_CONSTRAINT`` and ``NEGOTIATOR_SUBMITTER_CONSTRAINT``;
2. the accountant ages priorities (PRIORITY_HALFLIFE) and recounts each customer's
   resources in use from the claimed slots (``AccountingGroup``, else ``RemoteUser``);
3. :func:`.matchmaker.negotiate_cycle` with one :class:`ScheddSession` per submitter,
   speaking the NEGOTIATE protocol described in :mod:`.protocol`; a claim id handed out is
   not offered again for ``NEGOTIATOR_RECENT_MATCH_LIFETIME`` seconds (a pyhtc knob,
   default 60), so short cycle delays cannot match one slot twice;
4. the Negotiator ad and the Accounting ads go to the collector (UPDATE_NEGOTIATOR_AD,
   UPDATE_ACCOUNTING_AD), also every ``NEGOTIATOR_UPDATE_INTERVAL`` seconds.

Commands (permission levels as matchmaker.cpp registers them): RESCHEDULE (DAEMON),
GET_PRIORITY / GET_PRIORITY_ROLLUP / GET_RESLIST / QUERY_ACCOUNTING_ADS /
QUERY_NEGOTIATOR_ADS (READ), SET_PRIORITYFACTOR (WRITE, then ADMINISTRATOR is checked and
the reply ad carries ErrorCode/ErrorString), SET_PRIORITY, SET_ACCUMUSAGE, SET_BEGINTIME,
SET_LASTTIME, SET_CEILING, SET_FLOOR, RESET_USAGE, RESET_ALL_USAGE, DELETE_USER
(ADMINISTRATOR).
"""
from __future__ import annotations

import asyncio
import os
import socket
import sys
import time
from typing import Optional

from pyhtc import classad as C
from pyhtc.cedar.commands import Command
from pyhtc.cedar.errors import CedarError
from pyhtc.cedar.wire_ad import from_classad, to_classad
from pyhtc.client import CollectorClient
from pyhtc.daemoncore.daemon import PLATFORM_STRING, VERSION_STRING, Daemon
from pyhtc.daemoncore.log import Category
from pyhtc.daemoncore.permissions import UNAUTHENTICATED

from .accountant import Accountant
from .matchmaker import (DEFAULT_POST_JOB_RANK, DEFAULT_PRE_JOB_RANK, SlotPool, SubmitterState,
                         negotiate_cycle, slot_key, slot_weight)
from .negotiate import GuardedSession, ScheddSession, ad_dict_to_wire
from .protocol import DEFAULT_RRL_SIZE, NegCommand as N

__all__ = ["Negotiator", "main"]

#: attributes every resource request must carry besides the slots' references
_BASE_SIG_ATTRS = ("RequestCpus", "RequestMemory", "RequestDisk", "Requirements", "Rank",
                   "ConcurrencyLimits", "NiceUser", "AccountingGroup")


class Negotiator(Daemon):
    """The negotiator daemon: an :class:`.accountant.Accountant` plus the cycle."""

    subsystem = "NEGOTIATOR"

    def main_init(self) -> None:
        spool = self.param("SPOOL") or self.param("LOCAL_DIR") or "."
        path = self.param("ACCOUNTANT_DATABASE_FILE") or os.path.join(spool, "Accountantnew.db")
        self.accountant = Accountant(path)
        self.dc.add_shutdown_hook(self.accountant.close)
        self.cycle_task: Optional[asyncio.Task] = None
        self.cycle_again = False
        self.cycle_pending: Optional[int] = None
        self.last_cycle_start = 0.0
        self.last_cycle_end = 0.0
        self.recent_claims: dict[str, float] = {}
        self.cycles = 0
        self.last_cycle: dict = {}
        self.resources: dict[str, list[tuple[str, int]]] = {}
        self.pool_fingerprint = None
        self._timers: list[int] = []
        reg = self.register_command
        reg(N.RESCHEDULE, "RESCHEDULE", self._cmd_reschedule, "DAEMON")
        reg(N.GET_PRIORITY, "GET_PRIORITY", self._cmd_get_priority, "READ")
        reg(N.GET_PRIORITY_ROLLUP, "GET_PRIORITY_ROLLUP", self._cmd_get_priority, "READ")
        reg(N.GET_RESLIST, "GET_RESLIST", self._cmd_get_reslist, "READ")
        reg(Command.QUERY_ACCOUNTING_ADS, "QUERY_ACCOUNTING_ADS", self._cmd_query("Accounting"), "READ")
        reg(Command.QUERY_NEGOTIATOR_ADS, "QUERY_NEGOTIATOR_ADS", self._cmd_query("Negotiator"), "READ")
        reg(N.SET_PRIORITYFACTOR, "SET_PRIORITYFACTOR", self._cmd_set_factor, "WRITE")
        for cmd, fn, kind in ((N.SET_PRIORITY, self.accountant.set_priority, "double"),
                              (N.SET_ACCUMUSAGE, self.accountant.set_accumulated_usage, "double"),
                              (N.SET_BEGINTIME, self.accountant.set_begin_time, "int"),
                              (N.SET_LASTTIME, self.accountant.set_last_time, "int"),
                              (N.SET_CEILING, self.accountant.set_ceiling, "int"),
                              (N.SET_FLOOR, self.accountant.set_floor, "int")):
            reg(cmd, cmd.name, self._cmd_user_value(cmd.name, fn, kind), "ADMINISTRATOR")
        reg(N.RESET_USAGE, "RESET_USAGE", self._cmd_user(self.accountant.reset_usage), "ADMINISTRATOR")
        reg(N.DELETE_USER, "DELETE_USER", self._cmd_user(self.accountant.delete), "ADMINISTRATOR")
        reg(N.RESET_ALL_USAGE, "RESET_ALL_USAGE", self._cmd_reset_all, "ADMINISTRATOR")
        self.main_config()

    def main_config(self) -> None:
        a = self.accountant
        a.configure(half_life=self._param_float("PRIORITY_HALFLIFE", 86400.0),
                    default_factor=self._param_float("DEFAULT_PRIO_FACTOR", 1000.0),
                    nice_factor=self._param_float("NICE_USER_PRIO_FACTOR", 1e10),
                    remote_factor=self._param_float("REMOTE_PRIO_FACTOR", 1e7),
                    local_domain=self.param("ACCOUNTANT_LOCAL_DOMAIN"))
        for tid in self._timers:
            self.dc.cancel_timer(tid)
        self.interval = self.param_integer("NEGOTIATOR_INTERVAL", 60, min_value=1)
        self.min_interval = self._param_float("NEGOTIATOR_MIN_INTERVAL", 5.0)
        self.timeout = self.param_integer("NEGOTIATOR_TIMEOUT", 30, min_value=1)
        self.rrl_size = self.param_integer("NEGOTIATOR_RESOURCE_REQUEST_LIST_SIZE", DEFAULT_RRL_SIZE, min_value=1)
        pre = self.param("NEGOTIATOR_PRE_JOB_RANK")
        post = self.param("NEGOTIATOR_POST_JOB_RANK")
        self.pre_job_rank = DEFAULT_PRE_JOB_RANK if pre is None else pre
        self.post_job_rank = DEFAULT_POST_JOB_RANK if post is None else post
        update = self.param_integer("NEGOTIATOR_UPDATE_INTERVAL", 300, min_value=1)
        poll = self._param_float("NEGOTIATOR_CHANGE_POLL_INTERVAL", 5.0)
        self.cycle_delay = self._param_float("NEGOTIATOR_CYCLE_DELAY", 20.0)
        self.match_memory = self._param_float("NEGOTIATOR_RECENT_MATCH_LIFETIME", 60.0)
        self._timers = [
            self.dc.register_timer(0, self.request_cycle, period=self.interval, name="Time to negotiate"),
            self.dc.register_timer(0, self._advertise_soon, period=update, name="update collector"),
        ]
        if poll > 0:
            self._timers.append(self.dc.register_timer(poll, self._poll_changes, period=poll,
                                                       name="poll pool changes"))

    def main_shutdown_graceful(self) -> None:
        self.dc.spawn(self._invalidate_and_exit(), name="invalidate negotiator ad")

    async def _invalidate_and_exit(self) -> None:
        if self.param("COLLECTOR_HOST"):
            q = C.ClassAd({"MyType": "Query", "TargetType": "Negotiator"})
            q["Requirements"] = C.ExprTree(f'Name == "{self.name}"')
            try:
                await self._collector_call(lambda cc: cc.advertise([q], Command.INVALIDATE_NEGOTIATOR_ADS))
            except Exception as exc:
                self.dprintf(Category.ALWAYS, f"Could not invalidate the negotiator ad: {exc}")
        self.shutdown_done()

    def _param_float(self, name: str, default: float) -> float:
        v = self.param(name)
        if v is None or not v.strip():
            return default
        try:
            return float(v)
        except ValueError:
            self.dprintf(Category.ALWAYS, f"ERROR: {name} = {v!r} is not a number; using {default}")
            return default

    # -- scheduling cycles ---------------------------------------------------------------
    def request_cycle(self) -> None:
        """Start a negotiation cycle as soon as allowed (NEGOTIATOR_MIN_INTERVAL after the
        last one began); one that arrives during a cycle runs right after it."""
        if self.cycle_task is not None and not self.cycle_task.done():
            self.cycle_again = True
            return
        if self.cycle_pending is not None:
            return
        now = time.time()
        wait = max(0.0, self.last_cycle_start + self.min_interval - now,
                   (self.last_cycle_end + self.cycle_delay - now) if self.last_cycle_end else 0.0)
        self.cycle_pending = self.dc.register_timer(wait, self._start_cycle, name="negotiate now")

    def _start_cycle(self) -> None:
        self.cycle_pending = None
        self.cycle_task = self.dc.spawn(self._run_cycle(), name="negotiation cycle")

    async def _run_cycle(self) -> None:
        self.last_cycle_start = time.time()
        try:
            await self.negotiation_cycle()
        except Exception as exc:
            self.dprintf(Category.ERROR, f"ERROR: negotiation cycle failed: {type(exc).__name__}: {exc}")
        finally:
            self.last_cycle_end = time.time()
            if self.cycle_again:
                self.cycle_again = False
                self.request_cycle()

    async def _collector_call(self, fn):
        cc = CollectorClient(None, self.config)
        return await self.dc.run_in_thread(fn, cc)

    async def negotiation_cycle(self) -> dict:
        """Run one cycle; returns its statistics (matches, rejections, submitters, slots)."""
        if not self.param("COLLECTOR_HOST"):
            self.dprintf(Category.ALWAYS, "No COLLECTOR_HOST: nothing to negotiate")
            return {}
        start = time.time()
        self.cycles += 1
        self.dprintf(Category.ALWAYS, "---------- Started Negotiation Cycle ----------")
        self.dprintf(Category.ALWAYS, "Phase 1:  Obtaining ads from collector ...")
        slot_constraint = self.param("NEGOTIATOR_SLOT_CONSTRAINT") or None
        sub_constraint = self.param("NEGOTIATOR_SUBMITTER_CONSTRAINT") or None
        slots, private, submitters = await self._collector_call(lambda cc: (
            cc.query("Startd", slot_constraint), cc.query("StartdPrivate", slot_constraint),
            cc.query("Submitter", sub_constraint)))
        # a claim id handed out recently is not offered again until the startd has had
        # time to report the claim (NEGOTIATOR_RECENT_MATCH_LIFETIME), so a short
        # NEGOTIATOR_CYCLE_DELAY cannot match one slot twice
        now = time.time()
        self.recent_claims = {c: t for c, t in self.recent_claims.items() if now - t < self.match_memory}
        claim_ids: dict[str, list[str]] = {}
        for p in private:
            cid = p.get("ClaimId") or p.get("Capability")
            ids = [cid] if cid else str(p.get("ClaimIdList") or "").split()
            ids = [i for i in ids if i not in self.recent_claims]
            if ids:
                claim_ids[slot_key(p)] = ids
        self.dprintf(Category.ALWAYS, f"  Getting startd private ads ... {len(private)} private ads")
        self.dprintf(Category.ALWAYS, f"Got ads: {len(slots)} startd, {len(submitters)} submitter")

        # Phase 2: the accountant
        now = time.time()
        self.accountant.update_priorities(now)
        in_use: dict[str, list] = {}
        resources: dict[str, list[tuple[str, int]]] = {}
        for s in slots:
            if str(s.get("State", "")) not in ("Claimed", "Preempting"):
                continue
            who = s.get("AccountingGroup") or s.get("RemoteUser")
            if not isinstance(who, str) or not who:
                continue
            rec = in_use.setdefault(who, [0, 0.0])
            rec[0] += 1
            rec[1] += slot_weight(s)
            resources.setdefault(who, []).append(
                (f"{s.get('Name', '')}@{s.get('StartdIpAddr') or s.get('MyAddress') or ''}",
                 int(s.get("ClaimStartTime", 0) or 0)))
        self.accountant.set_usage({k: (v[0], v[1]) for k, v in in_use.items()})
        self.resources = resources

        states = []
        for ad in submitters:
            name = ad.get("Name")
            if not isinstance(name, str) or not name:
                continue
            idle = ad.get("IdleJobs", 0)
            c = self.accountant.get(name)
            states.append(SubmitterState(
                name, self.accountant.effective_priority(name),
                usage=self.accountant.weighted_in_use(name),
                idle_jobs=idle if isinstance(idle, int) and idle > 0 else 0,
                ceiling=c.ceiling if c else -1, ad=ad))
        pool = SlotPool(slots, claim_ids, self.pre_job_rank, self.post_job_rank)
        sig_attrs = self._significant_attrs(slots)
        policy = self._level_policy("CLIENT")
        rejections = [0]

        def log(msg: str) -> None:
            if "Rejected" in msg:
                rejections[0] += 1
            self.dprintf(Category.ALWAYS, msg)

        async def open_session(sub: SubmitterState):
            ad = sub.ad
            addr = ad.get("ScheddIpAddr") or ad.get("MyAddress")
            if not isinstance(addr, str) or not addr:
                log(f"  Submitter {sub.name} has no ScheddIpAddr: skipped")
                return None
            neg_ad = {"Owner": ad.get("OriginalName") or sub.name,
                      "SubmitterTag": ad.get("SubmitterTag") or "",
                      "AutoClusterAttrs": sig_attrs, "MatchClaimedPSlots": True,
                      "MatchCaps": "MatchDiag3", "NegotiatorName": self.name}
            try:
                inner = await ScheddSession.open(addr, policy, sub.name, neg_ad, self.rrl_size,
                                                 self.timeout, log)
            except (CedarError, OSError, asyncio.TimeoutError) as exc:
                log(f"    Failed to send NEGOTIATE command to {sub.name} ({addr}): {exc}")
                return None
            return GuardedSession(inner, f"{sub.name} ({addr})", log)

        match_count = [0]

        def on_match(sub: SubmitterState, offer: C.ClassAd, cost: float, claim: str = "") -> None:
            match_count[0] += 1
            if claim:
                self.recent_claims[claim] = time.time()
            self.accountant.add_match(sub.name, cost)

        self.dprintf(Category.ALWAYS, f"Phase 4.1:  Negotiating with schedds ... "
                                      f"{len(pool)} slot(s) to offer, pool weight {pool.pool_weight:g}")
        offered = len(pool)
        served = await negotiate_cycle(pool, states, open_session, on_match, log)
        end = time.time()
        stats = {
            "LastNegotiationCycleTime0": int(start),
            "LastNegotiationCycleEnd0": int(end),
            "LastNegotiationCycleDuration0": int(end - start),
            "LastNegotiationCycleMatches0": match_count[0],
            "LastNegotiationCycleRejections0": rejections[0],
            "LastNegotiationCycleActiveSubmitterCount0": len(served),
            "LastNegotiationCycleTotalSlots0": len(slots),
            "LastNegotiationCycleTrimmedSlots0": pool.trimmed,
            "LastNegotiationCycleCandidateSlots0": offered,
        }
        self.last_cycle = stats
        self.dprintf(Category.ALWAYS, f"---------- Finished Negotiation Cycle ---------- "
                                      f"{match_count[0]} match(es)")
        await self.advertise()
        return stats

    def _significant_attrs(self, slots) -> str:
        """Job attributes the slots refer to (matchmaker.cpp ``compute_significant_attrs``),
        sent as AutoClusterAttrs so the schedd groups jobs the same way."""
        names = {a.lower(): a for a in _BASE_SIG_ATTRS}
        for s in slots[:200]:
            for attr in ("Requirements", "Rank", "START"):
                if attr not in s:
                    continue
                try:
                    refs = s.externalRefs(s.lookup(attr))
                except Exception:
                    continue
                for r in refs:
                    r = r.split(".", 1)[1] if r.lower().startswith("target.") else r
                    if "." not in r and r.lower() not in names:
                        names[r.lower()] = r
        return ",".join(sorted(names.values(), key=str.lower))

    # -- pool change detection ---------------------------------------------------------
    def _poll_changes(self):
        if (self.cycle_task is not None and not self.cycle_task.done()) or self.cycle_pending is not None:
            return None
        if not self.param("COLLECTOR_HOST"):
            return None
        return self._poll_once()

    async def _poll_once(self) -> None:
        try:
            slots, subs = await self._collector_call(lambda cc: (
                cc.query("Startd", projection=["Name", "State", "MyAddress"]),
                cc.query("Submitter", projection=["Name", "IdleJobs", "ScheddName"])))
        except Exception as exc:
            self.log.dprintf(Category.NETWORK, f"pool poll failed: {exc}")
            return
        fp = (tuple(sorted((str(s.get("Name")), str(s.get("State"))) for s in slots)),
              tuple(sorted((str(s.get("Name")), str(s.get("ScheddName")), s.get("IdleJobs")) for s in subs)))
        changed = fp != self.pool_fingerprint
        self.pool_fingerprint = fp
        idle = any(isinstance(s.get("IdleJobs"), int) and s.get("IdleJobs") > 0 for s in subs)
        free = any(s.get("State") == "Unclaimed" for s in slots)
        if changed and idle and free:
            self.dprintf(Category.ALWAYS, "Pool changed (slots or idle jobs): negotiating now")
            self.request_cycle()

    # -- ads -----------------------------------------------------------------------------
    def negotiator_ad(self) -> C.ClassAd:
        """The Negotiator ad (matchmaker.cpp ``init_public_ad`` + cycle statistics)."""
        host = self.param("FULL_HOSTNAME") or socket.getfqdn()
        ad = C.ClassAd({
            "MyType": "Negotiator", "TargetType": "", "Name": self.name, "Machine": host,
            "NegotiatorIpAddr": self.sinful, "MyAddress": self.sinful, "AddressV1": self.sinful,
            "CondorVersion": VERSION_STRING, "CondorPlatform": PLATFORM_STRING,
            "DaemonStartTime": self.start_time, "MyCurrentTime": int(time.time()),
            "UpdateInterval": self.param_integer("NEGOTIATOR_UPDATE_INTERVAL", 300),
            "NegotiatorInterval": self.interval, "NumNegotiationCycles": self.cycles,
        })
        for k, v in self.last_cycle.items():
            ad[k] = v
        self.publish_daemon_stats(ad)
        return ad

    def _advertise_soon(self):
        if self.param("COLLECTOR_HOST"):
            return self.advertise()
        return None

    async def advertise(self) -> None:
        """UPDATE_NEGOTIATOR_AD and one UPDATE_ACCOUNTING_AD per customer (not <none>)."""
        if not self.param("COLLECTOR_HOST"):
            return
        neg = self.negotiator_ad()
        acct = [C.ClassAd({"MyType": "Accounting", "TargetType": "", **d})
                for d in self.accountant.accounting_ads(self.name) if not d["IsAccountingGroup"]]
        try:
            await self._collector_call(lambda cc: (
                cc.advertise([neg], Command.UPDATE_NEGOTIATOR_AD),
                cc.advertise(acct, Command.UPDATE_ACCOUNTING_AD) if acct else None))
        except Exception as exc:
            self.dprintf(Category.ALWAYS, f"Failed to update the collector: {type(exc).__name__}: {exc}")

    # -- command handlers ----------------------------------------------------------------
    async def _cmd_reschedule(self, stream) -> None:
        if stream.transport == "tcp":
            await stream.end_of_message()
        self.dprintf(Category.ALWAYS, f"Got RESCHEDULE from {stream.peer.address}")
        self.request_cycle()

    async def _cmd_get_priority(self, stream) -> None:
        await stream.end_of_message()
        self.accountant.update_priorities()
        stream.put_ad(ad_dict_to_wire(self.accountant.report_state()), types=False)
        await stream.end_of_message()

    async def _cmd_get_reslist(self, stream) -> None:
        user = await stream.get_string()
        await stream.end_of_message()
        ad = {}
        for i, (name, started) in enumerate(self.resources.get(user, []), 1):
            ad[f"Name{i}"] = name
            ad[f"StartTime{i}"] = started
        stream.put_ad(ad_dict_to_wire(ad), types=False)
        await stream.end_of_message()

    def _cmd_query(self, kind: str):
        async def handler(stream) -> None:
            query = to_classad(await stream.get_ad())
            await stream.end_of_message()
            if kind == "Negotiator":
                ads = [self.negotiator_ad()]
            else:
                self.accountant.update_priorities()
                ads = [C.ClassAd({"MyType": "Accounting", "TargetType": "", **d})
                       for d in self.accountant.accounting_ads(self.name)]
            req = query.lookup("Requirements") if "Requirements" in query else None
            proj = str(query.get("Projection") or "").replace(",", " ").split()
            for ad in ads:
                if req is not None:
                    try:
                        ok = req.eval(ad, query) is True
                    except Exception:
                        ok = False
                    if not ok:
                        continue
                wire = from_classad(ad)
                stream.put_int(1)
                stream.put_ad(wire, include_private=False, whitelist=proj or None)
            stream.put_int(0)
            await stream.end_of_message()
        return handler

    async def _cmd_set_factor(self, stream) -> None:
        user = await stream.get_string()
        factor = await stream.get_double()
        await stream.end_of_message()
        peer = stream.peer
        ip = (peer.address or "").rsplit(":", 1)[0].strip("[]<>")
        allowed = self.authorizer.verify("ADMINISTRATOR", peer.user or UNAUTHENTICATED, ip).allowed
        reply = {"ErrorCode": 0}
        if not allowed:
            reply = {"ErrorCode": 4, "ErrorString": f"Client {peer.user or UNAUTHENTICATED} requested to "
                     f"set the priority factor of {user} but is not authorized."}
            self.dprintf(Category.ALWAYS, f"Failed to set priority factor: {reply['ErrorString']}")
        else:
            f = self.accountant.set_priority_factor(user, factor)
            self.dprintf(Category.ALWAYS, f"Setting the priority factor of {user} to {f:f}")
        try:
            stream.put_ad(ad_dict_to_wire(reply))
            await stream.end_of_message()
        except (OSError, CedarError):
            pass  # htcondor2's setFactor does not read the reply

    def _cmd_user_value(self, what: str, fn, kind: str):
        async def handler(stream) -> None:
            user = await stream.get_string()
            value = await (stream.get_double() if kind == "double" else stream.get_int())
            await stream.end_of_message()
            self.dprintf(Category.ALWAYS, f"{what}: {user} = {value}")
            fn(user, value)
        return handler

    def _cmd_user(self, fn):
        async def handler(stream) -> None:
            user = await stream.get_string()
            await stream.end_of_message()
            self.dprintf(Category.ALWAYS, f"{fn.__name__}: {user}")
            fn(user)
        return handler

    async def _cmd_reset_all(self, stream) -> None:
        await stream.end_of_message()
        self.dprintf(Category.ALWAYS, "Resetting the usage of all users")
        self.accountant.reset_all_usage()


def main(argv=None) -> int:
    """Entry point of ``condor_negotiator``."""
    return Negotiator.main(argv)


if __name__ == "__main__":
    sys.exit(main())
