"""The collector's ad tables: keys, replacement, private ads, invalidation, expiry, queries."""
import pyhtc.classad as C
from pyhtc.cedar.wire_ad import to_classad
from pyhtc.daemons.collector.store import CollectorStore, make_key, table_for_mytype


def q(store, *args, **kw):
    """store.query() with the wire-text results read back as ClassAds."""
    return [to_classad(w.to_wire_ad()) for w in store.query(*args, **kw)]


def slot(name, cpus, addr="<127.0.0.1:9618>", **extra):
    ad = C.ClassAd({"MyType": "Machine", "Name": name, "Cpus": cpus, "MyAddress": addr,
                    "Memory": 1024 * cpus})
    for k, v in extra.items():
        ad[k] = v
    return ad


def query_ad(constraint=None, projection=None, limit=None, target="Machine"):
    q = C.ClassAd({"MyType": "Query", "TargetType": target})
    if constraint is not None:
        q["Requirements"] = C.ExprTree(constraint)
    if projection is not None:
        q["Projection"] = projection
    if limit is not None:
        q["LimitResults"] = limit
    return q


class Clock:
    def __init__(self):
        self.now = 1_700_000_000

    def __call__(self):
        return self.now


def test_keys_follow_hashkey_rules():
    assert make_key("Startd", slot("slot1@h", 1)) == ("slot1@h", "<127.0.0.1:9618>")
    assert make_key("Startd", C.ClassAd({"Machine": "h", "SlotID": 3})) == ("h:3", "")
    assert make_key("Master", C.ClassAd({"Machine": "h"})) == ("h",)
    assert make_key("Generic", C.ClassAd({"MyType": "Foo", "Name": "x"})) == ("foo", "x")
    assert make_key("Startd", C.ClassAd({"Cpus": 1})) is None
    assert table_for_mytype("Scheduler") == "Schedd" and table_for_mytype("Whatever") == "Generic"


def test_update_replaces_and_stamps_last_heard_from():
    clock = Clock()
    s = CollectorStore(clock=clock)
    s.update("Startd", slot("slot1@h", 1), identity="condor@h", method="FS")
    s.update("Startd", slot("slot1@h", 4))
    assert s.count("Startd") == 1
    (ad,) = q(s, ["Startd"], query_ad())
    assert ad["Cpus"] == 4 and ad["LastHeardFrom"] == clock.now
    assert "AuthenticatedIdentity" not in ad  # second update was not authenticated


def test_query_constraint_projection_limit():
    s = CollectorStore()
    for i in range(10):
        s.update("Startd", slot(f"slot{i}@h", i))
    got = q(s, ["Startd"], query_ad("Cpus > 6", "Name Cpus"))
    assert sorted(a["Name"] for a in got) == ["slot7@h", "slot8@h", "slot9@h"]
    assert set(got[0].keys()) == {"Name", "Cpus", "MyType"}
    assert len(s.query(["Startd"], query_ad("true", limit=4))) == 4
    # undefined or non-boolean Requirements select nothing
    assert s.query(["Startd"], query_ad("NoSuchAttr > 1")) == []


def test_private_ads_only_for_private_query():
    s = CollectorStore()
    s.update("Startd", slot("slot1@h", 1), private=C.ClassAd({"Name": "slot1@h", "Capability": "secret"}))
    assert "Capability" not in q(s, ["Startd"], query_ad())[0]
    (pvt,) = q(s, ["Startd"], query_ad(), private=True)
    assert pvt["Capability"] == "secret"


def test_invalidate_by_constraint_and_by_key():
    s = CollectorStore()
    for i in range(5):
        s.update("Startd", slot(f"slot{i}@h", i))
    assert s.invalidate("Startd", query_ad("Cpus >= 3")) == 2
    assert s.invalidate("Startd", C.ClassAd({"Name": "slot0@h", "MyAddress": "<127.0.0.1:9618>"})) == 1
    assert sorted(a["Name"] for a in q(s, ["Startd"], query_ad())) == ["slot1@h", "slot2@h"]


