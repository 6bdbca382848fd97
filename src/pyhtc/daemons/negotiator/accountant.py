"""The accountant: user priorities, priority factors and usage, durable in SQLite.

Follows src/condor_negotiator.V6/Accountant.cpp and the manual
(users-manual/priorities-and-preemption.rst, admin-manual/cm-configuration.rst "User
Priorities and Negotiation"):

- each *customer* (a submitter ``user@uid.domain`` or an accounting group) has a **real
  priority** that decays toward its weighted resources in use: every update, with ``dt``
  seconds since the last one and ``a = 0.5 ** (dt / PRIORITY_HALFLIFE)``,
  ``prio = prio * a + in_use * (1 - a)`` (never below 0.5, ``MinPriority``), where
  ``in_use`` also counts the part of the interval a match had not yet started
  (``UnchargedTime``, negative);
- the **priority factor** defaults to ``DEFAULT_PRIO_FACTOR`` (1000), ``NICE_USER_PRIO_FACTOR``
  (1e10) for names starting with ``nice-user``, ``REMOTE_PRIO_FACTOR`` (1e7) for users
  outside ``ACCOUNTANT_LOCAL_DOMAIN`` (when that is set); it is stored on first use;
- the **effective priority** reported and used is ``real × factor``;
- **accumulated usage** grows by ``in_use × dt`` (seconds; "wghted-hrs" divide by 3600);
  ``BeginUsageTime`` is set when usage first accumulates, ``LastUsageTime`` whenever
  the customer had resources in use.

The database is ``ACCOUNTANT_DATABASE_FILE`` (default ``$(SPOOL)/Accountantnew.db``), one
table of customers plus the time of the last update; every change is a transaction (WAL),
so priorities survive restarts and kill -9.
"""
from __future__ import annotations

import os
import sqlite3
import time
from dataclasses import dataclass, fields
from typing import Optional

__all__ = ["Accountant", "Customer", "MIN_PRIORITY", "MIN_PRIORITY_FACTOR", "NICE_USER_NAME",
           "decay"]

MIN_PRIORITY = 0.5          # Accountant.cpp MinPriority
MIN_PRIORITY_FACTOR = 1.0   # Accountant.cpp MIN_PRIORITY_FACTOR
NICE_USER_NAME = "nice-user"  # condor_constants.h NiceUserName

_SCHEMA = """
CREATE TABLE IF NOT EXISTS customers (
    name TEXT PRIMARY KEY,
    priority REAL NOT NULL DEFAULT 0.5,
    priority_factor REAL,
    resources_used INTEGER NOT NULL DEFAULT 0,
    weighted_resources_used REAL NOT NULL DEFAULT 0,
    uncharged_time REAL NOT NULL DEFAULT 0,
    weighted_uncharged_time REAL NOT NULL DEFAULT 0,
    accumulated_usage REAL NOT NULL DEFAULT 0,
    weighted_accumulated_usage REAL NOT NULL DEFAULT 0,
    begin_usage_time INTEGER NOT NULL DEFAULT 0,
    last_usage_time INTEGER NOT NULL DEFAULT 0,
    ceiling INTEGER NOT NULL DEFAULT -1,
    floor INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value);
"""


def decay(priority: float, in_use: float, dt: float, half_life: float) -> float:
    """One priority update (Accountant::UpdateOnePriority): ``priority * a + in_use * (1 -
    a)`` with ``a = 0.5 ** (dt / half_life)``, floored at :data:`MIN_PRIORITY`."""
    a = 0.5 ** (dt / half_life) if half_life > 0 else 0.0
    return max(MIN_PRIORITY, max(priority, MIN_PRIORITY) * a + in_use * (1 - a))


@dataclass
class Customer:
    """One accountant record (attribute names as the accountant ads carry them)."""

    name: str
    priority: float = MIN_PRIORITY
    priority_factor: Optional[float] = None
    resources_used: int = 0
    weighted_resources_used: float = 0.0
    uncharged_time: float = 0.0
    weighted_uncharged_time: float = 0.0
    accumulated_usage: float = 0.0
    weighted_accumulated_usage: float = 0.0
    begin_usage_time: int = 0
    last_usage_time: int = 0
    ceiling: int = -1
    floor: int = 0


