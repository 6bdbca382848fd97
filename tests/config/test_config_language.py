"""Unit tests of the configuration language: lines, statements, macros, functions, if, use, include."""
from __future__ import annotations

import os
import re
import stat
import sys

import pytest

from pyhtc.config import Config, ConfigError
from pyhtc.config.macros import expand_meta_args, find_macro
from pyhtc.config.parser import logical_lines


def cfg(text: str, subsystem: str = "TOOL", local_name: str | None = None, environ=None) -> Config:
    return Config(subsystem, local_name, environ=environ or {}).read_string(text, "test.conf")


# ---- physical and logical lines --------------------------------------------------------------

def test_continuation_joins_lines_and_trims():
    lines = list(logical_lines("F = x \\\n  y\\\nz\nG = 1\n"))
    assert lines == [(3, "F = x yz"), (4, "G = 1")]


def test_commented_line_inside_continuation_keeps_going_when_it_ends_in_backslash():
    c = cfg("B = b\nC = c\nD = d\nE = $(B) \\\n# $(C) \\\n$(D)\n")
    assert c.param("E") == "b d"
    assert c.location("E") == "test.conf, line 6"


def test_commented_line_inside_continuation_contributes_its_last_character():
    # HTCondor quirk (getline_implementation): the comment collapses to its last character.
    c = cfg("B = b\nA = $(B) \\\n# $(C)\nX = 1\n")
    assert c.param("A") == "b )"


def test_comment_with_trailing_backslash_does_not_continue():
    c = cfg("# comment \\\nG = g # not a comment\n")
    assert c.param("G") == "g # not a comment"


def test_ini_section_line_is_ignored_and_crlf_handled():
    c = cfg("[HTCondorSettings]\r\nmy_classad = [ foo=bar ]\r\n")
    assert c.param("MY_CLASSAD") == "[ foo=bar ]"
    # like HTCondor 25 (checked with the real reader), a section name with a space is an error
    with pytest.raises(ConfigError, match="line 1"):
        cfg("[HTCondor Settings]\nA = 1\n")


# ---- assignments ------------------------------------------------------------------------------

def test_names_are_case_insensitive_and_last_wins():
    c = cfg("Foo = 1\nFOO = 2\nfoo = 3\n")
    assert c.param("FOO") == c.param("foo") == "3"
    assert list(c) == ["Foo"]            # spelled as first written
    assert c.location("fOo") == "test.conf, line 3"


def test_lazy_expansion_uses_final_values():
    c = cfg("A = xxx\nC = $(A)\nA = yyy\nLATE = $(EARLY)\nEARLY = e\n")
    assert c.param("C") == "yyy"
    assert c.param("LATE") == "e"
    assert c.raw("C") == "$(A)"


def test_self_reference_takes_previous_value():
    c = cfg("A = xxx\nB = $(A)\nA = $(A)yyy\nA = $(A)zzz\n")
    assert c.param("A") == "xxxyyyzzz"
    assert c.param("B") == "xxxyyyzzz"
    assert c.raw("A") == "xxxyyyzzz"


def test_self_reference_to_undefined_uses_defaults_table():
    c = cfg("DAEMON_LIST = $(DAEMON_LIST) SCHEDD\nNEW = $(NEW) x\n")
    assert c.param("DAEMON_LIST") == "MASTER SCHEDD"
    assert c.param("NEW") == " x"      # as HTCondor: the leading space stays


def test_plus_equals_forms():
    c = cfg("B = one\nB += two\nC = x\nC +,= y\nC +,= z\nD +&&= (a)\nD +&&= (b)\nE += first\n")
    assert c.param("B") == "one two"
    assert c.param("C") == "x,y,z"
    assert c.param("D") == "(a) && (b)"
    assert c.param("E") == "first"


def test_colon_assignment_is_obsolete_but_works():
    c = cfg("A : colonval\n")
    assert c.param("A") == "colonval"
    assert "obsolete use of ':'" in c.warnings[0]


def test_empty_value_is_not_defined():
    c = cfg("X =\nY = $(X)\n")
    assert c.param("X") is None and c.param("Y") is None
    assert c.raw("X") == ""
    assert "X" not in c


