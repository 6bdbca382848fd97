"""condor_q's column-at-a-time rendering of a bulk-read query (tools/q.fast_custom_blocks,
cedar/wire_ad.get_ads_bulk) prints exactly what the general rendering prints."""
import pytest

from pyhtc.cedar.codec import Encoder
from pyhtc.cedar.wire_ad import AdColumns, WireAd, get_ads_bulk, put_ad
from pyhtc.client.schedd_query import JobAdBlocks
from pyhtc.tools import q


def _ads(order=(5, 1, 0, 3, 2, 4), cluster=2):
    out = []
    for p in order:
        out.append([("ClusterId", str(cluster)), ("JobStatus", str(1 + p % 3)), ("Owner", '"bob"'),
                    ("ProcId", str(p)), ("F", "1.5" if p % 2 else "0.25"), ("S", '"a%sb"'),
                    ("Q", '"say \\"hi\\""'), ("T", "true" if p else "undefined")])
    return out


def _blocks(ads, crypto=True):
    payloads = [bytes(put_ad(Encoder(crypto), WireAd(a)).data) for a in ads]
    return JobAdBlocks(get_ads_bulk(payloads, crypto))


ARGS = [
    ["-af", "ClusterId", "ProcId", "JobStatus"],
    ["-af", "Owner", "F", "S", "Nope"],
    ["-af:,t", "JobStatus*2", "Owner"],
    ["-af:V", "Owner", "F", "Q"],
    ["-af:r", "Q", "T"],
    ["-af:l", "Owner", "JobStatus"],
    ["-af:n", "ProcId", "Owner"],
    ["-af:j", "ProcId", "Owner"],
    ["-format", "%d.", "ClusterId", "-format", "%d\n", "ProcId"],
    ["-format", "%s|", "MY.Owner", "-format", "%5.2f\n", "F"],
    ["-format", "100%% %s\n", "S"],
]


@pytest.mark.parametrize("args", ARGS)
def test_blocks_render_as_the_general_path(args):
    ads = _ads() + _ads(order=(1, 0), cluster=1)  # out of order: sorted by ClusterId, ProcId
    blocks = _blocks(ads)
    assert all(isinstance(b, AdColumns) for b in blocks)
    o = q.parse_args(args)
    fast = q.fast_custom_blocks(o.custom, blocks)
    slow = q.render(o, [q.fast_classad(WireAd(a)) for a in ads], None, "")
    assert fast == slow
    assert fast == q.fast_custom(o.custom, [WireAd(a) for a in ads])


def test_blocks_with_missing_attributes_and_mixed_blocks():
    ads = _ads()
    ads[2] = [p for p in ads[2] if p[0] != "JobStatus"]  # another count: a block of its own
    ads[4] = ads[4] + [("Extra", "JobStatus + 1")]
    blocks = _blocks(ads)
    assert len(blocks) > 1
    for args in (["-af", "ClusterId", "ProcId", "JobStatus"], ["-af", "Extra", "ProcId"]):
        o = q.parse_args(args)
        slow = q.render(o, [q.fast_classad(WireAd(a)) for a in ads], None, "")
        assert q.fast_custom_blocks(o.custom, blocks) == slow


def test_blocks_with_an_expression_text_use_the_general_renderer():
    ads = _ads()
    ads[1] = [(n, "ProcId * 10" if n == "F" else t) for n, t in ads[1]]
    o = q.parse_args(["-af", "F", "ProcId"])
    slow = q.render(o, [q.fast_classad(WireAd(a)) for a in ads], None, "")
    assert q.fast_custom_blocks(o.custom, _blocks(ads)) == slow
    assert "10 1\n" in slow


def test_blocks_decline_what_fast_custom_declines():
    blocks = _blocks(_ads())
    for args in (["-af", 'strcat(Owner, "x")'], ["-af:h", "Owner"], ["-af", "CurrentTime"]):
        assert q.fast_custom_blocks(q.parse_args(args).custom, blocks) is None
    for pid in ("007", "1\n2", "99999999999999999999"):
        odd = _blocks([[("ClusterId", "1"), ("ProcId", "3")], [("ClusterId", "1"), ("ProcId", pid)]])
        assert isinstance(odd[0], AdColumns)
        assert q.fast_custom_blocks(q.parse_args(["-af", "ProcId"]).custom, odd) is None
