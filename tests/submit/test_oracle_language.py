"""pyhtc.submit.Submit against the real htcondor2.Submit (the wheel in the venv).

One subprocess runs the real bindings over every case (CONDOR_CONFIG=/dev/null)
and reports expand() of chosen keys, getQArgs(), itemdata() and keys(); our
Submit must agree.  Covers the macro language ($(X), defaults, self reference,
$F..., $INT, $REAL, $CHOICE, $SUBSTR, $ENV, $$(...)), +Attr / My.Attr keys and
the queue forms (count, in, from, matching, slices, several variables).
"""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from pyhtc.submit import Submit, SubmitSyntaxError

CASES = {
    "defaults_and_selfref": ("A = 1\nA = $(A) 2\nB = $(nothing:def) x\nC = $(A:zz)\nD = $(nothing)\nqueue\n",
                             ["A", "B", "C", "D"]),
    "file_parts": ("P = /tmp/dir/file.tar.gz\n"
                   "F = $Fnx(P) $Fp(P) $Fd(P) $Fdb(P) $Fn(P) $Fx(P) $Fxb(P) $Fq(P) $Fqa(P) $Fpn(c.txt)\n"
                   "G = $BASENAME(P) $DIRNAME(P)\nqueue\n", ["F", "G"]),
    "numbers": ("N = 7\nV = 7.5\nE = $INT(N) $INT(N,%03d) $REAL(V) $REAL(V,%.2f) $INT(3*4) $REAL(N)\nqueue\n",
                ["E"]),
    "choice_substr": ("S = hello world\nI = 2\nF = $CHOICE(1,a,b,c) $CHOICE(I,x,y,z) $SUBSTR(S,0,5) $SUBSTR(S,-5) "
                      "$SUBSTR(S,6)\nqueue\n", ["F"]),
    "live_and_matchtime": ("H = $$(Memory) $$([1+2]) $(DOLLAR) $(Process) $(Cluster) $(ProcId) $(ClusterId) "
                           "$(Step) $(Row) $(ItemIndex) $(Node) $(Item) $(JobId)\nqueue\n", ["H"]),
    "env": ("I = $ENV(HOME) $ENV(NOT_SET_ANYWHERE:dflt)\nqueue\n", ["I"]),
    "plus_attrs": ("+Foo = \"bar\"\nMY.Baz = 3\nexecutable = x\nqueue\n", ["MY.Foo", "MY.Baz", "executable"]),
    "case_insensitive": ("Executable = x\nexecutable = y\nFOO = 1\nbar = $(foo)\nqueue\n", ["executable", "bar"]),
    "continuation": ("A = one \\\n two\nB = x\nqueue\n", ["A", "B"]),
    "plus_spellings": ("A=1\nMy.X = 2\n+Y=3\nqueue\n", ["My.X", "MY.Y", "+Y"]),
    "multiline_value": ("A @=end\n line1\n line2\n@end\nB = x$(A)y\nqueue\n", ["A", "B"]),
    "conditionals": ("X = 1\nif defined X\nA = yes\nelse\nA = no\nendif\nif $(X)\nB = one\nendif\n"
                     "if version >= 8.0\nC = new\nendif\nqueue\n", ["A", "B", "C"]),
    "queue_count": ("executable = x\nqueue 15\n", []),
    "queue_in_inline": ("executable = x\nqueue 2 name in (a b\n c, d\n)\n", []),
    "queue_unterminated": ("executable = x\nqueue 2 name in (a b\n c, d)\n", []),
    "queue_default_var": ("executable = x\nqueue in (a b)\n", []),
    "queue_in_line": ("executable = x\nqueue input in a.dat, b.dat, c.dat\n", []),
    "queue_from_inline": ("executable = x\nqueue x,y from (\n 1 2\n 3, 4 5\n)\n", []),
    "queue_from_slice": ("executable = x\nqueue a from [1:3] (\n r0\n r1\n r2\n r3\n)\n", []),
    "queue_in_slice_step": ("executable = x\nqueue a in [::2] (p q r s t)\n", []),
    "queue_from_script": ("executable = x\nqueue from seq 7 9 |\n", []),
    "queue_matching_nothing": ("executable = x\nqueue f matching files *.nothing-here\n", []),
    "queue_three_vars": ("executable = x\nqueue a,b,c from (\n1 2 3 4 5\n6,7,8\n)\n", []),
}