def test_macro_in_name_and_illegal_identifier():
    c = cfg("WHO = SCHEDD\n$(WHO)_NAME = s1\n")
    assert c.param("SCHEDD_NAME") == "s1"
    with pytest.raises(ConfigError) as err:
        cfg("GOOD = 1\nBAD-NAME = 2\n")
    assert err.value.source == "test.conf" and err.value.line == 2
    assert "Illegal Identifier" in str(err.value)


def test_line_without_operator_is_an_error_with_location():
    with pytest.raises(ConfigError) as err:
        cfg("A = 1\njust some words\n")
    assert str(err.value).startswith("test.conf, line 2:")


def test_multiline_value():
    text = ("JOB_ROUTER_DEFAULTS @=jrd\n  [\n    MaxJobs = 200;\n\n  # comment\n    set_x = 1;\n  ]\n  @jrd\n"
            "AFTER = 1\n")
    c = cfg(text)
    assert c.param("JOB_ROUTER_DEFAULTS") == "[\nMaxJobs = 200;\nset_x = 1;\n]"
    assert c.location("JOB_ROUTER_DEFAULTS") == "test.conf, line 8"
    assert c.param("AFTER") == "1"


def test_unterminated_multiline_value_is_an_error():
    with pytest.raises(ConfigError) as err:
        cfg("X @=end\n a\n b\n")
    assert "@end" in str(err.value) and "line 1" in str(err.value)


# ---- subsystem and local-name prefixes -------------------------------------------------------

def test_prefix_lookup_order():
    text = ("FOO = plain\nSCHEDD.FOO = subsys\nXYZZY.FOO = local\nUSEFILE = mydir/$(FOO)\n")
    assert cfg(text).param("FOO") == "plain"
    assert cfg(text, "SCHEDD").param("FOO") == "subsys"
    assert cfg(text, "SCHEDD").param("USEFILE") == "mydir/subsys"
    assert cfg(text, "SCHEDD", "xyzzy").param("FOO") == "local"
    assert cfg(text, "MASTER", "other").param("FOO") == "plain"
    assert cfg(text, "SCHEDD", "xyzzy").lookup_entry("foo")[0] == "XYZZY.FOO"


def test_subsystem_specific_defaults_table_entry():
    c = cfg("")
    assert c.param("ENABLE_CLASSAD_CACHING") == "true"
    assert cfg("", "MASTER").param("ENABLE_CLASSAD_CACHING") == "false"


def test_prefixed_self_reference():
    c = cfg("DEBUG = D_A\nSCHEDD.DEBUG = $(DEBUG) D_B\n", "SCHEDD")
    assert c.param("DEBUG") == "D_A D_B"


# ---- macros and functions ----------------------------------------------------------------------

def test_defaults_in_macros():
    c = cfg("Y = 6\nD1 = $(UNDEF:def ault)\nD2 = $(UNDEF:$(Y))\nD3 = $(UNDEF:-1)\nD4 = $(Y:9)\n"
            "MAX = $(NUMCPUS:4)-1\n")
    assert c.param("D1") == "def ault"
    assert c.param("D2") == "6"
    assert c.param("D3") == "$(UNDEF:-1)"      # '-' is not allowed in a default: not a macro
    assert c.param("D4") == "6"
    assert c.param("MAX") == "4-1"


def test_undefined_macro_is_empty_and_dollar_escapes():
    c = cfg("A = [$(NOPE)]\nB = a$(DOLLAR)b $$(Foo) $$([1+2])\nM = $(X\nN = $(X)$(Y\nX = 2\n")
    assert c.param("A") == "[]"
    assert c.param("B") == "a$b $$(Foo) $$([1+2])"
    assert c.param("M") == "$(X"
    assert c.param("N") == "2$(Y"


def test_recursive_definition_is_an_error():
    c = cfg("A = $(B)\nB = x$(A)\n")
    with pytest.raises(ConfigError, match="refers to itself"):
        c.param("A")


