"""Several processes append to one log at once; a reader follows a growing log."""
import os
import subprocess
import sys
import threading
import time

import pytest

from pyhtc.userlog import JobEventLog, JobEventType as T, UserLog, make_event, write_event

from .helpers import assert_same_event, oracle_events

WRITER = r"""
import sys, time
from pyhtc.userlog import UserLog, JobEventType as T
path, cluster, n, go = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
while time.time() < go:
    time.sleep(0.001)
zero = "Usr 0 00:00:00, Sys 0 00:00:00"
with UserLog(path) as log:
    for proc in range(n):
        kind = proc % 4
        if kind == 0:
            log.log(T.SUBMIT, cluster, proc, SubmitHost="<10.0.0.%d:9618>" % cluster,
                    LogNotes="DAG Node: N%d_%d" % (cluster, proc))
        elif kind == 1:
            log.log(T.JOB_HELD, cluster, proc, HoldReason="r" * (proc * 37 % 5000),
                    HoldReasonCode=proc % 48, HoldReasonSubCode=proc)
        elif kind == 2:
            log.log(T.JOB_TERMINATED, cluster, proc, TerminatedNormally=True, ReturnValue=proc % 256,
                    RunLocalUsage=zero, RunRemoteUsage=zero, TotalLocalUsage=zero,
                    TotalRemoteUsage=zero, Cpus=1, RequestCpus=1, CpusUsage=0.5, Memory=proc,
                    RequestMemory=proc)
        else:
            log.log(T.FILE_TRANSFER, cluster, proc, Type=proc % 6 + 1)
"""


def run_writers(path, clusters, per_writer):
    env = dict(os.environ)
    go = time.time() + 1.0
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(path), str(c), str(per_writer),
                               repr(go)], env=env) for c in clusters]
    for p in procs:
        assert p.wait(timeout=60) == 0


def test_many_processes_one_log(tmp_path):
    path = tmp_path / "shared.log"
    clusters, per_writer = [11, 22, 33, 44], 150
    run_writers(path, clusters, per_writer)
    ours = list(JobEventLog(path).events(0))
    theirs = oracle_events(path)
    expected = {(c, p) for c in clusters for p in range(per_writer)}
    assert len(ours) == len(theirs) == len(expected)
    assert {(e.cluster, e.proc) for e in ours} == expected          # each exactly once
    assert {(e.cluster, e.proc) for e in theirs} == expected
    for a, b in zip(theirs, ours):
        assert_same_event(a, b)
    # events of one writer stay in that writer's order
    for c in clusters:
        procs = [e.proc for e in ours if e.cluster == c]
        assert procs == sorted(procs)


def test_threads_share_one_userlog(tmp_path):
    path = tmp_path / "threads.log"
    log = UserLog(path)

    def worker(cluster):
        for proc in range(100):
            log.log(T.JOB_ABORTED, cluster, proc, Reason="x" * (proc * 53))

    threads = [threading.Thread(target=worker, args=(c,)) for c in range(1, 5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    log.close()
    ours = list(JobEventLog(path).events(0))
    assert sorted((e.cluster, e.proc) for e in ours) == [(c, p) for c in range(1, 5)
                                                         for p in range(100)]


def test_reader_follows_growing_log(tmp_path):
    path = tmp_path / "grow.log"
    path.write_text("")
    got = []

    def reader():
        log = JobEventLog(path).events(stop_after=20)
        for ev in log:
            got.append(ev)
            if len(got) == 30:
                break

    t = threading.Thread(target=reader)
    t.start()
    for i in range(30):
        write_event(path, make_event(T.JOB_HELD, 5, i, HoldReason="r", HoldReasonCode=1,
                                     HoldReasonSubCode=0))
        if i % 10 == 0:
            time.sleep(0.1)
    t.join(timeout=20)
    assert not t.is_alive()
    assert [e.proc for e in got] == list(range(30))


def test_partial_event_is_not_returned_until_complete(tmp_path):
    path = tmp_path / "partial.log"
    text = make_event(T.JOB_HELD, 1, 0, when=1_700_000_000, HoldReason="half and half",
                      HoldReasonCode=3, HoldReasonSubCode=0).format()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    os.write(fd, text[:30].encode())
    log = JobEventLog(path)
    with pytest.raises(StopIteration):
        next(log.events(0))
    os.write(fd, text[30:-2].encode())            # everything but the end of "...\n"
    with pytest.raises(StopIteration):
        next(log.events(0))
    os.write(fd, text[-2:].encode())
    os.close(fd)
    ev = next(log.events(0))
    assert ev["HoldReason"] == "half and half"
    assert_same_event(oracle_events(path)[0], ev)


def test_stop_after_waits_then_stops(tmp_path):
    path = tmp_path / "empty.log"
    path.write_text("")
    t0 = time.time()
    with pytest.raises(StopIteration):
        next(JobEventLog(path).events(stop_after=1))
    assert time.time() - t0 < 3          # deadline is int(now) + 1, as in htcondor2


def test_json_log_partial_and_concurrent(tmp_path):
    from pyhtc.userlog.jsonlog import format_event_json
    path = tmp_path / "partial.json.log"
    text = format_event_json(make_event(T.JOB_ABORTED, 2, 0, when=1_700_000_000, Reason="r"))
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    os.write(fd, text[:-3].encode())
    log = JobEventLog(path)
    with pytest.raises(StopIteration):
        next(log.events(0))
    os.write(fd, text[-3:].encode())
    os.close(fd)
    assert next(log.events(0))["Reason"] == "r"

    def worker(cluster):
        with UserLog(path, format_options="JSON") as ul:
            for proc in range(50):
                ul.log(T.JOB_HELD, cluster, proc, HoldReason="{[\"x\"]}" * proc,
                       HoldReasonCode=1, HoldReasonSubCode=proc)

    threads = [threading.Thread(target=worker, args=(c,)) for c in (7, 8, 9)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    rest = list(log.events(0))
    assert sorted((e.cluster, e.proc) for e in rest) == [(c, p) for c in (7, 8, 9)
                                                         for p in range(50)]
    for a, b in zip(oracle_events(path), JobEventLog(path).events(0)):
        assert_same_event(a, b)
