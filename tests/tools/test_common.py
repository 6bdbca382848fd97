"""pyhtc.tools.common: option matching, the print-format engine, -af/-format, -long/-json.

Expected texts follow src/condor_utils/ad_printmask.cpp, make_printmask.cpp and
match_prefix.cpp; classad2 (the real HTCondor wheel) is the oracle for value printing."""
import json

import classad2
import pytest

import pyhtc.classad as C
from pyhtc.tools.common import (Column, PrintMask, autoformat_mask, collapse_escapes,
                                format_json, format_long, format_printf, format_time,
                                is_dash_arg_colon_prefix, is_dash_arg_prefix, metric_units,
                                parse_format_line, parse_print_format)
from pyhtc.classad.values import ERROR, UNDEFINED


def test_dash_arg_prefix():
    assert is_dash_arg_prefix("-const", "constraint", 3)
    assert is_dash_arg_prefix("-constraint", "constraint", 3)
    assert not is_dash_arg_prefix("-co", "constraint", 3)          # too short
    assert not is_dash_arg_prefix("-constraints", "constraint", 3)  # longer than the word
    assert is_dash_arg_prefix("--constraint", "constraint", 3)
    assert not is_dash_arg_prefix("--const", "constraint", 3)       # -- needs the whole word
    assert not is_dash_arg_prefix("-Const", "constraint", 3)        # case-sensitive
    assert not is_dash_arg_prefix("const", "constraint", 3)
    assert is_dash_arg_colon_prefix("-af:lh", "af", 2) == (True, "lh")
    assert is_dash_arg_colon_prefix("-autoformat:j", "autoformat", 5) == (True, "j")
    assert is_dash_arg_colon_prefix("-autof", "autoformat", 5) == (True, None)
    assert is_dash_arg_colon_prefix("-auto", "autoformat", 5)[0] is False
    assert is_dash_arg_colon_prefix("-aut:x", "autoformat", 5)[0] is False


def test_format_printf_conversions():
    assert format_printf("%d", 3.9) == "3"
    assert format_printf("[%5d]", 42) == "[   42]"
    assert format_printf("%-4d|", True) == "1   |"
    assert format_printf("%.2f", 2) == "2.00"
    assert format_printf("%s", "abc") == "abc"
    assert format_printf("%s", 5) == ""               # %s takes strings only
    assert format_printf("%v", "abc") == "abc"        # %v: strings unquoted
    assert format_printf("%V", "abc") == '"abc"'      # %V: unparsed
    assert format_printf("%v", UNDEFINED) == "undefined"
    assert format_printf("%v", ERROR) == "error"
    assert format_printf("%v", 0.5) == "0.5"
    assert format_printf("100%% %d", 7) == "100% 7"
    assert format_printf("no conversion", 7) == "no conversion"
    assert format_printf("%T", 90061) == "  1+01:01:01"


def test_format_time_and_units():
    assert format_time(0) == "  0+00:00:00"
    assert format_time(3 * 86400 + 3723) == "  3+01:02:03"
    assert format_time(1234 * 86400) == "1234+00:00:00"
    assert metric_units(16000 * 1024 * 1024) == "15.6 GB"
    assert metric_units(512) == "512.0 B "


def test_collapse_escapes():
    assert collapse_escapes(r"%d\n") == "%d\n"
    assert collapse_escapes(r"a\tb\\c\x41\101") == "a\tb\\cAA"


def test_parse_format_line_keywords():
    c = parse_format_line("Name WIDTH -34 FIT PRINTF %s OR ??")
    assert (c.expr, c.width, c.left, c.auto, c.truncate, c.heading) == ("Name", 34, True, False, False, "Name")
    assert (c.alt, c.alt_wide, c.printf) == ("?", True, "%s")
    c = parse_format_line("CondorLoadAvg AS LoadAv WIDTH 6 TRUNCATE PRINTAS LOAD_AVG OR ??")
    assert (c.heading, c.width, c.left, c.truncate, c.printas) == ("LoadAv", 6, False, True, "LOAD_AVG")
    c = parse_format_line("EnteredCurrentActivity AS '  ActvtyTime' WIDTH 12 NOPREFIX TRUNCATE PRINTAS ACTIVITY_TIME OR -")
    assert (c.heading, c.noprefix, c.printf, c.alt) == ("  ActvtyTime", True, "%T", "-")
    c = parse_format_line("State WIDTH AUTO OR ??")    # AUTO: starts as wide as the heading
    assert (c.width, c.left, c.auto) == (5, True, True)
    c = parse_format_line("TotalIdleJobs AS '  IdleJobs' PRINTF %10d")
    assert (c.width, c.heading, c.auto) == (10, "  IdleJobs", True)
    c = parse_format_line('MyType?:"None" AS MyType WIDTH -18')
    assert (c.expr, c.heading, c.width) == ('MyType?:"None"', "MyType", 18)
    with pytest.raises(ValueError, match="Unknown argument NOPE for PRINTAS"):
        parse_format_line("Name PRINTAS NOPE")
    with pytest.raises(ValueError, match="WIDTH"):
        parse_format_line("Name WIDTH wide")


