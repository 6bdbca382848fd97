"""The shadow's job ad file fast path (pyhtc.daemons.shadow.jobad): the lines the schedd
wrote go to the startd as they are only when that gives exactly what parsing the file and
unparsing it (read_ad + from_classad, the slow path) gives, and the attributes the shadow
reads from a projection equal those of the whole ad."""
import json

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from pyhtc import classad as C
from pyhtc.cedar.wire_ad import WireAd, from_classad, to_classad
from pyhtc.daemoncore.adfile import read_ad
from pyhtc.daemoncore.adfile import read_text as _read_text
from pyhtc.daemoncore.handoff import PRINTOLD_MARK, write_job_ad
from pyhtc.daemons.shadow.jobad import JobAdFile, literals_only, wire_pairs


def read_text(path):
    return _read_text(path, "utf-8", "surrogateescape")


def slow_pairs(text: str) -> list:
    return list(from_classad(C.parseOne(text, C.ParserType.Old)))


def check(text: str) -> bool:
    """Assert the fast path agrees with the slow one; True when it was taken.  Agreeing:
    the same names in the same order, and the receiver (to_classad, as the startd and the
    starter read a wire ad) gets the same ad; the texts themselves differ only where the
    slow path's second unparse rewrites a value, e.g. a real printOld() rounded to
    16 digits beyond the double range, ``1.797693134862316E+308``, that reads back as
    ``real("INF")``."""
    text = PRINTOLD_MARK + text
    fast = wire_pairs(text)
    if fast is not None:
        slow = slow_pairs(text)
        assert [n for n, _ in fast] == [n for n, _ in slow], text
        if fast != slow:
            assert to_classad(WireAd(fast)).printOld() == to_classad(WireAd(slow)).printOld(), text
    return fast is not None


def corpus_exprs(shared_dir) -> list:
    out = []
    for line in open(shared_dir / "classad" / "corpus" / "public.jsonl"):
        expr = json.loads(line)["expr"]
        try:
            out.append(C.ExprTree(expr))
        except Exception:
            continue
    return out


def test_corpus_expressions_as_printold_writes_them(shared_dir):
    """Every expression of the shared ClassAd corpus, as an attribute of a job ad written
    by printOld(): the fast path is taken for most and always agrees with the slow one."""
    exprs = corpus_exprs(shared_dir)
    assert len(exprs) > 1000
    taken = 0
    for i in range(0, len(exprs), 40):
        ad = C.ClassAd({"MyType": "Job", "TargetType": "Machine", "ClusterId": 3})
        for j, e in enumerate(exprs[i:i + 40]):
            ad[f"A{j}"] = e
        taken += check(ad.printOld())
        for j, e in enumerate(exprs[i:i + 40]):   # one attribute an ad: finer coverage
            taken += check(C.ClassAd({f"A{j}": e}).printOld())
    assert taken > len(exprs) // 2


def test_real_ads(shared_dir):
    n = 0
    for path in sorted((shared_dir / "real" / "ads").iterdir()):
        if path.suffix not in (".ad", ".ads"):
            continue
        for ad in C.parseAds(path.read_text()):
            n += check(ad.printOld())
    assert n >= 5


@pytest.mark.parametrize("text", [
    'A = "x\ny"\nB = 2\n',                    # a string holding a line break
    'A = "x\nB = 3"\nC = 1\n',                # ... whose second line looks like an attribute
    'B = "back\\slash"\n',                    # backslash: old-syntax escaping rules
    "'odd name' = 3\n",                       # quoted attribute name
    "# comment\nA = 1\n",
    "A = 1\n\nB = 2\n",                       # blank line: two ads merged
    "A = 1\nA = 2\n", "A = 1\na = 2\n",       # a name twice
    "A = 1 \n", "A =  1\n", "A=1\n",          # other spacing
    "A = 1",                                  # no final newline
    "A = 1\r\n",
    'A = absTime("2024-01-01T00:00:00Z")\n', "A = relTime(60)\n",
    "odd name = 3\n",
])
def test_unusual_text_takes_the_slow_path(text):
    assert wire_pairs(PRINTOLD_MARK + text) is None