_COLUMNS = [f.name for f in fields(Customer)]


class Accountant:
    """The accountant database.

    Args:
        path: the SQLite file (created with its directory).
        half_life: PRIORITY_HALFLIFE in seconds (default 86400).
        default_factor, nice_factor, remote_factor: DEFAULT_PRIO_FACTOR,
            NICE_USER_PRIO_FACTOR, REMOTE_PRIO_FACTOR.
        local_domain: ACCOUNTANT_LOCAL_DOMAIN (None: every user is local).

    Raises sqlite3.Error (with the path) when the file cannot be opened.
    """

    def __init__(self, path: str, half_life: float = 86400.0, default_factor: float = 1000.0,
                 nice_factor: float = 1e10, remote_factor: float = 1e7,
                 local_domain: Optional[str] = None):
        self.path = path
        d = os.path.dirname(os.path.abspath(path))
        os.makedirs(d, exist_ok=True)
        try:
            self.db = sqlite3.connect(path, isolation_level=None)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            raise sqlite3.Error(f"accountant database {path}: {exc}") from None
        self.configure(half_life, default_factor, nice_factor, remote_factor, local_domain)

    def configure(self, half_life: float = 86400.0, default_factor: float = 1000.0,
                  nice_factor: float = 1e10, remote_factor: float = 1e7,
                  local_domain: Optional[str] = None) -> None:
        """(Re)set the knobs (Accountant::Initialize)."""
        self.half_life = float(half_life)
        self.default_factor = float(default_factor)
        self.nice_factor = float(nice_factor)
        self.remote_factor = float(remote_factor) if local_domain else 1.0
        self.local_domain = local_domain or None

    def close(self) -> None:
        """Close the database."""
        self.db.close()

    # -- records -----------------------------------------------------------------------
    @property
    def last_update(self) -> int:
        """Time of the last priority update (0 = never)."""
        row = self.db.execute("SELECT value FROM meta WHERE key='LastUpdateTime'").fetchone()
        return int(row[0]) if row else 0

    def _set_last_update(self, t: int) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta VALUES ('LastUpdateTime', ?)", (int(t),))

    def get(self, name: str) -> Optional[Customer]:
        """The record of ``name`` or None."""
        row = self.db.execute(f"SELECT {', '.join(_COLUMNS)} FROM customers WHERE name=?",
                              (name,)).fetchone()
        return Customer(*row) if row else None

    def customers(self) -> list[Customer]:
        """Every record, by name."""
        rows = self.db.execute(f"SELECT {', '.join(_COLUMNS)} FROM customers ORDER BY name").fetchall()
        return [Customer(*r) for r in rows]

    def _ensure(self, name: str) -> Customer:
        c = self.get(name)
        if c is None:
            self.db.execute("INSERT INTO customers (name) VALUES (?)", (name,))
            c = Customer(name)
        return c

    def _set(self, name: str, **values) -> None:
        self._ensure(name)
        cols = ", ".join(f"{k}=?" for k in values)
        self.db.execute(f"UPDATE customers SET {cols} WHERE name=?", (*values.values(), name))

    def _domain(self, name: str) -> str:
        return name.rpartition("@")[2] if "@" in name else ""

    def default_factor_for(self, name: str) -> float:
        """The factor a new record gets (Accountant::GetPriorityFactor)."""
        if name.startswith(NICE_USER_NAME):
            return self.nice_factor
        if self.local_domain and self._domain(name) != self.local_domain:
            return self.remote_factor
        return self.default_factor

    def priority_factor(self, name: str) -> float:
        """The priority factor of ``name`` (stored on first use, as HTCondor does)."""
        c = self.get(name)
        if c is not None and c.priority_factor is not None and c.priority_factor >= MIN_PRIORITY_FACTOR:
            return c.priority_factor
        f = self.default_factor_for(name)
        self._set(name, priority_factor=f)
        return f

    def real_priority(self, name: str) -> float:
        """The real priority (at least 0.5)."""
        c = self.get(name)
        return max(MIN_PRIORITY, c.priority) if c is not None else MIN_PRIORITY

    def effective_priority(self, name: str) -> float:
        """Real priority × priority factor (Accountant::GetPriority)."""
        return self.real_priority(name) * self.priority_factor(name)

    def weighted_in_use(self, name: str) -> float:
        """Weighted resources in use by ``name``."""
        c = self.get(name)
        return c.weighted_resources_used if c else 0.0

    # -- edits (condor_userprio) -------------------------------------------------------
    def set_priority_factor(self, name: str, factor: float) -> float:
        """Set the factor (below 1 becomes 1, as Accountant::SetPriorityFactor); returns it."""
        factor = max(MIN_PRIORITY_FACTOR, float(factor))
        self._set(name, priority_factor=factor)
        return factor

    def set_priority(self, name: str, priority: float) -> None:
        """Set the real priority."""
        self._set(name, priority=float(priority))

    def set_accumulated_usage(self, name: str, usage: float) -> None:
        """Set the accumulated usage (seconds; weighted and unweighted)."""
        self._set(name, accumulated_usage=float(usage), weighted_accumulated_usage=float(usage))

    def set_begin_time(self, name: str, t: int) -> None:
        """Set BeginUsageTime."""
        self._set(name, begin_usage_time=int(t))

    def set_last_time(self, name: str, t: int) -> None:
        """Set LastUsageTime."""
        self._set(name, last_usage_time=int(t))

    def set_ceiling(self, name: str, ceiling: int) -> None:
        """Set the submitter ceiling (-1: none)."""
        self._set(name, ceiling=int(ceiling))

    def set_floor(self, name: str, floor: int) -> None:
        """Set the submitter floor."""
        self._set(name, floor=int(floor))

    def reset_usage(self, name: str, now: Optional[float] = None) -> None:
        """Accumulated usage to 0, BeginUsageTime to now (Accountant::ResetAccumulatedUsage)."""
        self._set(name, accumulated_usage=0.0, weighted_accumulated_usage=0.0,
                  begin_usage_time=int(now if now is not None else time.time()))

    def reset_all_usage(self, now: Optional[float] = None) -> None:
        """Reset every record's accumulated usage."""
        t = int(now if now is not None else time.time())
        self.db.execute("UPDATE customers SET accumulated_usage=0, weighted_accumulated_usage=0, "
                        "begin_usage_time=?", (t,))

    def delete(self, name: str) -> None:
        """Delete the record of ``name``."""
        self.db.execute("DELETE FROM customers WHERE name=?", (name,))

    # -- the cycle ---------------------------------------------------------------------
    def update_priorities(self, now: Optional[float] = None) -> None:
        """Age every priority by the time since the last update and charge usage
        (Accountant::UpdatePriorities / UpdateOnePriority)."""
        t = int(now if now is not None else time.time())
        last = self.last_update
        dt = t - last
        if last == 0 or dt < 0:
            self._set_last_update(t)
            return
        if dt == 0:
            return
        self.db.execute("BEGIN")
        try:
            for c in self.customers():
                recent = c.resources_used + c.uncharged_time / dt
                w_recent = c.weighted_resources_used + c.weighted_uncharged_time / dt
                prio = decay(c.priority, w_recent, dt, self.half_life)
                acc = c.accumulated_usage + c.resources_used * dt + c.uncharged_time
                wacc = c.weighted_accumulated_usage + c.weighted_resources_used * dt + c.weighted_uncharged_time
                begin = c.begin_usage_time or (t if acc > 0 else 0)
                last_use = t if recent > 0 else c.last_usage_time
                if (prio <= MIN_PRIORITY and c.resources_used == 0 and acc == 0
                        and c.priority_factor is None):
                    self.db.execute("DELETE FROM customers WHERE name=?", (c.name,))
                    continue
                self.db.execute(
                    "UPDATE customers SET priority=?, accumulated_usage=?, weighted_accumulated_usage=?, "
                    "begin_usage_time=?, last_usage_time=?, uncharged_time=0, weighted_uncharged_time=0 "
                    "WHERE name=?", (prio, acc, wacc, begin, last_use, c.name))
            self._set_last_update(t)
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    def set_usage(self, in_use: dict[str, tuple[int, float]]) -> None:
        """Resources in use now, from the claimed slots (Accountant::CheckMatches):
        ``customer -> (slot count, weighted)``; everyone else has none."""
        self.db.execute("BEGIN")
        try:
            self.db.execute("UPDATE customers SET resources_used=0, weighted_resources_used=0")
            for name, (n, w) in in_use.items():
                self._ensure(name)
                self.db.execute("UPDATE customers SET resources_used=?, weighted_resources_used=? "
                                "WHERE name=?", (int(n), float(w), name))
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    def add_match(self, name: str, weight: float, now: Optional[float] = None) -> None:
        """A new match for ``name`` (Accountant::AddMatch): one more resource in use, and
        the part of the interval before it started is not charged."""
        t = now if now is not None else time.time()
        c = self._ensure(name)
        since = max(0.0, t - self.last_update) if self.last_update else 0.0
        self.db.execute(
            "UPDATE customers SET resources_used=?, weighted_resources_used=?, uncharged_time=?, "
            "weighted_uncharged_time=? WHERE name=?",
            (c.resources_used + 1, c.weighted_resources_used + weight, c.uncharged_time - since,
             c.weighted_uncharged_time - since * weight, name))

    # -- reports -----------------------------------------------------------------------
    def accounting_ads(self, negotiator_name: str = "") -> list[dict]:
        """One dict per record, as the Accounting ads (matchmaker.cpp
        ``forwardAccountingData``): Name, Priority (effective), PriorityFactor,
        ResourcesUsed, WeightedResourcesUsed, AccumulatedUsage, WeightedAccumulatedUsage,
        BeginUsageTime, LastUsageTime, Ceiling, Floor, IsAccountingGroup, AccountingGroup,
        LastUpdate, NegotiatorName; the ``<none>`` root group first."""
        last = self.last_update
        out = [{"Name": "<none>", "IsAccountingGroup": True, "AccountingGroup": "<none>",
                "Priority": 0.0, "PriorityFactor": 0.0, "ResourcesUsed": 0,
                "WeightedResourcesUsed": 0.0, "AccumulatedUsage": 0.0,
                "WeightedAccumulatedUsage": 0.0, "BeginUsageTime": 0, "LastUsageTime": 0,
                "EffectiveQuota": 0.0, "ConfigQuota": 0.0, "SubtreeQuota": 0.0,
                "SurplusPolicy": "no", "Requested": 0.0}]
        for c in self.customers():
            factor = self.priority_factor(c.name)
            out.append({
                "Name": c.name, "IsAccountingGroup": False, "AccountingGroup": "<none>",
                "Priority": max(MIN_PRIORITY, c.priority) * factor, "PriorityFactor": factor,
                "Ceiling": c.ceiling, "Floor": c.floor,
                "ResourcesUsed": c.resources_used, "WeightedResourcesUsed": c.weighted_resources_used,
                "AccumulatedUsage": c.accumulated_usage,
                "WeightedAccumulatedUsage": c.weighted_accumulated_usage,
                "BeginUsageTime": c.begin_usage_time, "LastUsageTime": c.last_usage_time,
            })
        for ad in out:
            ad["LastUpdate"] = last
            if negotiator_name:
                ad["NegotiatorName"] = negotiator_name
        return out

    def report_state(self) -> dict:
        """The GET_PRIORITY reply (Accountant::ReportState): the records of
        :meth:`accounting_ads` as numbered attributes ``Name1``, ``Priority1`` ... plus
        ``LastUpdate`` and ``NumSubmittors``."""
        ads = self.accounting_ads()
        out: dict = {"LastUpdate": self.last_update}
        for i, ad in enumerate(ads, 1):
            for k, v in ad.items():
                if k in ("LastUpdate", "NegotiatorName"):
                    continue
                out[f"{k}{i}"] = v
        out["NumSubmittors"] = len(ads)
        return out
