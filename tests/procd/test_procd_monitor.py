"""ProcFamilyMonitor (in-process library) with real processes."""

import os
import signal
import time

import psutil
import pytest

from pyhtc.procd import ProcFamilyError as E, ProcFamilyMonitor
from pyhtc.procd import pidenvid

from procd_helpers import IS_ROOT, cgroup_modes, dead, wait_until

CG_MODES = cgroup_modes()
needs_root = pytest.mark.skipif(not IS_ROOT, reason="needs root")


def orphaned(pid, former_parent):
    """Wait until ``pid`` no longer has ``former_parent`` as parent."""
    return wait_until(lambda: psutil.Process(pid).ppid() != former_parent, 5)


def test_double_forked_grandchild_found_by_environment_and_killed(monitor, spawner):
    env, cookie = pidenvid.new_child_environment()
    p = spawner.start("doublefork", env=env)
    assert monitor.register_subfamily(p.pid, os.getpid(), -1) == E.SUCCESS
    assert monitor.track_family_via_environment(p.pid, [cookie]) == E.SUCCESS
    spawner.go(p)
    gc = int(spawner.readline(p))
    spawner.remember(gc)
    ppid = psutil.Process(gc).ppid()
    assert ppid != p.pid  # left its parent: reparented to init or a subreaper
    monitor.snapshot()
    assert monitor.family_of(gc) == p.pid
    assert monitor.method_of(gc) == "ENV"
    assert monitor.get_usage(p.pid)[1].num_procs == 2
    assert monitor.kill_family(p.pid) == E.SUCCESS
    assert wait_until(lambda: dead(gc) and dead(p.pid), 3)


def test_double_forked_grandchild_escapes_without_tracker(monitor, spawner):
    """Control: parent-pid tracking alone cannot see the orphan."""
    p = spawner.start("doublefork")
    assert monitor.register_subfamily(p.pid, os.getpid(), -1) == E.SUCCESS
    spawner.go(p)
    gc = int(spawner.readline(p))
    spawner.remember(gc)
    monitor.snapshot()
    assert monitor.family_of(gc) != p.pid


@pytest.mark.parametrize("mode", CG_MODES or ["none"])
def test_double_forked_grandchild_found_by_cgroup_and_cgroup_removed(mode, base_cgroup, spawner):
    if mode == "none":
        pytest.skip("no usable cgroups")
    mon = ProcFamilyMonitor(max_snapshot_interval=-1, base_cgroup=base_cgroup, cgroup_mode=mode)
    try:
        p = spawner.start("doublefork")
        assert mon.register_subfamily(p.pid, os.getpid(), -1) == E.SUCCESS
        assert mon.track_family_via_cgroup(p.pid, "job_1_0") == E.SUCCESS
        cg = mon.family_cgroup(p.pid)
        assert cg.created and p.pid in cg.procs()
        spawner.go(p)
        gc = int(spawner.readline(p))
        spawner.remember(gc)
        assert psutil.Process(gc).ppid() != p.pid
        assert gc in cg.procs()
        mon.snapshot()
        assert mon.family_of(gc) == p.pid
        assert mon.method_of(gc) == "CGROUP"
        assert mon.kill_family(p.pid) == E.SUCCESS
        assert wait_until(lambda: dead(gc) and dead(p.pid), 3)
        dirs = list(cg.dirs.values()) if mode == "v1" else [cg.path]
        assert all(os.path.isdir(d) for d in dirs)
        assert mon.unregister_family(p.pid) == E.SUCCESS
        assert not any(os.path.exists(d) for d in dirs)
    finally:
        mon.shutdown()


def _cpu(mon, pid):
    err, u = mon.get_usage(pid)
    assert err == E.SUCCESS
    return u.user_cpu_time + u.sys_cpu_time


