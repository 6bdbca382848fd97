"""The ClassAd differential corpus rows of the built-in function categories (fn_string,
fn_convert, fn_math, fn_time, fn_regex, fn_stringlist, fn_misc, unicode), evaluated through
pyhtc.classad's parser, evaluator and printer; every expected result comes from the C++
library (see shared/classad/corpus/README.md). Run with TZ=UTC like the corpus."""
import json
import os
import time

import pytest

from tests.conftest import SHARED

os.environ["TZ"] = "UTC"
time.tzset()

import pyhtc.classad as C  # noqa: E402

CATS = ("fn_string", "fn_convert", "fn_math", "fn_time", "fn_regex", "fn_stringlist",
        "fn_misc", "unicode")
CORPUS = SHARED / "classad" / "corpus" / "public.jsonl"


def _rows():
    if not CORPUS.is_file():
        return []
    rows = [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines()
            if line.strip()]
    return [r for r in rows if r["cat"] in CATS]


ROWS = _rows()


def _evaluate(row) -> str:
    try:
        tree = C.ExprTree(row["expr"])
    except (SyntaxError, C.ClassAdException):
        return "PARSE_ERROR"
    ad = C.ClassAd(row["ad"]) if row["ad"] else None
    target = C.ClassAd(row["target"]) if row["target"] else None
    if target is not None and ad is None:
        ad = C.ClassAd()
    return repr(tree.simplify(ad, target))


def test_corpus_is_present():
    assert len(ROWS) > 500, f"corpus rows for {CATS} not found at {CORPUS}"


@pytest.mark.parametrize("row", ROWS, ids=[f"{r['cat']}:{r['expr'][:40]}" for r in ROWS])
def test_corpus_row(row):
    assert _evaluate(row) == row["result"], row["expr"]
