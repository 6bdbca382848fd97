"""Property tests: plain values survive a round trip; expansion is the identity without '$'."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from pyhtc.config import Config
from pyhtc.config.macros import expand, MacroContext
from pyhtc.config.parser import logical_lines

NAMES = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,15}", fullmatch=True).filter(
    lambda n: n.lower() not in ("if", "elif", "else", "endif", "use", "include", "error", "warning"))
PLAIN = st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp"), blacklist_characters="$\\\r\n\x85"),
                max_size=40).map(str.strip)


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(NAMES, PLAIN, min_size=1, max_size=8))
def test_plain_assignments_round_trip(values):
    text = "".join(f"{name} = {value}\n" for name, value in values.items())
    cfg = Config(environ={}).read_string(text)
    seen = {}
    for name, value in values.items():
        seen[name.upper()] = value        # later spellings of the same name win
    for key, value in seen.items():
        assert cfg.raw(key) == value
        assert cfg.param(key) == (value or None)


@settings(max_examples=60, deadline=None)
@given(PLAIN)
def test_expansion_without_dollar_is_identity(text):
    assert expand(text, MacroContext(lambda name: None)) == text


@settings(max_examples=60, deadline=None)
@given(st.lists(PLAIN, min_size=1, max_size=6))
def test_continuation_joins_pieces(pieces):
    body = " \\\n".join(pieces)
    lines = list(logical_lines(f"X = {body}\n"))
    assert len(lines) == 1
    assert lines[0][0] == len(pieces)