@pytest.mark.parametrize("mode", ["signals"] + CG_MODES)
def test_suspended_family_uses_no_cpu_until_continued(mode, base_cgroup, spawner):
    mon = ProcFamilyMonitor(max_snapshot_interval=-1, base_cgroup=base_cgroup,
                            cgroup_mode=None if mode == "signals" else mode)
    try:
        p = spawner.start("spin")
        assert mon.register_subfamily(p.pid, os.getpid(), -1) == E.SUCCESS
        if mode != "signals":
            assert mon.track_family_via_cgroup(p.pid, "spin") == E.SUCCESS
        assert wait_until(lambda: _cpu(mon, p.pid) > 0.1, 5)
        assert mon.get_usage(p.pid)[1].num_procs == 2
        assert mon.suspend_family(p.pid) == E.SUCCESS
        c1 = _cpu(mon, p.pid)
        time.sleep(0.6)
        c2 = _cpu(mon, p.pid)
        assert c2 - c1 < 0.05, (c1, c2)
        assert mon.continue_family(p.pid) == E.SUCCESS
        # running again (the host may be busy: allow a few seconds)
        assert wait_until(lambda: _cpu(mon, p.pid) - c2 > 0.2, 5, 0.05), (c2, _cpu(mon, p.pid))
        assert mon.kill_family(p.pid) == E.SUCCESS
        assert mon.unregister_family(p.pid) == E.SUCCESS
    finally:
        mon.shutdown()


def test_cpu_of_exited_children_is_counted(monitor, spawner):
    """Two children burn 0.5 s each and exit between snapshots."""
    p = spawner.start("children_burn", 2, 0.5)
    assert monitor.register_subfamily(p.pid, os.getpid(), -1) == E.SUCCESS
    spawner.go(p)
    assert spawner.readline(p) == "done"
    err, u = monitor.get_usage(p.pid)
    assert u.num_procs == 1
    assert u.user_cpu_time + u.sys_cpu_time >= 0.9, u


def test_cpu_of_exited_members_is_remembered(monitor, spawner):
    """Children seen alive by a snapshot, then exited: still counted."""
    p = spawner.start("children_burn", 2, 0.5)
    assert monitor.register_subfamily(p.pid, os.getpid(), -1) == E.SUCCESS
    spawner.go(p)
    assert wait_until(lambda: monitor.get_usage(p.pid)[1].num_procs == 3, 3)
    assert spawner.readline(p) == "done"
    u = monitor.get_usage(p.pid)[1]
    assert u.num_procs == 1
    assert u.user_cpu_time + u.sys_cpu_time >= 0.9, u


@pytest.mark.parametrize("mode", CG_MODES or ["none"])
def test_cpu_of_exited_orphan_counted_via_cgroup(mode, base_cgroup, spawner):
    """A double-forked grandchild burns 1 s and is reaped by init before any
    snapshot sees it: only the cgroup's accounting knows."""
    if mode == "none":
        pytest.skip("no usable cgroups")
    mon = ProcFamilyMonitor(max_snapshot_interval=-1, base_cgroup=base_cgroup, cgroup_mode=mode)
    try:
        p = spawner.start("doublefork_burn", 1.0)
        assert mon.register_subfamily(p.pid, os.getpid(), -1) == E.SUCCESS
        assert mon.track_family_via_cgroup(p.pid, "burn") == E.SUCCESS
        spawner.go(p)
        gc = int(spawner.readline(p))
        spawner.remember(gc)
        assert wait_until(lambda: dead(gc), 5)
        assert _cpu(mon, p.pid) >= 0.9
    finally:
        mon.shutdown()


def test_nested_subfamily_reporting_and_kill(monitor, spawner):
    p = spawner.start("tree", wait_ready=False)
    child, gc = (int(x) for x in spawner.readline(p).split())
    spawner.remember(child, gc)
    assert monitor.register_subfamily(p.pid, os.getpid(), -1) == E.SUCCESS
    assert monitor.family_of(gc) == p.pid
    assert monitor.register_subfamily(child, os.getpid(), -1) == E.SUCCESS
    # the grandchild is reported under the innermost family
    assert monitor.family_of(child) == child
    assert monitor.family_of(gc) == child
    err, dump = monitor.dump(p.pid)
    fams = {d.root_pid: d for d in dump}
    assert fams[child].parent_root == p.pid
    assert {x.pid for x in fams[p.pid].procs} == {p.pid}
    assert {x.pid for x in fams[child].procs} == {child, gc}
    assert monitor.get_usage(child)[1].num_procs == 2
    assert monitor.get_usage(p.pid)[1].num_procs == 3
    # a registration inside the parent after the fact: nested twice
    assert monitor.register_subfamily(gc, child, -1) == E.SUCCESS
    assert monitor.dump(gc)[1][0].parent_root == child
    assert monitor.kill_family(p.pid) == E.SUCCESS
    assert wait_until(lambda: all(dead(x) for x in (p.pid, child, gc)), 3)