def test_expiry_uses_ad_lifetime_or_default():
    clock = Clock()
    s = CollectorStore(default_lifetime=900, clock=clock)
    s.update("Startd", slot("short@h", 1, ClassAdLifetime=10))
    s.update("Startd", slot("long@h", 1))
    clock.now += 11
    assert s.expire() == [("Startd", ("short@h", "<127.0.0.1:9618>"))]
    clock.now += 900
    assert [k for _, k in s.expire()] == [("long@h", "<127.0.0.1:9618>")]


def test_generic_table_filtered_by_target_type():
    s = CollectorStore()
    s.update("Generic", C.ClassAd({"MyType": "Foo", "Name": "a"}))
    s.update("Generic", C.ClassAd({"MyType": "Bar", "Name": "b"}))
    assert [a["Name"] for a in q(s, ["Generic"], query_ad(target="Foo"))] == ["a"]
    assert len(s.query(["Generic"], query_ad(target="Any"))) == 2


# -- wire-text storage: reference closure, projection from the text, cached evaluation ads --
from pyhtc.cedar.codec import Decoder, Encoder  # noqa: E402
from pyhtc.cedar.wire_ad import WireAd, WireText, get_ad, put_ad  # noqa: E402
from pyhtc.daemons.collector.store import identifiers, is_dynamic, reference_closure  # noqa: E402


def wire(pairs):
    """A WireText as the collector receives it (encoded, then read with as_text)."""
    data = put_ad(Encoder(), WireAd(pairs)).data
    return get_ad(Decoder(data), as_text=True)


def test_reference_closure_follows_the_ads_own_expressions():
    ad = wire([("Name", '"n"'), ("Big", "Memory > 4000 && MY.Fast"), ("Memory", "8000"),
               ("Fast", "KFlops > 10"), ("KFlops", "20"), ("Unrelated", '"x"'),
               ("Note", '"Unrelated words in a string"')])
    got = reference_closure(ad, identifiers("Big && Note != \"\""))
    assert sorted(got) == ["big", "fast", "kflops", "memory", "note"]
    assert got["big"] == ("Big", "Memory > 4000 && MY.Fast")
    # TARGET.x and bare names both count; words inside strings, function names, keywords
    # and scope names do not
    assert identifiers('TARGET.Cpus >= 2 && regexp("Unrelated", Name) && size (X) is true') \
        == {"cpus", "name", "x"}
    # attributes read through a computed name or a whole ad are not known from the text
    assert is_dynamic('eval("Cp" + "us") > 1') and is_dynamic('size(MY) > 3')
    assert is_dynamic("MY[\"Cpus\"]") and not is_dynamic('MY.Cpus > 1 && Name == "my root"')
    assert reference_closure(wire([("X", 'eval("Y")'), ("Y", "1")]), ["X"]) is None


def test_constraints_through_expressions_target_refs_and_eval():
    s = CollectorStore()
    for i in range(6):
        s.update("Startd", wire([("MyType", '"Machine"'), ("Name", f'"slot{i}@h"'),
                                 ("Cpus", str(i)), ("Big", "Cpus * 1000 > MinMem"),
                                 ("MinMem", "2500"), ("MyAddress", '"<1.2.3.4:5>"')]))
    names = lambda qad: sorted(a["Name"] for a in q(s, ["Startd"], qad))  # noqa: E731
    assert names(query_ad("Big")) == ["slot3@h", "slot4@h", "slot5@h"]
    qa = query_ad("Cpus >= TARGET.Want")
    qa["Want"] = 4
    assert names(qa) == ["slot4@h", "slot5@h"]
    assert names(query_ad('eval(strcat("Cp", "us")) == 1')) == ["slot1@h"]
    assert names(query_ad("false")) == [] and len(names(query_ad(None))) == 6


