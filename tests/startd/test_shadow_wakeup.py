"""The starter nudges the shadow through a FIFO after each file it mirrors for it
(shadow/main.py Wakeup, starter/main.py Starter.mirror_for_shadow): the shadow wakes at
once instead of at its next poll, and without a FIFO the starter still writes its files."""
import sys
import threading
import time

from pyhtc import classad as C
from pyhtc.daemoncore.log import DebugLog
from pyhtc.daemons.shadow.main import Wakeup, read_ad
from pyhtc.daemons.starter.main import Starter


def _starter(result_file, tmp_path):
    job = C.ClassAd({"_condor_ShadowResultFile": str(result_file)})
    return Starter("slot1", job, C.ClassAd(), str(tmp_path), None, DebugLog(stream=sys.stderr))


def test_mirrored_result_wakes_the_shadow_at_once(tmp_path):
    result = tmp_path / "job.report.starter"
    wake = Wakeup(str(result) + ".fifo")
    st = _starter(result, tmp_path)
    try:
        t0 = time.monotonic()
        threading.Timer(0.2, st.mirror_for_shadow, ("", C.ClassAd({"Outcome": "Exited"}))).start()
        wake.wait(10.0)
        waited = time.monotonic() - t0
        assert 0.15 <= waited < 2.0
        assert read_ad(str(result))["Outcome"] == "Exited"
        # the nudge was consumed: the next wait sleeps its whole timeout
        t0 = time.monotonic()
        wake.wait(0.3)
        assert time.monotonic() - t0 >= 0.25
    finally:
        wake.close()
    assert not (tmp_path / "job.report.starter.fifo").exists()


def test_without_a_fifo_the_starter_still_writes_and_the_shadow_polls(tmp_path):
    result = tmp_path / "r"
    st = _starter(result, tmp_path)
    st.mirror_for_shadow(".update", C.ClassAd({"ImageSize": 10}))
    assert read_ad(str(result) + ".update")["ImageSize"] == 10
    wake = Wakeup(str(tmp_path / "missing-dir" / "x.fifo"))   # cannot be made
    t0 = time.monotonic()
    wake.wait(0.2)
    assert time.monotonic() - t0 >= 0.15
    wake.close()