def test_unregister_folds_into_parent(monitor, spawner):
    p = spawner.start("tree", wait_ready=False)
    child, gc = (int(x) for x in spawner.readline(p).split())
    spawner.remember(child, gc)
    monitor.register_subfamily(p.pid, os.getpid(), -1)
    monitor.register_subfamily(child, os.getpid(), -1)
    assert monitor.unregister_family(child) == E.SUCCESS
    assert monitor.family_of(gc) == p.pid
    assert monitor.unregister_family(child) == E.FAMILY_NOT_FOUND
    assert monitor.unregister_family(os.getpid()) == E.UNREGISTER_ROOT


def test_watcher_death_unregisters_family(monitor, spawner):
    watcher = spawner.start("sleep")
    p = spawner.start("sleep")
    assert monitor.register_subfamily(p.pid, watcher.pid, -1) == E.SUCCESS
    watcher.kill()
    watcher.wait()
    monitor.snapshot()
    assert monitor.family_of(p.pid) == os.getpid()
    assert monitor.dump(p.pid)[0] == E.FAMILY_NOT_FOUND


def _with_cookie(cookie):
    name, _, value = cookie.partition("=")
    out = []
    for proc in psutil.process_iter(["pid", "environ", "status"]):
        env = proc.info["environ"] or {}
        if env.get(name) == value and proc.info["status"] != psutil.STATUS_ZOMBIE:
            out.append(proc.info["pid"])
    return out


def test_kill_family_leaves_no_survivor_of_a_fork_loop(monitor, spawner):
    """A process forking orphans in a loop: after KILL_FAMILY nothing carrying
    the family's cookie is left (checked with psutil over the whole system)."""
    env, cookie = pidenvid.new_child_environment()
    p = spawner.start("forkbomb", env=env)
    assert monitor.register_subfamily(p.pid, os.getpid(), -1) == E.SUCCESS
    assert monitor.track_family_via_environment(p.pid, [cookie]) == E.SUCCESS
    assert wait_until(lambda: len(_with_cookie(cookie)) > 5, 5)
    monitor.snapshot()
    members = {x.pid for f in monitor.dump(p.pid)[1] for x in f.procs}
    assert len(members) > 5
    spawner.remember(*members)
    try:
        assert monitor.kill_family(p.pid) == E.SUCCESS
        assert _with_cookie(cookie) == []
        assert monitor.get_usage(p.pid)[1].num_procs == 0
    finally:
        spawner.remember(*_with_cookie(cookie))


def test_signal_process(monitor, spawner):
    p = spawner.start("sleep")
    assert monitor.register_subfamily(p.pid, os.getpid(), -1) == E.SUCCESS
    assert monitor.signal_process(p.pid, signal.SIGTERM) == E.SUCCESS
    assert p.wait(timeout=5) == -signal.SIGTERM
    assert monitor.signal_process(1, signal.SIGTERM) == E.PROCESS_NOT_FAMILY
    assert monitor.signal_process(p.pid, 0) == E.BAD_REQUEST


def test_register_errors(monitor, spawner):
    p = spawner.start("sleep")
    assert monitor.register_subfamily(0, 0, -1) == E.BAD_ROOT_PID
    assert monitor.register_subfamily(p.pid, -1, -1) == E.BAD_WATCHER_PID
    assert monitor.register_subfamily(p.pid, 0, -2) == E.BAD_SNAPSHOT_INTERVAL
    assert monitor.register_subfamily(1, 0, -1) == E.PROCESS_NOT_FAMILY
    assert monitor.register_subfamily(p.pid, 0, 5) == E.SUCCESS
    assert monitor.register_subfamily(p.pid, 0, 5) == E.ALREADY_REGISTERED
    assert monitor.get_snapshot_interval() == 5
    assert monitor.track_family_via_environment(p.pid, ["FOO=1"]) == E.BAD_ENVIRONMENT_INFO
    assert monitor.track_family_via_environment(12345678, [pidenvid.format_envid(1, 2)[0] + "=2:3:4"]) \
        == E.FAMILY_NOT_FOUND
    assert monitor.track_family_via_login(p.pid, "no-such-user-xyz") == E.BAD_LOGIN_INFO
    assert monitor.kill_family(12345678) == E.FAMILY_NOT_FOUND
    assert monitor.get_usage(12345678)[0] == E.FAMILY_NOT_FOUND