def test_projection_and_full_replies_are_the_stored_text():
    s = CollectorStore()
    req = "TARGET.RequestCpus <= Cpus && (Memory > 10)"  # kept verbatim, never re-printed
    s.update("Startd", wire([("MyType", '"Machine"'), ("Name", '"a@h"'), ("Cpus", "4"),
                             ("Requirements", req), ("Path", '"C:\\dir\\"'),
                             ("MyAddress", '"<1.2.3.4:5>"')]))
    (full,) = s.query(["Startd"], query_ad())
    assert isinstance(full, WireText)
    assert full.expr("Requirements") == req and full.expr("path") == '"C:\\dir\\"'
    (proj,) = s.query(["Startd"], query_ad(projection="requirements, Cpus"))
    assert sorted(proj.pairs()) == sorted([("MyType", '"Machine"'), ("Cpus", "4"),
                                           ("Requirements", req)])
    # the reply bytes are the stored lines, in both string encodings
    for crypto in (False, True):
        back = get_ad(Decoder(proj.encode(crypto), crypto))
        assert back.expr("Requirements") == req and back.get("Cpus") == 4


def test_cached_evaluation_ad_is_dropped_by_an_update():
    s = CollectorStore()
    s.update("Startd", slot("a@h", 4))
    assert [a["Cpus"] for a in q(s, ["Startd"], query_ad(projection="Cpus"))] == [4]
    assert len(s.query(["Startd"], query_ad("Cpus > 2"))) == 1
    (rec,) = s.tables["Startd"].records.values()
    assert rec.evals  # the small evaluation ad was built and kept
    small = rec.evals[frozenset({"cpus"})]
    assert sorted(small.keys()) == ["Cpus"]
    s.update("Startd", slot("a@h", 1))
    (rec2,) = s.tables["Startd"].records.values()
    assert rec2 is not rec and not rec2.evals
    assert s.query(["Startd"], query_ad("Cpus > 2")) == []
    assert len(s.query(["Startd"], query_ad("Cpus == 1"))) == 1
    assert [a["Cpus"] for a in q(s, ["Startd"], query_ad(projection="Cpus"))] == [1]


def test_sender_cannot_claim_an_identity_and_keys_from_expressions():
    s = CollectorStore()
    s.update("Startd", wire([("Name", '"x@h"'), ("AuthenticatedIdentity", '"root@pool"'),
                             ("AuthenticationMethod", '"FS"'), ("MyAddress", '"<1.2.3.4:5>"')]))
    (ad,) = q(s, ["Startd"], query_ad())
    assert "AuthenticatedIdentity" not in ad and "AuthenticationMethod" not in ad
    s.update("Startd", wire([("Name", '"y@h"'), ("MyAddress", '"<1.2.3.4:5>"')]),
             identity="condor@h", method="IDTOKENS")
    (ad,) = q(s, ["Startd"], query_ad('Name == "y@h"'))
    assert ad["AuthenticatedIdentity"] == "condor@h" and ad["AuthenticationMethod"] == "IDTOKENS"
    # projections onto the attributes read at update come from those (same answer)
    got = {a["Name"]: dict(a) for a in q(s, ["Startd"], query_ad(projection="Name AuthenticatedIdentity"))}
    assert got == {"x@h": {"Name": "x@h"},
                   "y@h": {"Name": "y@h", "AuthenticatedIdentity": "condor@h"}}
    # a Name given as an expression is evaluated (hashkey.cpp uses EvaluateAttrString)
    assert make_key("Master", wire([("Machine", '"h"'), ("Name", 'strcat("m@", Machine)')])) \
        == ("m@h",)


def test_ads_with_expressions_that_do_not_parse_are_refused():
    import pytest
    s = CollectorStore()
    good = [("Name", '"g@h"'), ("MyAddress", '"<1.2.3.4:5>"'), ("Start", "Cpus > 1 && KeyboardIdle > 60"),
            ("Path", '"C:\\\\x"'), ("Big", "1.5e3"), ("Flag", "TRUE")]
    s.update("Startd", wire(good))
    with pytest.raises(ValueError, match="attribute Broken does not parse"):
        s.update("Startd", wire([("Name", '"b@h"'), ("Broken", "(Cpus > ")]))
    with pytest.raises(ValueError, match="private Startd ad: attribute ClaimId"):
        s.update("Startd", wire(good), private=wire([("ClaimId", "<bad")]))
    assert [a["Name"] for a in q(s, ["Startd"], query_ad())] == ["g@h"]