def test_env_function():
    c = cfg("E1 = $ENV(HOME)\nE2 = $ENV(NOPE)\nE3 = $ENV(NOPE:dflt)\nX = 2\nE4 = $ENV(NOPE:$(X))\n",
            environ={"HOME": "/home/me"})
    assert (c.param("E1"), c.param("E2"), c.param("E3"), c.param("E4")) == ("/home/me", "UNDEFINED", "dflt", "2")


def test_int_real_string_eval():
    c = cfg('X = 2\nY = 6\nXYArea = $(X) * $(Y)\nI1 = $INT(XYArea)\nI2 = $INT(XYArea,%04d)\n'
            'I3 = $INT(XYArea,Area=%d)\nR1 = $REAL(XYArea)\nR2 = $REAL(XYArea,%.2f)\nR3 = $REAL(X,%.0f)\n'
            'S = "quoted"\nST = $STRING(S)\nST2 = $STRING(S,Name: %s)\nEV = $EVAL(XYArea)\n'
            'EV2 = $EVAL(S)\nEV3 = $EVAL(X)\nBAD = $INT(S)\nBADFMT = $REAL(X,%d)\n')
    assert [c.param(n) for n in ("I1", "I2", "I3", "R1", "R2", "R3")] == ["12", "0012", "Area=12", "12", "12.00", "2.0"]
    assert [c.param(n) for n in ("ST", "ST2", "EV", "EV2", "EV3")] == ["quoted", "Name: quoted", "12", "quoted", "2"]
    with pytest.raises(ConfigError, match="does not evaluate to an integer"):
        c.param("BAD")
    with pytest.raises(ConfigError, match="not a valid format"):
        c.param("BADFMT")


def test_substr():
    c = cfg("Name = abcdef\nS1 = $SUBSTR(Name, 2)\nS2 = $SUBSTR(Name, 0, -2)\nS3 = $SUBSTR(Name, 1, 3)\n"
            "S4 = $SUBSTR(Name, -1)\nS5 = $SUBSTR(Name, 4, -3)\n")
    assert [c.param(f"S{i}") for i in range(1, 6)] == ["cdef", "abcd", "bcd", "f", None]


def test_choice():
    c = cfg("C1 = $CHOICE(1, a, b, c)\nLST = x, y, z\nC2 = $CHOICE(2, LST)\nI = 0\nC3 = $CHOICE(I, LST)\n"
            "C4 = $CHOICE(5, LST)\nC5 = $CHOICE(1, NOLIST)\n")
    assert (c.param("C1"), c.param("C2"), c.param("C3")) == ("b", "z", "x")
    with pytest.raises(ConfigError, match="out of range"):
        c.param("C4")
    with pytest.raises(ConfigError, match="no list named NOLIST"):
        c.param("C5")


def test_random_functions_are_in_range_and_stable_per_load():
    c = cfg("R = $RANDOM_INTEGER(0, 8, 2)\nQ = $RANDOM_CHOICE(a, b, c)\nONE = $RANDOM_INTEGER(5, 5)\n"
            "BAD = $RANDOM_INTEGER(9, 1)\n")
    r = c.param("R")
    assert int(r) in (0, 2, 4, 6, 8) and c.param("R") == r
    assert c.param("Q") in ("a", "b", "c")
    assert c.param("ONE") == "5"
    with pytest.raises(ConfigError, match="min > max"):
        c.param("BAD")


@pytest.mark.parametrize("func,expected", [
    ("Fn", "simulate"), ("Fx", ".exe"), ("Fp", "/tmp/dir/"), ("Fd", "dir/"), ("Fdb", "dir"),
    ("Fqn", '"simulate"'), ("Fqa", "'/tmp/dir/simulate.exe'"), ("Fxb", "exe"), ("F", "/tmp/dir/simulate.exe"),
    ("Fnx", "simulate.exe"), ("BASENAME", "simulate.exe"), ("DIRNAME", "/tmp/dir/"), ("Fpb", "/tmp/dir"),
])
def test_filename_functions(func, expected):
    c = cfg(f"FILE = /tmp/dir/simulate.exe\nV = ${func}(FILE)\n")
    assert c.param("V") == expected


def test_filename_function_on_literal_and_full_path(tmp_path):
    c = cfg("V = $Fn(/tmp/simulate.exe)\nREL = sub/x.txt\nW = $Ff(REL)\n")
    assert c.param("V") == "simulate"
    assert c.param("W") == os.path.join(os.getcwd(), "sub/x.txt")


