"""The schedd's job queue: transactions, cluster/proc fallback, history, durability."""
import os
import random
import signal
import subprocess
import sys
import time

import pytest

from pyhtc.daemons.schedd.queue import JobQueue, QueueError
from pyhtc.daemons.schedd.queue_db import JobQueueDB


def open_queue(path):
    return JobQueue(JobQueueDB(str(path)))


def submit(q, n, **cluster_attrs):
    tx = q.begin("alice@pool")
    c = tx.new_cluster()
    for k, v in cluster_attrs.items():
        tx.set_attribute(c, -1, k, v)
    for _ in range(n):
        p = tx.new_proc(c)
        tx.set_attribute(c, p, "ProcId", str(p))
        tx.set_attribute(c, p, "JobStatus", "1")
    tx.commit()
    return c


def test_transaction_is_invisible_until_commit_and_survives_reopen(tmp_path):
    db = tmp_path / "job_queue.db"
    q = open_queue(db)
    tx = q.begin()
    c = tx.new_cluster()
    tx.set_attribute(c, -1, "Cmd", '"/bin/true"')
    p = tx.new_proc(c)
    tx.set_attribute(c, p, "Args", '"x"')
    assert tx.get_attribute(c, p, "cmd") == '"/bin/true"'  # proc falls back to cluster
    assert q.job_count() == 0
    tx.commit()
    assert q.job_count() == 1 and q.lookup(c, 0, "CMD") == '"/bin/true"'
    q.db.close()
    q2 = open_queue(db)
    assert q2.job_attrs(c, 0) == {"Cmd": '"/bin/true"', "Args": '"x"'}


def test_abort_leaves_nothing_and_ids_never_repeat(tmp_path):
    q = open_queue(tmp_path / "q.db")
    tx = q.begin()
    c1 = tx.new_cluster()
    tx.new_proc(c1)
    tx.abort()
    assert q.job_count() == 0
    c2 = submit(q, 2)
    assert c2 == c1 + 1
    q.db.close()
    q = open_queue(tmp_path / "q.db")
    assert submit(q, 1) == c2 + 1


def test_case_insensitive_names_keep_first_spelling(tmp_path):
    q = open_queue(tmp_path / "q.db")
    c = submit(q, 1, RequestMemory="128")
    tx = q.begin()
    tx.set_attribute(c, 0, "requestmemory", "256")
    tx.commit()
    assert q.job_attrs(c, 0)["RequestMemory"] == "256"
    assert "requestmemory" not in q.job_attrs(c, 0)


def test_errors_for_missing_jobs(tmp_path):
    q = open_queue(tmp_path / "q.db")
    tx = q.begin()
    with pytest.raises(QueueError):
        tx.new_proc(42)
    with pytest.raises(QueueError):
        tx.set_attribute(1, 0, "A", "1")


def test_history_move_is_atomic_and_removes_empty_cluster(tmp_path):
    q = open_queue(tmp_path / "q.db")
    c = submit(q, 2, Owner='"alice"')
    q.remove_to_history([(c, 0)], when=100)
    assert list(q.jobs()) == [(c, 1)]
    q.remove_to_history([(c, 1)], when=200)
    assert q.clusters() == []
    hist = list(q.db.history())
    assert [(h[0], h[1], h[2]) for h in hist] == [(c, 1, 200), (c, 0, 100)]
    assert hist[0][3]["Owner"] == '"alice"'
    assert [h[1] for h in q.db.history(since=150)] == [1]


WRITER = r"""
import sys
from pyhtc.daemons.schedd.queue import JobQueue
from pyhtc.daemons.schedd.queue_db import JobQueueDB
q = JobQueue(JobQueueDB(sys.argv[1]))
print("ready", flush=True)
while True:
    tx = q.begin()
    c = tx.new_cluster()
    tx.set_attribute(c, -1, "Cmd", '"/bin/sleep"')
    for i in range(100):
        p = tx.new_proc(c)
        tx.set_attribute(c, p, "ProcId", str(p))
        tx.set_attribute(c, p, "Args", '"%d"' % i)
    tx.commit()
    print(c, flush=True)
"""


@pytest.mark.slow
def test_sigkill_at_random_moments_leaves_clusters_whole(tmp_path):
    """At least 20 SIGKILLs while a writer commits clusters of 100 procs: every acknowledged
    cluster is whole afterwards, none is partial, and no cluster id repeats."""
    db = str(tmp_path / "crash.db")
    acked = []
    rng = random.Random(1234)
    kills = 0
    while kills < 20:
        proc = subprocess.Popen([sys.executable, "-c", WRITER, db], stdout=subprocess.PIPE)
        # the random moment is counted from the writer's first line ("ready", printed once
        # its imports are done), so a loaded machine's slow start does not eat the window
        assert proc.stdout.readline() == b"ready\n"
        deadline = time.monotonic() + rng.uniform(0.25, 0.6)
        os.set_blocking(proc.stdout.fileno(), False)
        buf = b""
        while time.monotonic() < deadline:
            time.sleep(0.01)
            chunk = proc.stdout.read() or b""
            buf += chunk
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        buf += proc.stdout.read() or b""
        acked += [int(x) for x in buf.split()]
        kills += 1
    assert len(acked) == len(set(acked)), "a cluster id was handed out twice"
    q = open_queue(db)
    for c in acked:
        assert len(q.procs_of.get(c, [])) == 100, f"acknowledged cluster {c} is not whole"
    for c, procs in q.procs_of.items():
        assert len(procs) == 100, f"cluster {c} is partial ({len(procs)} procs)"
        assert q.lookup(c, 99, "Cmd") == '"/bin/sleep"'
    assert len(acked) >= 20