def test_remembered_good_lines_do_not_hide_bad_or_repeated_ones():
    import pytest
    s = CollectorStore()
    base = [("MyType", '"Machine"'), ("Start", "Cpus > 1"), ("AuthenticatedIdentity", '"x@y"')]
    for i in range(3):  # the shared lines are remembered after the first ad
        s.update("Startd", wire(base + [("Name", f'"s{i}@h"'), ("MyAddress", '"<1.2.3.4:5>"')]))
    # a bad line among remembered ones is still found, and no key line is ever remembered
    with pytest.raises(ValueError, match="attribute Oops does not parse"):
        s.update("Startd", wire(base + [("Name", '"bad@h"'), ("Oops", "1 +")]))
    with pytest.raises(ValueError, match="no Name"):
        s.update("Startd", wire(base))
    # a Name given twice: the later line wins, as a receiving ClassAd does
    twice = WireText.from_pairs(base + [("Name", '"first@h"'), ("Name", '"second@h"')])
    assert len(twice) == len(base) + 2
    s.update("Startd", twice)
    names = sorted(a["Name"] for a in q(s, ["Startd"], query_ad()))
    assert names == ["s0@h", "s1@h", "s2@h", "second@h"]
    assert all("AuthenticatedIdentity" not in a for a in q(s, ["Startd"], query_ad()))


def test_line_memory_keeps_lines_in_use_across_generations():
    from pyhtc.daemons.collector.store import _LineMemory
    m = _LineMemory(4)
    assert m.unknown([b"a = 1", b"b = 2", b"a = 1", b""]) == [b"a = 1", b"b = 2", b"a = 1"]
    m.add([b"a = 1", b"b = 2"])
    assert m.unknown([b"a = 1", b"c = 3"]) == [b"c = 3"]
    m.add([b"c = 3", b"d = 4"])           # 5 with the empty piece: young becomes old
    assert m.young == {b"", b"c = 3", b"d = 4"} and m.old == {b"", b"a = 1", b"b = 2"}
    assert m.unknown([b"a = 1", b"e = 5"]) == [b"e = 5"]  # a = 1 found in the old one...
    assert b"a = 1" in m.young                             # ...and moved back to the young
    m.add([b"e = 5", b"f = 6", b"g = 7"])  # another turn: the old generation is forgotten
    assert b"b = 2" not in m and b"a = 1" in m
    m.clear()
    assert m.unknown([b"a = 1"]) == [b"a = 1"]


def test_bad_line_found_after_the_memory_turns_over(monkeypatch):
    import pytest
    from pyhtc.daemons.collector import store as S
    monkeypatch.setattr(S, "_GOOD_LINES", S._LineMemory(8))
    s = CollectorStore()
    for i in range(20):  # lines of changing values turn the memory over several times
        s.update("Startd", wire([("Name", f'"s{i}@h"'), ("MyAddress", '"<1.2.3.4:5>"'),
                                 ("Start", "Cpus > 1"), ("LoadAvg", f"0.{i}"), ("Seq", str(i))]))
    assert len(S._GOOD_LINES.young) <= 8 and len(S._GOOD_LINES.old) <= 8
    assert b"Start = Cpus > 1" in S._GOOD_LINES  # in use by every update: kept
    with pytest.raises(ValueError, match="attribute Oops does not parse"):
        s.update("Startd", wire([("Name", '"bad@h"'), ("Start", "Cpus > 1"), ("Oops", "1 +")]))
    # the same key line twice (identical) is fine; different values go the ordered reader
    s.update("Startd", WireText.from_pairs([("Name", '"d@h"'), ("Name", '"d@h"')]))
    assert len(s.query(["Startd"], query_ad('Name == "d@h"'))) == 1