@pytest.mark.skipif(not IS_ROOT, reason="needs root to change uid")
def test_track_by_login(monitor, spawner):
    uid = 47123  # an unused uid
    p0 = spawner.start("sleep")
    assert monitor.register_subfamily(p0.pid, os.getpid(), -1) == E.SUCCESS
    assert monitor.track_family_via_login(p0.pid, str(uid)) == E.SUCCESS
    other = spawner.start("sleep_as", uid)
    monitor.snapshot()
    assert monitor.family_of(other.pid) == p0.pid
    assert monitor.method_of(other.pid) == "LOGIN"
    assert monitor.kill_family(p0.pid) == E.SUCCESS
    assert wait_until(lambda: dead(other.pid), 3)


@pytest.mark.skipif(not IS_ROOT, reason="needs root to set supplementary groups")
def test_track_by_allocated_supplementary_group(monitor, spawner):
    p0 = spawner.start("sleep")
    monitor.register_subfamily(p0.pid, os.getpid(), -1)
    err, gid = monitor.track_family_via_allocated_supplementary_group(p0.pid)
    assert err == E.SUCCESS and 47000 <= gid <= 47002
    assert monitor.track_family_via_associated_supplementary_group(p0.pid, gid) == E.NO_GROUP_ID_AVAILABLE
    tagged = spawner.start("sleep", preexec_fn=lambda: os.setgroups([gid]))
    monitor.snapshot()
    assert monitor.family_of(tagged.pid) == p0.pid
    assert monitor.method_of(tagged.pid) == "GROUP"
    # exhaust the 3-gid range
    assert monitor.track_family_via_allocated_supplementary_group(0)[0] == E.SUCCESS
    assert monitor.track_family_via_associated_supplementary_group(0, 47002) == E.SUCCESS
    assert monitor.track_family_via_allocated_supplementary_group(0) == (E.NO_GROUP_ID_AVAILABLE, 0)
    assert monitor.track_family_via_associated_supplementary_group(0, 1) == E.NO_GROUP_ID_AVAILABLE


def test_usage_sizes(monitor, spawner):
    p = spawner.start("sleep")
    monitor.register_subfamily(p.pid, os.getpid(), -1)
    u = monitor.get_usage(p.pid)[1]
    rss = psutil.Process(p.pid).memory_info().rss // 1024
    assert u.num_procs == 1
    assert abs(u.total_resident_set_size - rss) < 2048
    assert u.max_image_size >= u.total_image_size > 0
    assert u.max_resident_set_size >= u.total_resident_set_size


def _memory_capable(mode):
    from pyhtc.procd import cgroups
    if mode == "v1":
        return "memory" in cgroups.v1_mounts()
    mnt = cgroups.v2_mount()
    return bool(mnt) and "memory" in open(os.path.join(mnt, "cgroup.controllers")).read().split()


@pytest.mark.parametrize("mode", [m for m in CG_MODES if _memory_capable(m)] or ["none"])
def test_cgroup_memory_limit_and_peak(mode, base_cgroup, spawner):
    """The family cgroup's memory limit is enforced (the kernel OOM-kills the
    job) and the peak shows up as max_resident_set_size."""
    if mode == "none":
        pytest.skip("no cgroup memory controller")
    mon = ProcFamilyMonitor(max_snapshot_interval=-1, base_cgroup=base_cgroup, cgroup_mode=mode)
    try:
        p = spawner.start("alloc", 200)
        assert mon.register_subfamily(p.pid, os.getpid(), -1) == E.SUCCESS
        assert mon.track_family_via_cgroup(p.pid, "mem") == E.SUCCESS
        mon.family_cgroup(p.pid).set_memory_limit(64 * 1024 * 1024)
        spawner.go(p)
        assert p.wait(timeout=10) == -signal.SIGKILL
        u = mon.get_usage(p.pid)[1]
        assert u.num_procs == 0
        assert 32 * 1024 <= u.max_resident_set_size <= 64 * 1024 + 1024, u
    finally:
        mon.shutdown()


