"""The collector's ad tables: update, invalidate, query and expire ClassAds.

Pure logic (no I/O), following src/condor_collector.V6/collector_engine.cpp and
src/condor_utils/hashkey.cpp:

- each ad type has its own table keyed as HTCondor keys it (``Name``, falling back to
  ``Machine`` [+ ``:SlotID`` for startds]; schedds add ``ScheddName`` and their address;
  generic ads are keyed by ``MyType`` + ``Name``);
- an update replaces the whole ad for its key and stamps ``LastHeardFrom`` (now) unless the ad
  carries one; startd updates may carry a second, private ad (claim ids) kept apart and only
  returned to QUERY_STARTD_PVT_ADS;
- ``AuthenticatedIdentity`` / ``AuthenticationMethod`` are set from the authenticated peer (or
  removed when the peer did not authenticate);
- an ad expires when ``now - LastHeardFrom`` exceeds its ``ClassAdLifetime`` or
  ``CLASSAD_LIFETIME`` (default 900 s); an invalidation removes the matching ads at once;
- a query evaluates ``Requirements`` of the query ad against each ad (true or a non-zero
  number selects), applies ``LimitResults`` and projects onto ``Projection``.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Iterable, Optional

from pyhtc import classad as C

__all__ = ["AdTable", "CollectorStore", "TABLES", "MYTYPE_OF_TABLE", "table_for_mytype",
           "CollectorRecord", "project"]

#: table name -> the MyType its ads carry (HTCondor's ad type names)
MYTYPE_OF_TABLE = {
    "Startd": "Machine", "Schedd": "Scheduler", "Master": "DaemonMaster",
    "Submitter": "Submitter", "Collector": "Collector", "Negotiator": "Negotiator",
    "Accounting": "Accounting", "License": "License", "Grid": "Grid", "Generic": None,
}
TABLES = tuple(MYTYPE_OF_TABLE)
_TABLE_OF_MYTYPE = {v.lower(): k for k, v in MYTYPE_OF_TABLE.items() if v}
_TABLE_OF_MYTYPE.update({"slot": "Startd", "startd": "Startd", "schedd": "Schedd",
                         "master": "Master", "submittor": "Submitter"})


def table_for_mytype(mytype: Optional[str]) -> str:
    """The table an ad of ``MyType`` belongs to (``Generic`` for any other type)."""
    return _TABLE_OF_MYTYPE.get((mytype or "").lower(), "Generic")


def _string(ad: C.ClassAd, name: str) -> Optional[str]:
    try:
        v = ad.eval(name)
    except Exception:
        return None
    return v if isinstance(v, str) else None


def make_key(table: str, ad: C.ClassAd) -> Optional[tuple]:
    """HTCondor's hash key of ``ad`` in ``table`` (hashkey.cpp), or None if it has none."""
    name = _string(ad, "Name")
    if table == "Startd":
        if name is None:
            name = _string(ad, "Machine")
            if name is None:
                return None
            slot = ad.get("SlotID")
            if isinstance(slot, int):
                name = f"{name}:{slot}"
        return (name.lower(), _string(ad, "MyAddress") or "")
    if table in ("Schedd", "Submitter", "License"):
        name = name or _string(ad, "Machine")
        if name is None:
            return None
        extra = _string(ad, "ScheddName") or ""
        return ((name + extra).lower(), _string(ad, "MyAddress") or "")
    if table == "Generic":
        if name is None:
            return None
        return ((_string(ad, "MyType") or "").lower(), name.lower())
    name = name or _string(ad, "Machine")
    return None if name is None else (name.lower(),)


@dataclass
class CollectorRecord:
    """One stored ad (plus the private ad of a startd)."""

    public: C.ClassAd
    private: Optional[C.ClassAd]
    last_heard: int
    lifetime: int


def _bool_of(v) -> bool:
    # exact types: UNDEFINED/ERROR convert to classad.Value members, which are ints too
    if v is True:
        return True
    if type(v) in (int, float):
        return v != 0
    return False


def project(ad: C.ClassAd, names: Optional[Iterable[str]]) -> C.ClassAd:
    """A copy of ``ad`` holding only ``names`` (all attributes when ``names`` is None or
    empty). Missing names are skipped; ``MyType`` and ``TargetType`` are kept if present."""
    if not names:
        return ad
    out = C.ClassAd()
    for n in list(names) + ["MyType", "TargetType"]:
        if n in ad and n not in out:
            out[n] = ad.lookup(n)
    return out


class AdTable:
    """The ads of one type: key -> :class:`CollectorRecord`."""

    def __init__(self, name: str):
        self.name = name
        self.records: dict[tuple, CollectorRecord] = {}

    def __len__(self) -> int:
        return len(self.records)