def test_find_macro_positions():
    ref = find_macro("ab $(X:1) cd")
    assert (ref.func, ref.name, ref.default, ref.dollar, ref.right) == ("", "X", "1", 3, 9)
    assert find_macro("$$(X) $NOTAFUNC(Y)") is None
    assert find_macro("$Fqn(F)").func == "Fqn"


def test_meta_args():
    text = "A=$(1)\nB=$(2)\nC=$(3)\nN=$(0#)\nALL=$(0)\nR=$(2+)\nQ=$(2?)\nQ3=$(3?)\nD=$(4:dflt)\n"
    out = expand_meta_args(text, "arg1, , arg3")
    assert out == "A=arg1\nB=\nC=arg3\nN=3\nALL=arg1, , arg3\nR=, arg3\nQ=0\nQ3=1\nD=dflt\n"
    assert expand_meta_args("X=$(1)$(0#)$(1?)", "") == "X=00"


# ---- if / elif / else -------------------------------------------------------------------------

def test_conditionals():
    text = """
if version >= 8.1
 V1 = yes
else
 V1 = no
endif
if version < 8.1.6
 V2 = old
endif
if version == 25.14
 V3 = eq
endif
if defined DAEMON_LIST
 D1 = yes
endif
if ! defined NOPE
 D2 = yes
endif
T = true
if $(T)
 M1 = yes
endif
if $(NOPE)
 M2 = yes
else
 M2 = no
endif
if 0
 Z = 1
elif yes
 Z = 2
elif true
 Z = 3
else
 Z = 4
endif
if false
 if true
  NESTED = bad
 endif
else
 NESTED = ok
endif
:if true
 COLON = ok
endif
if defined use ROLE:Personal
 USEDEF = yes
endif
"""
    c = cfg(text)
    got = {n: c.param(n) for n in ("V1", "V2", "V3", "D1", "D2", "M1", "M2", "Z", "NESTED", "COLON", "USEDEF")}
    assert got == {"V1": "yes", "V2": None, "V3": "eq", "D1": "yes", "D2": "yes", "M1": "yes", "M2": "no",
                   "Z": "2", "NESTED": "ok", "COLON": "ok", "USEDEF": "yes"}


@pytest.mark.parametrize("text,needle", [
    ("if true\nX = 1\n", "endif(s) not found"),
    ("endif\n", "endif without matching if"),
    ("else\n", "else without matching if"),
    ("if true\nelse\nelse\nendif\n", "else is not allowed after else"),
    ("if a == b\nendif\n", "complex conditionals are not supported"),
    ("if version >= banana\nendif\n", "version literal is invalid"),
    ("if defined a b\nendif\n", "defined argument must be param name"),
])
def test_conditional_errors(text, needle):
    with pytest.raises(ConfigError, match=re.escape(needle)) as err:
        cfg(text)
    assert err.value.source == "test.conf" and err.value.line is not None


# ---- error / warning -----------------------------------------------------------------------------

def test_error_and_warning_statements():
    c = cfg("X = 5\nwarning : careful $(X)\n")
    assert c.warnings == ['Warning "test.conf", Line 2: careful 5']
    with pytest.raises(ConfigError) as err:
        cfg("A = 1\nif ! defined STUFF\n  error : stuff is needed!\nendif\n")
    assert err.value.line == 3 and "stuff is needed!" in str(err.value)
    assert str(err.value) == "test.conf, line 3: error: stuff is needed!"


# ---- use templates -----------------------------------------------------------------------------

def test_use_role_personal_and_provenance():
    c = cfg("use ROLE : Personal\nuse feature:PartitionableSlot\n")
    assert c.param("CONDOR_HOST") == "127.0.0.1"
    assert c.param("COLLECTOR_HOST") == "127.0.0.1:0"
    assert c.param("DAEMON_LIST") == "MASTER COLLECTOR NEGOTIATOR STARTD SCHEDD"
    assert c.location("DAEMON_LIST") == "test.conf, line 1, use ROLE:Personal+2"
    assert c.param("SLOT_TYPE_1_PARTITIONABLE").lower() == "true"
    assert c.lookup_entry("NUM_SLOTS_TYPE_1")[2].template.startswith("FEATURE:PartitionableSlot+")