def test_final_cpu_of_a_reaped_subfamily_root(monitor, spawner):
    """The job (subfamily root) burns 1 s and exits between snapshots; its
    reaper (this test, in the root family) waits for it.  Usage keeps the
    job's full CPU (from the reaper's cutime growth), not the last-seen value,
    and the root family does not count it a second time."""
    import subprocess
    import sys
    code = "import time\nt=time.process_time()\nwhile time.process_time()-t<1.0: pass\n"
    job = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.readline()\n" + code],
                           stdin=subprocess.PIPE)
    spawner.popens.append(job)
    spawner.remember(job.pid)
    assert monitor.register_subfamily(job.pid, os.getpid(), -1) == E.SUCCESS
    assert monitor.get_usage(job.pid)[1].user_cpu_time < 0.5
    root_before = sum(monitor.root.own_cpu())
    job.stdin.write(b"go\n")
    job.stdin.close()
    assert job.wait(timeout=20) == 0
    u = monitor.get_usage(job.pid)[1]
    assert u.user_cpu_time + u.sys_cpu_time >= 0.95, u
    assert sum(monitor.root.own_cpu()) - root_before < 0.5


def test_periodic_snapshots_track_without_explicit_calls(monitor, spawner):
    """With periodic snapshots running, a process that double-forks *after*
    a snapshot saw its intermediate parent is claimed by the parent tracker
    (no cookie, no cgroup) -- what the snapshot interval is for."""
    p = spawner.start("tree", wait_ready=False)
    child, gc = (int(x) for x in spawner.readline(p).split())
    spawner.remember(child, gc)
    assert monitor.register_subfamily(p.pid, os.getpid(), -1) == E.SUCCESS
    monitor.start_periodic_snapshots(0.05)
    q = spawner.start("sleep")
    assert wait_until(lambda: monitor.family_of(q.pid) == os.getpid(), 3)
    # the intermediate process dies: its child (seen already) stays in the family
    os.kill(child, 9)
    assert wait_until(lambda: psutil.Process(gc).ppid() != child, 3)
    time.sleep(0.2)
    assert monitor.family_of(gc) == p.pid
    assert monitor.method_of(gc) == "PARENT"


def test_without_cgroups_tracking_by_cgroup_is_refused_and_signals_still_work(monitor, spawner, monkeypatch):
    """Non-root / no cgroupfs: TRACK_FAMILY_VIA_CGROUP answers
    NO_CGROUP_ID_AVAILABLE and the family is still suspended/killed by signals."""
    from pyhtc.procd import cgroups
    monkeypatch.setattr(cgroups, "detect_mode", lambda: None)
    p = spawner.start("tree", wait_ready=False)
    child, gc = (int(x) for x in spawner.readline(p).split())
    spawner.remember(child, gc)
    assert monitor.register_subfamily(p.pid, os.getpid(), -1) == E.SUCCESS
    assert monitor.track_family_via_cgroup(p.pid, "nope") == E.NO_CGROUP_ID_AVAILABLE
    assert monitor.track_family_via_cgroup(p.pid, "../x") == E.NO_CGROUP_ID_AVAILABLE
    assert monitor.suspend_family(p.pid) == E.SUCCESS
    assert wait_until(lambda: all(psutil.Process(x).status() == psutil.STATUS_STOPPED
                                  for x in (p.pid, child, gc)), 2)
    assert monitor.continue_family(p.pid) == E.SUCCESS
    assert wait_until(lambda: all(psutil.Process(x).status() != psutil.STATUS_STOPPED
                                  for x in (p.pid, child, gc)), 2)
    assert monitor.kill_family(p.pid) == E.SUCCESS
    assert wait_until(lambda: all(dead(x) for x in (p.pid, child, gc)), 3)
