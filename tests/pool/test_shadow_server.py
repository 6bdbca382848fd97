"""The schedd's shadow server on a personal pool: shadows run as threads of one process
(SHADOW_THREADS), and SHADOW_WORKLIFE retires an old server for a fresh one while jobs run:
every job still completes exactly once, and the old server exits once its last shadow is
done."""
import re

import psutil

from test_fault import LOCAL_CONFIG, _check_completed_once, _drained, _personal_pool, _submit, _wait


def test_shadow_worklife_hands_over_to_a_fresh_server():
    config = LOCAL_CONFIG + "SHADOW_THREADS = True\nSHADOW_WORKLIFE = 1\n"
    with _personal_pool(config) as (root, iwd, layout):
        _submit(layout, root, iwd, "#!/bin/sh\nsleep 1\n", 32)
        _wait("the jobs to complete", lambda: _drained(layout), 120, poll=0.5)
        log = (layout.log / "SchedLog").read_text()
        servers = re.findall(r"Started shadow for job \d+\.\d+ on \S+(?: \(reused claim\))?, "
                             r"thread \d+ of shadow server pid (\d+)", log)
        assert len(servers) == 32, log[-3000:]
        pids = list(dict.fromkeys(servers))          # in order of first use
        assert len(pids) >= 2, f"one shadow server for all jobs: {pids}"
        assert "Retired the shadow server" in log
        # a retired server leaves once its shadows are done (the newest one still serves)
        _wait("the retired shadow servers to exit",
              lambda: not any(psutil.pid_exists(int(p)) for p in pids[:-1]), 20)
        _check_completed_once(layout, iwd, 32, "shadow worklife")