def test_use_several_templates_and_arguments():
    c = cfg("MEMORY_EXCEEDED = (MemoryUsage > RequestMemory)\n"
            "use POLICY : Preempt_If(MEMORY_EXCEEDED), Limit_Job_Runtimes(3600)\n"
            "use ROLE : Submit Execute\n")
    # Limit_Job_Runtimes comes second, so its PREEMPT wins (checked against the real reader)
    assert c.param("PREEMPT") == '(Activity == "Busy") && ((time() - EnteredCurrentActivity) > 3600)'
    assert c.location("PREEMPT") == "test.conf, line 2, use POLICY:LIMIT_JOB_RUNTIMES+2"
    assert "SCHEDD" in c.param("DAEMON_LIST") and "STARTD" in c.param("DAEMON_LIST")


def test_use_unknown_template_or_category():
    with pytest.raises(ConfigError, match="does not recognise NoSuch") as err:
        cfg("A = 1\nuse ROLE : NoSuch\n")
    assert err.value.line == 2
    with pytest.raises(ConfigError, match="does not recognise category"):
        cfg("use NOCAT : x\n")


def test_template_error_statement_reports_use_line():
    with pytest.raises(ConfigError, match="requires") as err:
        cfg("\nuse FEATURE : AssignAccountingGroup\n")
    assert err.value.line == 2


# ---- include ---------------------------------------------------------------------------------

def test_include_file_ifexist_and_missing(tmp_path):
    inc = tmp_path / "inc.conf"
    inc.write_text("INC = from include\nX = $(X) more\n")
    main = tmp_path / "main.conf"
    main.write_text(f"X = start\nDIR = {tmp_path}\ninclude : $(DIR)/inc.conf\n"
                    f"include ifexist : $(DIR)/nope.conf\n@include : {inc}\n")
    c = Config(environ={}).read_file(str(main))
    assert c.param("INC") == "from include"
    assert c.param("X") == "start more more"
    assert c.location("INC") == f"{inc}, line 1"
    assert c.sources == [str(main), str(inc), str(inc)]
    bad = tmp_path / "bad.conf"
    bad.write_text("A = 1\ninclude : /no/such/file.conf\n")
    with pytest.raises(ConfigError) as err:
        Config(environ={}).read_file(str(bad))
    assert err.value.source == str(bad) and err.value.line == 2
    assert "/no/such/file.conf" in str(err.value)


def test_include_nesting_limit(tmp_path):
    loop = tmp_path / "loop.conf"
    loop.write_text(f"include : {loop}\n")
    with pytest.raises(ConfigError, match="nested too deep"):
        Config(environ={}).read_file(str(loop))


def _script(tmp_path, body: str) -> str:
    path = tmp_path / "gen.sh"
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def test_include_command_forms(tmp_path):
    gen = _script(tmp_path, 'echo "STUFF = 1"\necho "ARG = $1"\n')
    cache = tmp_path / "cache.conf"
    c = Config(environ={"PATH": os.environ["PATH"]}).read_string(
        f"include command : {gen} a1\n"
        f"include : {gen} b2 |\n"
        f"include command into {cache} : {gen} c3\n", "main.conf")
    assert c.param("STUFF") == "1"
    assert c.param("ARG") == "c3"
    assert cache.read_text() == "STUFF = 1\nARG = c3\n"
    # the cache is used instead of running the command again
    c2 = Config(environ={"PATH": os.environ["PATH"]}).read_string(
        f"include command into {cache} : {gen} d4\n", "main.conf")
    assert c2.param("ARG") == "c3"


def test_include_failing_command(tmp_path):
    bad = _script(tmp_path, "echo oops >&2\nexit 3\n")
    with pytest.raises(ConfigError, match="exited with status 3: oops") as err:
        Config(environ={"PATH": os.environ["PATH"]}).read_string(f"A = 1\ninclude command : {bad}\n", "m.conf")
    assert err.value.line == 2
    c = Config(environ={"PATH": os.environ["PATH"]}).read_string(f"include ifexist command : {bad}\nA = 1\n")
    assert c.param("A") == "1"