ORACLE = r'''
import json, sys, htcondor2
cases = json.loads(sys.stdin.read())
out = {}
for name, (text, keys) in cases.items():
    r = {}
    try:
        sub = htcondor2.Submit(text)
    except Exception as e:
        out[name] = {"error": type(e).__name__}
        continue
    for k in keys:
        try:
            r[k] = sub.expand(k)
        except Exception as e:
            r[k] = "EXC " + type(e).__name__
    r["__qargs"] = sub.getQArgs()
    try:
        it = sub.itemdata()
        r["__items"] = None if it is None else list(it)
    except Exception as e:
        r["__items"] = "EXC " + type(e).__name__
    r["__keys"] = list(sub.keys())
    out[name] = r
print(json.dumps(out))
'''


@pytest.fixture(scope="module")
def oracle(tmp_path_factory):
    pytest.importorskip("htcondor2")
    env = {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "CONDOR_CONFIG": "/dev/null"}
    cwd = tmp_path_factory.mktemp("oracle")
    r = subprocess.run([sys.executable, "-c", ORACLE], input=json.dumps(CASES), capture_output=True, text=True,
                       env=env, cwd=cwd, timeout=120)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_real_bindings(name, oracle, monkeypatch):
    monkeypatch.setenv("HOME", "/tmp")
    monkeypatch.delenv("NOT_SET_ANYWHERE", raising=False)
    text, keys = CASES[name]
    want = oracle[name]
    sub = Submit(text)
    for k in keys:
        if want[k].startswith("EXC "):
            with pytest.raises(KeyError):
                sub.expand(k)
        else:
            assert sub.expand(k) == want[k], k
    if want["__items"] == "EXC TypeError" or want["__items"] is None:  # the bindings give None: no items
        assert sub.itemdata() is None
    elif want["__items"] == "EXC ValueError":   # e.g. an unterminated item list
        with pytest.raises(ValueError):
            list(sub.itemdata())
    else:
        assert list(sub.itemdata()) == want["__items"]
    assert sub.getQArgs() == want["__qargs"]
    assert list(sub.keys()) == want["__keys"]


def test_parse_error_names_line():
    with pytest.raises(SubmitSyntaxError, match=r"line 2: "):
        Submit("executable = x\nthis is not a command\nqueue\n")


def test_unclosed_item_list():
    sub = Submit("executable = x\nqueue a in (\n x\n y\n")  # the bindings defer this error
    with pytest.raises(ValueError, match=r"closing brace"):
        list(sub.jobs())


def test_setqargs_and_mapping():
    sub = Submit({"executable": "/bin/true", "arguments": "$(Item)"})
    sub.setQArgs("2 Item in (a, b)")
    assert sub.getQArgs() == "2 Item in (a, b)"
    ads = list(sub.jobs())
    assert [a["Args"] for a in ads] == ['"a"', '"a"', '"b"', '"b"']
    assert [a["ProcId"] for a in ads] == ["0", "1", "2", "3"]
    sub["+Tag"] = '"x"'
    assert sub["+Tag"] == '"x"'
    with pytest.raises(NotImplementedError):
        del sub["arguments"]
    assert all(a["Tag"] == '"x"' for a in sub.jobs(count=1))
    assert list(sub) == ["executable", "arguments", "+Tag"]
    assert str(sub) == 'executable = /bin/true\narguments = $(Item)\n+Tag = "x"\nqueue 2 Item in (a, b)\n'


def test_itemdata_and_submit_method():
    sub = Submit("executable = /bin/true\narguments = $(a) $(b)\n", queue="1")
    ads = list(sub.jobs(itemdata=[{"a": "x y", "b": "1"}, {"a": "z", "b": "2"}], clusterid=7, procid=3))
    assert [(a["ClusterId"], a["ProcId"], a["Args"]) for a in ads] == [("7", "3", '"x y 1"'), ("7", "4", '"z 2"')]
    assert ads[0]["JobSubmitMethod"] == "2"
    with pytest.raises(ValueError):
        sub.setSubmitMethod(5)
    sub.setSubmitMethod(5, allow_reserved_values=True)
    assert next(sub.jobs())["JobSubmitMethod"] == "5"
    sub.setSubmitMethod(-1)
    assert "JobSubmitMethod" not in next(sub.jobs())
    with pytest.raises(ValueError):
        Submit({"queue": "1"})
    assert str(Submit({"n": 3, "flag": True})) == "n = 3\nflag = True\nqueue\n"


def test_del_is_refused_as_htcondor2_refuses_it():
    import htcondor2
    from pyhtc.submit import Submit as PySubmit
    errors = []
    for cls in (htcondor2.Submit, PySubmit):
        sub = cls({"executable": "/bin/true", "arguments": "x"})
        with pytest.raises(NotImplementedError) as exc:
            del sub["arguments"]
        errors.append(str(exc.value))
        sub["arguments"] = ""          # the documented way to undo a command
        assert sub["arguments"] == ""
    assert errors[0] == errors[1]
