"""Expansion vectors: the behaviours HTCondor's own expander unit test
(src/condor_utils/test_macro_expand.cpp) checks, run against pyhtc's expander with the same
kind of macro table (values from that test's table, plus our defaults table)."""
from __future__ import annotations

import pytest

from pyhtc.config import Config, ConfigError

TABLE = {
    "FOO": "bar", "MASTER.foo": "mar", "MASTER.bar": "hi", "lower.bar": "'lo",
    "LOWER.VANILLA": "4", "MASTER.STANDARD": "2", "RELEASE_DIR": "/condor/test",
    "TILDE": "/condor/test", "LOWER.LOCAL_DIR": "/condor/lower", "MASTER.SPOOL": "$(LOCAL_DIR)/mspool",
    "fileBase": "base", "fileExt": "ex", "fileDirs": "/dur/der", "fileSimple": "simple.dat",
    "fileLong": "Now is the time for all good men.", "fileCompound": "$(fileDirs)/$(fileBase).$(FileExt)",
    "fileAbs": "/one/two/three.for", "fileAbsDeep": "/six/five/four/three/two/one/file.ext",
    "urlAbs": "file:/one/two/three.for", "fileAbsQuoted": '"/one/two/three.for"',
    "fileAbsSQuoted": "'/one/two/three.for'", "fileRel": "ein/zwei/drei.fir", "fileRelDeep": "a/b/c/d/e/f.x",
    "fileRelSpaces": '"ein/zw ei/dr ei.fir"', "fileCurRel": "./here", "fileUp1Rel": "../file",
    "fileOver1Rel": "../peer/file.dat", "fileCurRel2": "./uno/dos.tres", "fileDoubleDot": "/dir/boo..ox",
    "fileTarGz": "stuff.tar.gz", "Items5": "aa bb cc dd ee", "List6c": "aa,bb, cc,dd,ee,ff",
    "MASTER.List6c": "JMK,Vvv,XX,YY,ZKM,ZA", "DoubleVanilla": "$(VANILLA)*2",
    "HalfVanilla": "$(VANILLA)/2.0", "StandardMinusVM": "$(STANDARD)-$(VM)", "CHOCOLATE": "$(VANILLA)-2",
}

