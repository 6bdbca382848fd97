"""condor_q's fast paths give what the general rendering gives: the projection asked for
with -af/-format (queue.cpp: the columns' attribute references plus ClusterId and ProcId)
and the per-cell memo of :func:`pyhtc.tools.q.fast_custom`."""
import pytest

from pyhtc.cedar.wire_ad import WireAd
from pyhtc.tools import q


def _ads():
    out = []
    for p in (5, 1, 0, 3, 2, 4):
        out.append(WireAd([
            ("ClusterId", "2"), ("ProcId", str(p)), ("JobStatus", str(1 + p % 3)),
            ("Owner", '"bob"'), ("Cmd", '"/bin/x y"'),
            ("RequestMemory", "ifThenElse(MemoryUsage =!= undefined, MemoryUsage, 64)"),
            ("MemoryUsage", "12" if p == 3 else "undefined"), ("F", "1.5"),
            ("Q", '"say \\"hi\\""')]))
    return out


@pytest.mark.parametrize("args", [
    ["-af", "ClusterId", "ProcId", "JobStatus"],
    ["-af", "Owner", "Cmd", "RequestMemory", "Nope"],
    ["-af:,t", "JobStatus*2", "Owner"],
    ["-af:V", "Owner", "F", "Q"],
    ["-af:r", "RequestMemory", "Q"],
    ["-af:l", "Owner", "JobStatus"],
    ["-af:n", "ProcId", "Owner"],
    ["-format", "%d.", "ClusterId", "-format", "%d\n", "ProcId"],
    ["-format", "%s|", "MY.Owner", "-format", "%5.2f\n", "F"],
])
def test_fast_custom_matches_general_rendering(args):
    ads = _ads()
    fast = q.fast_custom(q.parse_args(args).custom, ads)
    assert fast is not None
    slow = q.render(q.parse_args(args), [q.fast_classad(w) for w in ads], None, "")
    assert fast == slow
    assert len(fast.splitlines()) >= len(ads)


@pytest.mark.parametrize("args", [["-af", 'strcat(Owner, "x")'], ["-af:h", "Owner"],
                                  ["-af", "CurrentTime"], ["-af", "TARGET.Owner"]])
def test_fast_custom_declines_what_it_cannot_reproduce(args):
    assert q.fast_custom(q.parse_args(args).custom, _ads()) is None


def test_custom_projection_is_the_references_plus_ids():
    o = q.parse_args(["-af", "JobStatus", "strcat(Owner, TARGET.Machine)", "MY.Cmd"])
    assert q.custom_projection(o.custom) == ["ClusterId", "Cmd", "JobStatus", "Machine", "Owner", "ProcId"]
    assert q.custom_projection(q.parse_args(["-af", "ClusterId"]).custom) == ["ClusterId", "ProcId"]
