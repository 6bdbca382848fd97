"""HTCondor-format debug log: categories, header flags, rotation."""
import re

from pyhtc.daemoncore.log import DebugLog, parse_debug_flags


def test_parse_debug_flags():
    levels, header = parse_debug_flags("D_FULLDEBUG D_COMMAND:1 D_PID D_CAT")
    assert levels["D_COMMAND"] == 2 and levels["D_ALWAYS"] == 2
    assert header == {"D_PID", "D_CAT"}
    levels, _ = parse_debug_flags("")
    assert levels.get("D_COMMAND", 0) == 0 and levels["D_ALWAYS"] == 1


def test_format_and_category_filtering(tmp_path):
    p = tmp_path / "CollectorLog"
    log = DebugLog(str(p), debug="D_COMMAND D_PID D_CAT")
    log.dprintf("D_ALWAYS", "** condor_collector STARTING UP")
    log.dprintf("D_SECURITY", "not enabled")
    log.dprintf("D_COMMAND", "two\nlines")
    log.dprintf("D_FULLDEBUG", "verbose, not enabled")
    log.close()
    lines = p.read_text().splitlines()
    assert len(lines) == 3
    pat = re.compile(r"^\d\d/\d\d/\d\d \d\d:\d\d:\d\d \(pid:\d+\) \(D_(ALWAYS|COMMAND)\) ")
    assert all(pat.match(line) for line in lines), lines
    assert lines[0].endswith("** condor_collector STARTING UP")


def test_rotation_single_old(tmp_path):
    p = tmp_path / "ScheddLog"
    log = DebugLog(str(p), max_bytes=200, max_num=1)
    for i in range(20):
        log.dprintf("D_ALWAYS", "message number %d" % i)
    log.close()
    assert (tmp_path / "ScheddLog.old").exists()
    assert p.stat().st_size <= 200
    text = (tmp_path / "ScheddLog.old").read_text() + p.read_text()
    assert "message number 19" in p.read_text()
    assert "message number 10" in text


def test_rotation_keeps_max_num_timestamped(tmp_path, monkeypatch):
    import time as _time

    p = tmp_path / "StartLog"
    clock = [1_700_000_000]
    monkeypatch.setattr(_time, "localtime", lambda *a: _time.gmtime(clock[0]))
    log = DebugLog(str(p), max_bytes=100, max_num=2)
    for i in range(12):
        clock[0] += 1
        log.dprintf("D_ALWAYS", "entry %02d padding padding" % i)
    log.close()
    rotated = sorted(f.name for f in tmp_path.iterdir() if f.name.startswith("StartLog."))
    assert len(rotated) == 2
    assert all(re.fullmatch(r"StartLog\.\d{8}T\d{6}", r) for r in rotated)
