"""The schedd's durable job queue: SQLite in WAL mode.

HTCondor keeps the queue in a transaction log (src/condor_schedd.V6/qmgmt.cpp,
src/condor_utils/classad_log.cpp); pyhtc keeps it in SQLite, one database transaction per
client transaction, so a kill at any moment leaves each cluster either whole or absent.

Layout (one file, normally ``$(SPOOL)/job_queue.db``):

- ``jobs(cluster, proc, attrs)``: one row per ad; ``proc = -1`` is the cluster ad; ``attrs`` is
  a JSON object ``{name: expression text}`` in the order the attributes were set;
- ``history(cluster, proc, completed, attrs)``: ads of jobs that left the queue (Completed or
  Removed), ``completed`` being the Unix time they left;
- ``factories(cluster, digest, items)``: late-materialization job factories (SetJobFactory):
  the submit digest text and the item rows (JSON list of lists, or NULL); the factory's
  counters live in its cluster ad (JobMaterializeNextProcId, JobMaterializeNextRow) so they
  change in the same transaction as the procs they make;
- ``meta(key, value)``: ``NextClusterId`` (never reused, even for clusters whose submission
  was abandoned: it is made durable before the id is handed out).

Durability: ``synchronous=NORMAL`` in WAL mode survives the death of the process at any
moment (what the schedd must survive); surviving power loss needs ``synchronous=FULL``
(pass ``fsync=True``).
"""
from __future__ import annotations

import json
import sqlite3
from json.encoder import encode_basestring_ascii as _json_str
from typing import Iterable, Iterator, Optional, Union

__all__ = ["JobQueueDB", "JobKey"]