class CollectorStore:
    """All the collector's tables.

    ``default_lifetime`` is CLASSAD_LIFETIME in seconds; ``clock`` returns Unix seconds
    (injectable for tests).
    """

    def __init__(self, default_lifetime: int = 900, clock=time.time):
        self.default_lifetime = default_lifetime
        self.clock = clock
        self.tables = {t: AdTable(t) for t in TABLES}
        self.updates_total = 0

    def update(self, table: str, ad: C.ClassAd, private: Optional[C.ClassAd] = None,
               identity: Optional[str] = None, method: Optional[str] = None) -> tuple:
        """Store ``ad`` in ``table``, replacing the ad with the same key.

        Returns the key. Raises ValueError (naming the missing attribute) when the ad has
        no usable key."""
        key = make_key(table, ad)
        if key is None:
            raise ValueError(f"{table} ad has no Name (nor Machine) attribute")
        now = int(self.clock())
        if "LastHeardFrom" not in ad:
            ad["LastHeardFrom"] = now
        if identity:
            ad["AuthenticatedIdentity"] = identity
            if method:
                ad["AuthenticationMethod"] = method
        else:
            for n in ("AuthenticatedIdentity", "AuthenticationMethod"):
                if n in ad:
                    del ad[n]
        lifetime = ad.get("ClassAdLifetime")
        if type(lifetime) is not int:
            lifetime = self.default_lifetime
        heard = ad.get("LastHeardFrom")
        heard = heard if type(heard) is int else now
        old = self.tables[table].records.get(key)
        if private is None and old is not None:
            private = old.private
        self.tables[table].records[key] = CollectorRecord(ad, private, heard, lifetime)
        self.updates_total += 1
        return key

    def invalidate(self, table: str, query: C.ClassAd) -> int:
        """Remove the ads of ``table`` that the query ad selects; returns how many.

        The query's ``Requirements`` selects ads; without one, the ad with the query's key
        (``Name``/``MyAddress``) is removed. For the Generic table ``TargetType`` (when not
        ``Any``) restricts the MyType.
        """
        tab = self.tables[table]
        req = query.lookup("Requirements") if "Requirements" in query else None
        target = _string(query, "TargetType")
        victims = []
        if req is None:
            key = make_key(table, query)
            if key is not None and key in tab.records:
                victims.append(key)
        else:
            for key, rec in tab.records.items():
                if table == "Generic" and target and target.lower() != "any":
                    if (_string(rec.public, "MyType") or "").lower() != target.lower():
                        continue
                if _bool_of(req.eval(rec.public)):
                    victims.append(key)
        for key in victims:
            del tab.records[key]
        return len(victims)

    def expire(self) -> list[tuple[str, tuple]]:
        """Remove ads not heard from within their lifetime; returns (table, key) removed."""
        now = self.clock()
        gone = []
        for tab in self.tables.values():
            for key, rec in list(tab.records.items()):
                if now - rec.last_heard > rec.lifetime:
                    del tab.records[key]
                    gone.append((tab.name, key))
        return gone

    def query(self, tables: Iterable[str], query: C.ClassAd, private: bool = False
              ) -> list[C.ClassAd]:
        """The ads of ``tables`` selected by the query ad, projected and limited.

        ``Requirements`` (default true) is evaluated with the stored ad as MY and the query
        ad as TARGET; ``LimitResults`` caps the count; ``Projection`` (names separated by
        white space or commas) limits attributes. For the Generic table a ``TargetType``
        other than ``Any`` restricts the MyType. With ``private`` the startds' private ads
        are returned instead of their public ads.
        """
        req = query.lookup("Requirements") if "Requirements" in query else None
        limit = query.get("LimitResults")
        if type(limit) is not int or limit < 0:
            limit = None
        proj_text = _string(query, "Projection") or ""
        names = [n for n in proj_text.replace(",", " ").split() if n]
        target = _string(query, "TargetType")
        out = []
        for t in tables:
            for rec in self.tables[t].records.values():
                ad = rec.public
                if t == "Generic" and target and target.lower() not in ("any", ""):
                    if (_string(ad, "MyType") or "").lower() != target.lower():
                        continue
                if req is not None and not _bool_of(req.eval(ad, query)):
                    continue
                if private:
                    if rec.private is None:
                        continue
                    ad = rec.private
                out.append(project(ad, names))
                if limit is not None and len(out) >= limit:
                    return out
        return out

    def count(self, table: str) -> int:
        """Number of ads in ``table``."""
        return len(self.tables[table])