def test_table_render_and_display():
    pm = parse_print_format([
        "SELECT",
        "Name WIDTH -8 OR ??",
        "State WIDTH AUTO OR ??",
        "Memory AS Mem WIDTH 6 PRINTF %6d OR ??",
        "CondorLoadAvg AS LoadAv WIDTH 6 TRUNCATE PRINTAS LOAD_AVG OR ??",
        "Arch AS A WIDTH 3 TRUNCATE",
        "SUMMARY STANDARD",
    ])
    ads = [C.ClassAd({"Name": "slot1@a-long-host", "State": "Unclaimed", "Memory": 512,
                      "CondorLoadAvg": 0.5, "Arch": "X86_64"}),
           C.ClassAd({"Name": "s2", "State": "Owner"})]
    rows = [pm.render(ad) for ad in ads]
    # State grew to the widest value; the too-long Name is not truncated (no TRUNCATE),
    # Arch is; a missing number shows the OR text filling the column ("[????]")
    assert pm.headings() == "Name     State     Mem    LoadAv A  \n"
    assert pm.display(rows[0]) == "slot1@a-long-host Unclaimed    512  0.500 X86\n"
    assert pm.display(rows[1]) == "s2       Owner     [????] [????]    \n"


def test_string_format_of_non_string_attribute_unparses_it():
    # ad_printmask.cpp: %s of an attribute that is not a string prints its expression
    pm = PrintMask()
    pm.add(Column("Memory", printf="%s"))
    pm.add(Column("Memory * 2", printf="%s"))
    ad = C.ClassAd({"Memory": 1024})
    assert pm.display(pm.render(ad)) == "1024"


def test_autoformat_variants():
    ad = C.ClassAd({"Name": "slot1@h", "Cpus": 2, "Load": 0.25, "Flag": True,
                    "L": C.ExprTree("{1, 2}")})
    exprs = ["Name", "Cpus", "Missing", "Load", "Flag", "Cpus * 2"]

    def show(opts, ex=exprs):
        pm = autoformat_mask(ex, opts)
        return pm.display(pm.render(ad))
    assert show("") == "slot1@h 2 undefined 0.25 true 4\n"
    assert show("V") == '"slot1@h" 2 undefined 0.25 true 4\n'
    assert show(",") == "slot1@h, 2, undefined, 0.25, true, 4\n"
    assert show("t") == "slot1@h\t2\tundefined\t0.25\ttrue\t4\n"
    assert show("l", ["Name", "Cpus"]) == "Name = slot1@h Cpus = 2\n"
    assert show("lV,", ["Name", "Cpus"]) == 'Name = "slot1@h", Cpus = 2\n'
    assert show("r", ["Name", "Cpus * 2"]) == '"slot1@h" Cpus * 2\n'
    assert show("n", ["Name", "Cpus"]) == "slot1@h\n 2\n"
    pm = autoformat_mask(["Name", "Cpus"], "h")
    row = pm.render(ad)
    assert pm.headings() == "Name    Cpus\n"
    assert pm.display(row) == "slot1@h 2   \n"
    with pytest.raises(ValueError, match="invalid expression"):
        autoformat_mask(["Name +"], "")


def test_format_long_sorted_old_syntax_against_classad2():
    text = ('[ zeta = 1; Alpha = "a\\"b"; beta = 2.5; Cpus = 1 + 2; ClaimId = "secret"; '
            'list = { 1, "x" }; MyType = "Machine" ]')
    out = format_long(C.ClassAd(text))
    names = [line.split(" = ")[0] for line in out.splitlines() if line]
    assert names == ["Alpha", "beta", "Cpus", "list", "MyType", "zeta"]   # ClaimId is private
    assert out.endswith("\n\n")
    ref = classad2.ClassAd(text)
    for line in out.splitlines():
        if line:
            name, _, _ = line.partition(" = ")
            # each line is what classad2 prints for that attribute in old syntax
            assert line + "\n" in ref.printOld()
    assert format_long(C.ClassAd(text), ["cpus", "Zeta"]) == "Cpus = 1 + 2\nzeta = 1\n\n"


def test_format_json_parses_like_classad2():
    texts = ['[ Name = "slot1@h"; Memory = 1024; Load = 0.5; Expr = Memory * 2; U = undefined ]',
             '[ Name = "s@h"; L = { 1, "two" }; Sub = [ a = 1 ] ]']
    out = format_json([C.ClassAd(t) for t in texts])
    assert out.startswith("[\n{\n") and out.endswith("}\n]\n") and "\n}\n,\n{\n" in out
    got = json.loads(out)
    assert got == [json.loads(classad2.ClassAd(t).printJson()) for t in texts]
    assert list(got[0]) == ["Expr", "Load", "Memory", "Name", "U"]   # sorted
    assert format_json([]) == ""


def test_natural_cmp():
    from pyhtc.tools.common import natural_cmp, natural_key
    names = ["slot10@h", "slot2@h", "slot1@h", "slot1_10@h", "slot1_2@h", "a", "b", "x01", "x1", "x001"]
    assert sorted(names, key=natural_key) == [
        "a", "b", "slot1@h", "slot1_2@h", "slot1_10@h", "slot2@h", "slot10@h", "x001", "x01", "x1"]
    assert natural_cmp("abc", "abc") == 0
    assert natural_cmp("512\n", "1024\n") < 0 < natural_cmp("node10", "node9")


def test_format_without_conversion_prints_itself():
    pm = PrintMask()
    pm.add(Column("Name", printf="["))
    pm.add(Column("Name", printf="%s"))
    pm.add(Column("Name", printf="]\n"))
    assert pm.display(pm.render(C.ClassAd({"Name": "x"}))) == "[x]\n"