JobKey = tuple  # (cluster, proc); proc -1 = the cluster ad

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS jobs (
    cluster INTEGER NOT NULL, proc INTEGER NOT NULL, attrs TEXT NOT NULL,
    PRIMARY KEY (cluster, proc)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS history (
    cluster INTEGER NOT NULL, proc INTEGER NOT NULL, completed INTEGER NOT NULL,
    attrs TEXT NOT NULL, PRIMARY KEY (cluster, proc));
CREATE INDEX IF NOT EXISTS history_completed ON history (completed);
CREATE TABLE IF NOT EXISTS factories (
    cluster INTEGER PRIMARY KEY, digest TEXT NOT NULL, items TEXT);
"""


def attrs_json(attrs: Union[dict, str]) -> str:
    """The stored text of an ad: ``{name: expression text}`` as compact JSON (what
    ``json.dumps(attrs, separators=(",", ":"))`` gives, made by hand for the usual all-string
    dict: a 100,000-proc commit encodes 100,000 of them); a ``str`` is taken as that text
    already made (:meth:`pyhtc.daemons.schedd.queue.Attrs.json_text`)."""
    if isinstance(attrs, str):
        return attrs
    try:
        return "{" + ",".join([_json_str(k) + ":" + _json_str(v) for k, v in attrs.items()]) + "}"
    except TypeError:  # a value that is not a string
        return json.dumps(attrs, separators=(",", ":"))


def _some(rows) -> bool:
    """False only for an empty list, tuple, set or dict (an iterator may be empty too: it
    is then run and inserts nothing)."""
    return not isinstance(rows, (list, tuple, set, frozenset, dict)) or len(rows) > 0


class JobQueueDB:
    """The SQLite file behind a job queue.

    ``path``: the database file (created if missing). Raises sqlite3.DatabaseError if the
    file is not a job queue database. Not thread-safe: the schedd uses it from one thread.
    """

    def __init__(self, path: str, fsync: bool = False):
        self.path = path
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=%s" % ("FULL" if fsync else "NORMAL"))
        self.db.executescript(_SCHEMA)

    def close(self) -> None:
        """Close the database (checkpointing the WAL)."""
        self.db.close()

    # -- reading -----------------------------------------------------------------------
    def load(self) -> Iterator[tuple[int, int, dict]]:
        """Every ad in the queue as ``(cluster, proc, {name: expr_text})``, cluster ads
        (proc -1) before their procs, ordered by cluster and proc."""
        for c, p, attrs in self.db.execute("SELECT cluster, proc, attrs FROM jobs ORDER BY cluster, proc"):
            yield c, p, json.loads(attrs)

    def factories(self) -> Iterator[tuple[int, str, Optional[list]]]:
        """Every stored job factory as ``(cluster, digest text, item rows or None)``."""
        for c, digest, items in self.db.execute("SELECT cluster, digest, items FROM factories ORDER BY cluster"):
            yield c, digest, (json.loads(items) if items is not None else None)

    def peek_next_cluster_id(self) -> int:
        """The id the next :meth:`allocate_cluster_id` will return."""
        row = self.db.execute("SELECT value FROM meta WHERE key='NextClusterId'").fetchone()
        return row[0] if row else 1

    def history(self, since: Optional[int] = None) -> Iterator[tuple[int, int, int, dict]]:
        """History ads ``(cluster, proc, completed, attrs)``, most recently completed first;
        ``since`` keeps only those completed after that Unix time."""
        if since is None:
            cur = self.db.execute("SELECT cluster, proc, completed, attrs FROM history "
                                  "ORDER BY completed DESC, cluster DESC, proc DESC")
        else:
            cur = self.db.execute("SELECT cluster, proc, completed, attrs FROM history WHERE completed > ? "
                                  "ORDER BY completed DESC, cluster DESC, proc DESC", (since,))
        for c, p, t, attrs in cur:
            yield c, p, t, json.loads(attrs)

    # -- writing -----------------------------------------------------------------------
    def allocate_cluster_id(self) -> int:
        """A new cluster id, made durable before it is returned (ids never repeat)."""
        with self._transaction():
            cid = self.peek_next_cluster_id()
            self.db.execute("INSERT INTO meta(key, value) VALUES('NextClusterId', ?) "
                            "ON CONFLICT(key) DO UPDATE SET value=excluded.value", (cid + 1,))
        return cid

    def commit(self, upserts: Iterable[tuple[int, int, dict]] = (),
               deletes: Iterable[JobKey] = (),
               to_history: Iterable[tuple[int, int, int, dict]] = (),
               factories: Iterable[tuple[int, str, Optional[list]]] = (),
               drop_factories: Iterable[int] = ()) -> None:
        """Apply one client transaction atomically: write the full attribute dicts of
        ``upserts`` (or their JSON text, see :func:`attrs_json`), remove ``deletes``, append ``to_history`` rows
        ``(cluster, proc, completed, attrs)``, store ``factories`` rows ``(cluster, digest,
        items)`` and remove the factories of the clusters in ``drop_factories``."""
        # (a statement with nothing to do is not run: a job start or exit is one
        # transaction of one or two statements)
        with self._transaction():
            if _some(factories):
                self.db.executemany(
                    "INSERT OR REPLACE INTO factories(cluster, digest, items) VALUES(?, ?, ?)",
                    ((c, d, json.dumps(i) if i is not None else None) for c, d, i in factories))
            if _some(drop_factories):
                self.db.executemany("DELETE FROM factories WHERE cluster=?", ((c,) for c in drop_factories))
            if _some(upserts):
                self.db.executemany(
                    "INSERT INTO jobs(cluster, proc, attrs) VALUES(?, ?, ?) "
                    "ON CONFLICT(cluster, proc) DO UPDATE SET attrs=excluded.attrs",
                    ((c, p, attrs_json(a)) for c, p, a in upserts))
            if _some(deletes):
                self.db.executemany("DELETE FROM jobs WHERE cluster=? AND proc=?", deletes)
            if _some(to_history):
                self.db.executemany(
                    "INSERT OR REPLACE INTO history(cluster, proc, completed, attrs) VALUES(?, ?, ?, ?)",
                    ((c, p, t, attrs_json(a)) for c, p, t, a in to_history))

    def trim_history(self, max_rows: int) -> int:
        """Keep only the ``max_rows`` most recent history ads; returns how many were removed."""
        with self._transaction():
            cur = self.db.execute(
                "DELETE FROM history WHERE rowid NOT IN (SELECT rowid FROM history "
                "ORDER BY completed DESC, cluster DESC, proc DESC LIMIT ?)", (max_rows,))
        return cur.rowcount

    def trim_history_bytes(self, max_bytes: int) -> int:
        """Keep the most recent history ads whose stored size (JSON text) adds up to at most
        ``max_bytes`` (HTCondor bounds its history file by MAX_HISTORY_LOG bytes times
        MAX_HISTORY_ROTATIONS + 1); returns how many were removed."""
        with self._transaction():
            cur = self.db.execute(
                "DELETE FROM history WHERE rowid IN (SELECT rowid FROM (SELECT rowid, "
                "SUM(length(attrs)) OVER (ORDER BY completed DESC, cluster DESC, proc DESC "
                "ROWS UNBOUNDED PRECEDING) AS total FROM history) WHERE total > ?)", (max_bytes,))
        return cur.rowcount

    class _Tx:
        def __init__(self, db):
            self.db = db

        def __enter__(self):
            self.db.execute("BEGIN IMMEDIATE")

        def __exit__(self, et, ev, tb):
            self.db.execute("COMMIT" if et is None else "ROLLBACK")
            return False

    def _transaction(self):
        return self._Tx(self.db)