# (local name, subsystem, input, expected)
VECTORS = [
    (None, None, "", ""), (None, None, "$(FOO)", "bar"), (None, None, "$(DOES_NOT_EXIST)", ""),
    (None, None, "$(DOES_NOT_EXIST:true)", "true"), (None, None, "$(FOO) $$([1+2]) $(BAR) ", "bar $$([1+2])  "),
    (None, None, "$(FOO)$$(BAR)$(BAR:_)", "bar$$(BAR)_"), (None, None, "$(history)", "/condor/test/spool/history"),
    ("LOWER", None, "$(history)", "/condor/lower/spool/history"), (None, "MASTER", "$(spool)", "/condor/test/mspool"),
    (None, "MASTER", "$(history)", "/condor/test/mspool/history"),
    ("LOWER", "MASTER", "$(history)", "/condor/lower/mspool/history"),
    (None, None, "$(DOLLAR)(FOO) $$(FOO) ", "$(FOO) $$(FOO) "),
    (None, None, "$ENV(FOO)", "BAR"), (None, None, "$ENV(FOO:BAZ)", "BAR"), (None, None, "$ENV(UNSET_VAR)", "UNDEFINED"),
    (None, None, "$ENV(UNSET_VAR:)", ""), (None, None, "$ENV(UNSET_VAR:BAZ)", "BAZ"),
    (None, None, "$RANDOM_CHOICE(1)", "1"), (None, None, "$RANDOM_CHOICE(aa bb cc)", "aa bb cc"),
    (None, None, "$Fn(fileBase)", "base"), (None, None, "$Fx(fileBase)", ""), (None, None, "$Fd(fileBase)", ""),
    (None, None, "$Fdf(fileBase)", "testing/"), (None, None, "$Fpf(fileBase)", "/home/testing/"),
    (None, None, "$Fd(fileDirs)", "dur/"), (None, None, "$Fdx(fileDirs)", "dur/der"),
    (None, None, "$Fpnx(fileDirs)", "/dur/der"), (None, None, "$Fdnx(fileSimple)", "simple.dat"),
    (None, None, "$Fx(fileLong)", "."), (None, None, "$Fn(fileLong)", "Now is the time for all good men"),
    (None, None, "$F(fileCompound)", "/dur/der/base.ex"), (None, None, "$Fdnx(fileCompound)", "der/base.ex"),
    (None, None, "$Fddb(fileCompound)", "dur/der"), (None, None, "$Fpw(fileCompound)", ""),
    (None, None, "$Ffqaw(fileCompound)", "'\\dur\\der\\base.ex'"), (None, None, "$Fqpnx(fileAbs)", '"/one/two/three.for"'),
    (None, None, "$Fqa(fileAbs)", "'/one/two/three.for'"), (None, None, "$Fdd(fileAbsDeep)", "two/one/"),
    (None, None, "$Fddddddd(fileAbsDeep)", "/six/five/four/three/two/one/"), (None, None, "$Fddb(fileAbsDeep)", "two/one"),
    (None, None, "$Fw(fileAbsDeep)", "\\six\\five\\four\\three\\two\\one\\file.ext"),
    (None, None, "$Fddxw(fileAbsDeep)", ".ext"), (None, None, "$Fp(urlAbs)", "file:/one/two/"),
    (None, None, "$Fdb(fileAbsQuoted)", "two"), (None, None, "$Fxb(fileAbsQuoted)", "for"),
    (None, None, "$Fqan(fileAbsQuoted)", "'three'"), (None, None, "$Fqn(fileAbsSQuoted)", '"three"'),
    (None, None, "$Ff(fileRelDeep)", "/home/testing/a/b/c/d/e/f.x"),
    (None, None, "$Ffdddddd(fileRelDeep)", "testing/a/b/c/d/e/"),
    (None, None, "$Ffwqa(fileRelDeep)", "'\\home\\testing\\a\\b\\c\\d\\e\\f.x'"),
    (None, None, "$Fdnx(fileRelSpaces)", "zw ei/dr ei.fir"), (None, None, "$Fd(fileCurRel)", "./"),
    (None, None, "$Ff(fileCurRel)", "/home/testing/here"), (None, None, "$Ff(fileUp1Rel)", "/home/testing/../file"),
    (None, None, "$Fpnxf(fileCurRel2)", "/home/testing/uno/dos.tres"), (None, None, "$Fn(fileDoubleDot)", "boo."),
    (None, None, "$Fn(fileTarGz)", "stuff.tar"), (None, None, "$BASENAME(fileTarGz)", "stuff.tar.gz"),
    (None, None, "$CHOICE(VANILLA,List6c)", "ff"), (None, "MASTER", "$CHOICE(VANILLA,List6c)", "ZA"),
    ("LOWER", None, "$CHOICE(VANILLA,List6c)", "ee"), ("LOWER", "MASTER", "$CHOICE(VANILLA,List6c)", "ZKM"),
    (None, None, "$CHOICE(CHOCOLATE,List6c)", "dd"), (None, None, "$SUBSTR(list6c,VM)", "ee,ff"),
    (None, None, "$INT(VANILLA)", "5"), (None, None, "$INT(StandardMinusVM)", "-12"), (None, None, "$INT(HalfVanilla)", "2"),
    (None, None, "$INT(VANILLA,%03d)", "005"), (None, None, "$INT(VANILLA,_%04u_)", "_0005_"),
    (None, None, "$INT(DoubleVanilla,%d)", "10"), (None, None, "$REAL(hALFvANILLA)", "2.5"),
    (None, None, "$REAL(standard,%2f)", "1.000000"), (None, None, "$REAL(BackgroundLoad,%g)", "0.3"),
    (None, None, "$INT(StartIdleTime)", "900"), (None, None, "$STRING(Items5,%-16s)", "aa bb cc dd ee  "),
    (None, None, "$EVAL(bar)", "undefined"),
]


def make(local, subsys) -> Config:
    cfg = Config(subsys or "TOOL", local, environ={"FOO": "BAR"})
    cfg._ctx.cwd = "/home/testing"          # the expander's working directory for $Ff()
    for name, value in TABLE.items():
        cfg.set(name, value, "test")
    return cfg


@pytest.mark.parametrize("local,subsys,text,expected", VECTORS)
def test_expansion_vector(local, subsys, text, expected):
    assert make(local, subsys).expand(text) == expected


@pytest.mark.parametrize("text,needle", [
    ("$RANDOM_INTEGER()", "invalid min"), ("$RANDOM_INTEGER(a,b)", "invalid min"),
    ("$RANDOM_INTEGER(6,5)", "min > max"), ("$RANDOM_INTEGER(2,5,-4)", "invalid step"),
    ("$RANDOM_CHOICE()", "no list"), ("$CHOICE(4,AA,BB,CC,DD)", "out of range"),
])
def test_expansion_errors(text, needle):
    with pytest.raises(ConfigError, match=needle):
        make(None, None).expand(text)


def test_random_vectors_stay_in_range():
    cfg = make(None, None)
    for text, low, high in [("$RANDOM_INTEGER(-30,30,1)", -30, 30), ("$RANDOM_INTEGER(-1000,-99,3)", -1000, -99),
                            ("$RANDOM_INTEGER(3,9,3)", 3, 9)]:
        for _ in range(20):
            assert low <= int(cfg.expand(text)) <= high
    assert cfg.expand("$RANDOM_CHOICE(List6c)") in ("aa", "bb", "cc", "dd", "ee", "ff")