def test_include_command_runs_python(tmp_path):
    c = Config(environ={"PATH": os.environ["PATH"]}).read_string(
        f"include command : {sys.executable} -c \"print('PY = ok')\"\n")
    assert c.param("PY") == "ok"


def test_runtime_set_and_unset():
    c = cfg("A = 1\n")
    c.set("A", "$(A) 2")
    assert c.param("A") == "1 2" and c.location("A") == "<Internal>"
    assert c.unset("A") and c.param("A") is None


# ---- more corners ------------------------------------------------------------------------------

def test_subsys_dot_localname_prefix_is_not_used():
    # the manual still lists SUBSYS.LOCALNAME.NAME first, but HTCondor 25's lookup_macro only
    # tries LOCALNAME.NAME, SUBSYS.NAME, NAME (the three-part form was removed)
    c = cfg("FOO = plain\nSCHEDD.XYZZY.FOO = three-part\n", "SCHEDD", "xyzzy")
    assert c.param("FOO") == "plain"


def test_nested_template_provenance_is_innermost():
    c = cfg("A = 1\nuse SECURITY : recommended\n")
    where = c.location("SEC_DEFAULT_AUTHENTICATION")
    assert where.startswith("test.conf, line 2, use SECURITY:STRONG+")   # recommended -> v24_0 -> STRONG


def test_include_command_is_a_local_source(tmp_path):
    c = Config(environ={"PATH": os.environ["PATH"]}).read_string("include command : /bin/echo Z = 1\n", "m")
    assert c.local_sources == ["/bin/echo Z = 1 |"]
    assert c.location("Z") == "/bin/echo Z = 1 |, line 1"


def test_long_macro_chains_expand_and_runaway_chains_stop():
    text = "K0 = a\n" + "".join(f"K{i} = $(K{i - 1})\n" for i in range(1, 100))
    assert cfg(text).param("K99") == "a"
    text = "K0 = a\n" + "".join(f"K{i} = $(K{i - 1})\n" for i in range(1, 400))
    with pytest.raises(ConfigError, match="nested too deeply"):
        cfg(text).param("K399")


def test_expressions_used_by_functions():
    from pyhtc.config.exprs import ExprError, evaluate, unparse_value
    assert evaluate("MIN({24105, 10000})") == 10000
    assert evaluate('ifThenElse(1 > 2, "a", "b")') == "b"
    assert evaluate('join(";", split(tolower("a,B,c")))') == "a;b;c"
    assert evaluate("-7 / 2") == -3 and evaluate("7 % -3") == 1 and evaluate("2.5 * 2") == 5.0
    assert evaluate("true && !false") is True and evaluate("undefined =?= undefined") is True
    assert unparse_value([1, "x", 2.0, True]) == '{1, "x", 2.0, true}'
    for bad in ("Cpus > 2", "1 +", "(1", "1 / 0", '"a" + 1'):
        with pytest.raises(ExprError):
            evaluate(bad)


def test_local_name_self_reference_and_defaults_prefix():
    c = cfg("FOO = a\nXYZZY.FOO = $(FOO) b\n", "SCHEDD", "xyzzy")
    assert c.param("FOO") == "a b"
    assert cfg("", "MASTER", "m2").param("ENABLE_CLASSAD_CACHING") == "false"


def test_condor_version_is_the_version_pyhtc_speaks(tmp_path):
    """$(CONDOR_VERSION) is what the build puts in the defaults table (not param_info.in's
    placeholder "8.*"), the version in every daemon's CondorVersion."""
    from pyhtc import CONDOR_VERSION
    f = tmp_path / "cfg"
    f.write_text("MY_TAG = pool-$(CONDOR_VERSION)\n")
    cfg = Config.load("TOOL", environ={"CONDOR_CONFIG": str(f)}, read_user_config=False)
    assert cfg.param("CONDOR_VERSION") == CONDOR_VERSION
    assert cfg.param("MY_TAG") == f"pool-{CONDOR_VERSION}"
