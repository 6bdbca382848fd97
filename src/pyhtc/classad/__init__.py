"""pyhtc.classad: the ClassAd language in pure Python, compatible with HTCondor 25's
``classad2`` module (same names, same printing, same evaluation semantics).

Public API (mirrors classad2): :class:`ClassAd`, :class:`ExprTree`, :class:`Value`,
:class:`ParserType` (alias ``Parser``), :func:`parseOne`, :func:`parseNext`,
:func:`parseAds`, :func:`quote`, :func:`unquote`, :func:`register`, :func:`version`,
:func:`lastError`, :class:`ClassAdException` and :class:`ClassAdParseError` (a
``SyntaxError`` carrying ``line``/``column``/``offset``).

Layout: lexer -> parser (Pratt) -> nodes (AST compiled to closures) -> classad (ClassAd,
ExprTree); built-ins register themselves in :mod:`pyhtc.classad.functions` from the
``fn_*`` modules imported below.
"""
from __future__ import annotations

import sys as _sys

# Expressions are compiled to nested closures and printed recursively; HTCondor's own
# limit on nesting is far deeper than Python's default of 1000 frames.
if _sys.getrecursionlimit() < 20000:
    _sys.setrecursionlimit(20000)

from .errors import ClassAdException, ClassAdParseError
from .classad import ClassAd, ExprTree
from .pyvalue import Value
from .api import (ParserType, Parser, parseOne, parseNext, parseAds, quote, unquote,
                  register, version, lastError)

# Built-in function modules register themselves on import.
from . import fn_core  # noqa: F401,E402
from . import fn_string, fn_math, fn_time, fn_regex, fn_condor  # noqa: F401,E402

__all__ = ["ClassAd", "ExprTree", "Value", "ParserType", "Parser", "parseOne", "parseNext",
           "parseAds", "quote", "unquote", "register", "version", "lastError",
           "ClassAdException", "ClassAdParseError"]
