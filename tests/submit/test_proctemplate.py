"""Many procs from one template ad (pyhtc.submit.proctemplate): the same job ads as building
every proc in full, and a fall back to the full build whenever substitution is not provably
right (macro functions, per-proc values of commands that are not plain text, odd values)."""
import pytest

import pyhtc.submit.submit as S
from pyhtc.submit import Submit
from pyhtc.submit.proctemplate import TemplateAds


def _both(desc: dict, monkeypatch, **kw):
    fast = Submit(desc).cluster(clusterid=7, qdate=1000, **kw)
    monkeypatch.setattr(S, "TEMPLATE_MIN_PROCS", 10 ** 9)
    slow = Submit(desc).cluster(clusterid=7, qdate=1000, **kw)
    monkeypatch.setattr(S, "TEMPLATE_MIN_PROCS", 4)
    return fast, slow


BASE = {"executable": "/bin/sleep", "request_memory": "64"}


@pytest.mark.parametrize("extra, kw", [
    ({"arguments": "600", "output": "out.$(Process)", "error": "err.$(ProcId)"}, {"count": 30}),
    ({"arguments": "$(Process) $(Step) x$(Item)", "+Tag": '"t$(Process)"', "+N": "$(Process) + 1",
      "output": "o.$(Cluster).$(Process)", "log": "l.$(JobId)"}, {"count": 25}),
    ({"arguments": "$(Item)", "output": "$(Item).out"}, {"itemdata": [f"it{i}" for i in range(12)]}),
    ({"arguments": "$(a) $(b)", "mymacro": "pre_$(a)", "output": "$(mymacro)"},
     {"itemdata": [{"a": f"x{i}", "b": str(i)} for i in range(9)]}),
])
def test_template_gives_the_full_build(extra, kw, monkeypatch):
    fast, slow = _both({**BASE, **extra}, monkeypatch, **kw)
    assert isinstance(fast.full_ads, TemplateAds)
    assert not isinstance(slow.full_ads, TemplateAds)
    assert list(fast.full_ads) == list(slow.full_ads)
    assert list(fast.proc_ads) == list(slow.proc_ads)
    assert fast.cluster_ad == slow.cluster_ad
    assert len(fast.proc_ads) == len(slow.proc_ads) and fast.proc_ads[-1] == slow.proc_ads[-1]


@pytest.mark.parametrize("extra, kw", [
    ({"arguments": "$INT(Process)"}, {"count": 10}),                  # a macro function
    ({"arguments": "$RANDOM_CHOICE(a,b,c)"}, {"count": 10}),          # differs without a live var
    ({"priority": "$(Process)"}, {"count": 10}),                      # not a text command
    ({"hold": "$(Item)"}, {"itemdata": ["false"] * 5 + ["true"] + ["false"] * 5}),
    ({"arguments": "$(Item)"}, {"itemdata": ["a", "b", "c d", "e", "f"]}),   # a space: re-split
    ({"+X": "$(Item)"}, {"itemdata": ["1", "2", "x", "4", "5"]}),    # non-integer in an expression
])
def test_template_declined(extra, kw, monkeypatch):
    desc = {**BASE, **extra}
    fast, slow = _both(desc, monkeypatch, **kw)
    assert not isinstance(fast.full_ads, TemplateAds)
    if "RANDOM" not in str(extra):
        assert list(fast.full_ads) == list(slow.full_ads)
