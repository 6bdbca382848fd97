"""Test helpers: a collector + condor_startd pool, and the schedd/shadow side of the claim
protocols (REQUEST_CLAIM, ACTIVATE_CLAIM, DEACTIVATE_CLAIM, RELEASE_CLAIM) spoken with
pyhtc's blocking CEDAR client, as command.cpp reads them."""
from __future__ import annotations

import glob
import os
import time

from daemon_helpers import start_daemon

from pyhtc import classad as C
from pyhtc.cedar.security.policy import SecurityPolicy
from pyhtc.cedar.wire_ad import from_classad, to_classad
from pyhtc.client import CollectorClient, start_command
from pyhtc.config import Config
from pyhtc.cedar import claims as P


class Pool:
    """A collector and a startd under ``tmp_path`` (``stop()`` ends both)."""

    def __init__(self, tmp_path, **knobs):
        self.tmp = tmp_path
        self.collector = start_daemon("pyhtc.daemons.collector.daemon", "COLLECTOR", tmp_path, "CollectorLog")
        extra = {"_CONDOR_COLLECTOR_HOST": self.collector.host_port, "_CONDOR_UPDATE_INTERVAL": "30",
                 "_CONDOR_POLLING_INTERVAL": "1", "_CONDOR_STARTER_UPDATE_INTERVAL": "1",
                 "_CONDOR_MEMORY": "2048",
                 "_CONDOR_STARTD_DEBUG": "D_COMMAND"}
        extra.update({f"_CONDOR_{k}": str(v) for k, v in knobs.items()})
        try:
            self.startd = start_daemon("pyhtc.daemons.startd.daemon", "STARTD", tmp_path, "StartdLog", **extra)
        except Exception:
            self.collector.stop()
            raise
        env = {"CONDOR_CONFIG": "ONLY_ENV"}
        self.client = CollectorClient(self.collector.host_port,
                                      Config.load("TOOL", environ=env, read_user_config=False))
        self.execute = knobs.get("EXECUTE", str(tmp_path / "execute"))

    def stop(self) -> None:
        self.startd.stop()
        self.collector.stop()

    def logs(self) -> str:
        starter_logs = "".join(open(p).read() for p in glob.glob(str(self.tmp / "StarterLog*")))
        return self.startd.log_text() + starter_logs

    def slots(self) -> dict:
        """Name -> public slot ad, from the collector."""
        return {a["Name"]: a for a in self.client.query("Startd")}

    def private(self) -> dict:
        """Name -> private slot ad (ClaimId) from the collector."""
        return {a["Name"]: a for a in self.client.query("StartdPrivate")}

    def wait_slots(self, pred, timeout: float = 15.0) -> dict:
        """Poll the collector until ``pred(slots)`` holds; the slots, or AssertionError."""
        deadline = time.time() + timeout
        slots = {}
        while time.time() < deadline:
            slots = self.slots()
            try:
                if pred(slots):
                    return slots
            except (KeyError, TypeError):
                pass
            time.sleep(0.1)
        raise AssertionError(f"condition not met; slots: "
                             f"{ {n: (a.get('State'), a.get('Activity')) for n, a in slots.items()} }\n{self.logs()}")

    def wait_result(self, before: set, timeout: float = 20.0) -> C.ClassAd:
        """The first new starter result ad in EXECUTE (written when a job ends)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            new = set(glob.glob(os.path.join(self.execute, "dir_*.result.ad"))) - before
            if new:
                return C.parseOne(open(new.pop()).read(), C.ParserType.Old)
            time.sleep(0.05)
        raise AssertionError("no starter result\n" + self.logs())

    def results(self) -> set:
        return set(glob.glob(os.path.join(self.execute, "dir_*.result.ad")))


def _stream(addr: str, command: int):
    return start_command(addr, command, SecurityPolicy())


def request_claim(addr: str, claim_id: str, job: dict, **flags):
    """REQUEST_CLAIM as a schedd sends it; returns ``(reply, claimed, leftovers)`` where
    ``claimed`` is ``(claim id, slot ad)`` from a REQUEST_CLAIM_SLOT_AD reply part and
    ``leftovers`` ``(claim id, pslot ad)``."""
    ad = C.ClassAd(job)
    for k, v in flags.items():
        ad[f"_condor_{k}"] = v
    claimed = leftovers = None
    with _stream(addr, P.REQUEST_CLAIM) as s:
        s.put_string(claim_id)
        s.put_ad(from_classad(ad))
        s.put_string("<127.0.0.1:1234>")
        s.put_int(300)
        s.put_int(0)
        s.end_of_message()
        reply = s.get_int()
        if reply == P.REQUEST_CLAIM_SLOT_AD:
            claimed = (s.get_string(), to_classad(s.get_ad()))
            reply = s.get_int()
        if reply in (P.REQUEST_CLAIM_LEFTOVERS, P.REQUEST_CLAIM_LEFTOVERS_2):
            leftovers = (s.get_string(), to_classad(s.get_ad()))
        s.end_of_message()
    return reply, claimed, leftovers


def activate_claim(addr: str, claim_id: str, job: dict, failure_ad: bool = True):
    """ACTIVATE_CLAIM as a shadow sends it; returns ``(reply, failure ad or None)``."""
    ad = C.ClassAd(job)
    if failure_ad:
        ad["_condor_send_activation_failure_ad"] = True
    with _stream(addr, P.ACTIVATE_CLAIM) as s:
        s.put_string(claim_id)
        s.put_int(0)
        s.put_ad(from_classad(ad))
        s.end_of_message()
        reply = s.get_int()
        extra = None
        if reply != P.OK and failure_ad:
            extra = to_classad(s.get_ad())
        s.end_of_message()
    return reply, extra


def deactivate_claim(addr: str, claim_id: str, forcibly: bool = False) -> C.ClassAd:
    """DEACTIVATE_CLAIM(_FORCIBLY); returns the reply ad ([Start = may reuse])."""
    with _stream(addr, P.DEACTIVATE_CLAIM_FORCIBLY if forcibly else P.DEACTIVATE_CLAIM) as s:
        s.put_string(claim_id)
        s.end_of_message()
        ad = to_classad(s.get_ad())
        s.end_of_message()
    return ad


def release_claim(addr: str, claim_id: str) -> None:
    """RELEASE_CLAIM (no reply)."""
    with _stream(addr, P.RELEASE_CLAIM) as s:
        s.put_string(claim_id)
        s.end_of_message()