def test_only_files_write_job_ad_wrote_take_the_fast_path(tmp_path):
    """A value printOld() never writes (it does not parse) is only trusted behind the mark."""
    assert wire_pairs("A = 1\n") is None
    assert wire_pairs("A = (1\n") is None
    assert wire_pairs(PRINTOLD_MARK + "A = 1\n") == [("A", "1")]
    ad = C.ClassAd({"A": 1, "Iwd": "/x", "R": C.ExprTree('TARGET.Arch == "X86_64"')})
    write_job_ad(str(tmp_path / "j"), ad)
    assert (tmp_path / "j").stat().st_mode & 0o777 == 0o600
    assert read_ad(str(tmp_path / "j")) == ad
    assert wire_pairs(read_text(str(tmp_path / "j"))) == list(from_classad(ad))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(
    st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,12}", fullmatch=True),
    st.one_of(st.integers(-2**63, 2**63 - 1), st.booleans(), st.text(max_size=30),
              st.floats(allow_nan=False), st.lists(st.one_of(st.integers(), st.text(max_size=5)),
                                                   max_size=4)),
    max_size=12))
def test_random_ads_agree(values):
    try:
        ad = C.ClassAd(values)
    except Exception:
        return
    check(ad.printOld())


JOB = ('MyType = "Job"\nIwd = "/tmp/x y"\nCmd = "/bin/true"\nRequestCpus = 1\n'
       'RequestMemory = ifthenelse(MemoryUsage =!= undefined, MemoryUsage, 1)\n'
       'OnExitRemove = ExitCode =?= 0\nOnExitHold = false\nUserLog = "/tmp/l.log"\n'
       'Requirements = (TARGET.Arch == "X86_64") && (TARGET.Memory >= RequestMemory)\n'
       'NumJobCompletions = 2\nShouldTransferFiles = "NO"\n')


@pytest.mark.parametrize("text, fast", [(JOB, True), (JOB + 'Weird = "a\\b"\n', False)])
def test_job_ad_file(tmp_path, text, fast):
    path = tmp_path / "job.ad"
    write_job_ad(str(path), C.parseOne(text, C.ParserType.Old))
    job = JobAdFile(str(path))
    assert (job.pairs is not None) == fast
    full = read_ad(str(path))
    assert job.full() == full
    assert list(job.wire()) == list(from_classad(full))
    names = ("Iwd", "UserLog", "RequestCpus", "RequestMemory", "OnExitRemove", "OnExitHold",
             "NumJobCompletions", "ShouldTransferFiles", "Absent")
    proj = job.project(names)
    for n in names:
        assert (n in proj) == (n in full)
        if n in full:
            assert proj.lookup(n) == full.lookup(n)
            assert proj.get(n) == full.get(n)
    assert literals_only(proj, ("RequestCpus", "OnExitHold", "Absent", "UserLog"))
    assert not literals_only(proj, ("RequestCpus", "RequestMemory"))
    assert not literals_only(proj, ("OnExitRemove",))
    for n in ("RequestCpus", "OnExitHold", "UserLog"):
        assert proj.eval(n) == full.eval(n)
    job.full()["Iwd"] = "changed"           # full() hands out copies
    assert job.full()["Iwd"] == "/tmp/x y"


def test_job_ad_file_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        JobAdFile(str(tmp_path / "absent"))
    bad = tmp_path / "bad.ad"
    bad.write_text("A = (1 +\n")
    try:
        read_ad(str(bad))
        slow_ok = True
    except SyntaxError:
        slow_ok = False
    if slow_ok:
        assert JobAdFile(str(bad)).full() == read_ad(str(bad))
    else:
        with pytest.raises(SyntaxError, match=str(bad)):
            JobAdFile(str(bad))


def test_read_text_keeps_undecodable_bytes(tmp_path):
    p = tmp_path / "x"
    p.write_bytes(b'A = "\xff"\n')
    assert read_text(str(p)) == 'A = "\udcff"\n'


@pytest.mark.parametrize("text", [JOB, JOB + '_condor_ShadowResultFile = "old"\n',
                                  JOB + 'Weird = "a\\b"\n'])
def test_wire_with_is_set_on_the_wire_ad(tmp_path, text):
    """The shadow's additions go on the wire exactly as WireAd.set() puts them on the
    from_classad() ad: appended, or replacing an attribute of the same name in place."""
    path = tmp_path / "job.ad"
    write_job_ad(str(path), C.parseOne(text, C.ParserType.Old))
    extra = [("TransferKey", '"k"'), ("_condor_shadowresultfile", '"/r"'),
             ("_condor_send_activation_failure_ad", "true")]
    expect = from_classad(read_ad(str(path)))
    for name, expr in extra:
        expect.set_expr(name, expr)
    assert list(JobAdFile(str(path)).wire_with(extra)) == list(expect)
