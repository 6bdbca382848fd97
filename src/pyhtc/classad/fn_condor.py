"""ClassAd built-ins that HTCondor adds on top of the ClassAd library ("compat" functions,
registered by ``import htcondor2`` in the real bindings).

Source of the semantics: ``src/condor_utils/compat_classad.cpp`` (the ``*_func``
implementations), ``src/condor_utils/stl_string_utils.cpp`` (``StringTokenIterator``),
``src/condor_utils/env.cpp`` (``Env``: V1 / V2 environment strings) and
``src/condor_utils/condor_arglist.cpp`` (``split_args`` / ``join_args``: V2 arguments).

Functions: stringListSize, stringListSum/Avg/Min/Max, stringListMember,
stringListIMember, stringListSubsetMatch, stringListISubsetMatch, split, splitUserName,
splitSlotName, envV1ToV2, mergeEnvironment, listToArgs, argsToList, userHome, userMap.
(``stringList_regexpMember`` lives in :mod:`pyhtc.classad.fn_regex`.)
"""
from __future__ import annotations

from typing import Callable, Optional

from .fn_string import c_isspace, c_strtod, double_to_int64, int32, string_list_tokens
from .functions import builtin
from .values import ERROR, UNDEFINED, ListValue, from_bytes, to_bytes

__all__ = ["split_args", "join_args", "set_user_map_resolver"]

_FLT_MAX = 3.4028234663852886e+38
_FLT_MIN = 1.1754943508222875e-38


# --------------------------------------------------------------------------------------
# string lists
# --------------------------------------------------------------------------------------

@builtin("stringListSize", 1, 2)
def _sl_size(ctx, s, delims=", "):
    """stringListSize(list[, delims]) -> number of (trimmed, non-empty) items.
    Non-string arguments (undefined included) -> error."""
    if type(s) is not str or type(delims) is not str:
        return ERROR
    return len(string_list_tokens(s, delims))


def _scanf_double(item: bytes):
    """glibc ``sscanf(item, "%lf")``: like strtod, except that a partly written
    ``infinity`` or a ``0x`` without hex digits is a matching failure (None)."""
    value, used = c_strtod(item)
    if used == 0:
        return None
    body = item.lstrip(b" \t\n\v\f\r").lstrip(b"+-").lower()
    if body.startswith(b"inf") and body[3:4] == b"i" and not body.startswith(b"infinity"):
        return None
    if body.startswith(b"0x") and not (body[2:3] and body[2:3] in b"0123456789abcdef."):
        return None
    return value


def _summarize(kind: str):
    def impl(ctx, s, delims=", "):
        if type(s) is not str or type(delims) is not str:
            return ERROR
        if kind in ("sum", "avg"):
            acc = 0.0
        elif kind == "min":
            acc = _FLT_MAX
        else:
            acc = _FLT_MIN  # sic: HTCondor starts max() at FLT_MIN (a positive number)
        is_real = False
        items = string_list_tokens(s, delims)
        for item in items:
            value = _scanf_double(item)
            if value is None:
                return ERROR
            if item.strip(b"+-0123456789"):
                is_real = True
            if kind in ("sum", "avg"):
                acc = value + acc
            elif kind == "min":
                acc = value if value < acc else acc
            else:
                acc = value if value > acc else acc
        if not items:
            return 0.0 if kind in ("sum", "avg") else UNDEFINED
        if kind == "avg":
            acc /= len(items)
        return acc if is_real else double_to_int64(acc)
    impl.__doc__ = (f"stringList{kind.capitalize()}(list[, delims]): {kind} of the numeric "
                    "items (compat_classad.cpp stringListSummarize_func); an item that is "
                    "not a number -> error; integer result unless an item looks real.")
    return impl


for _k in ("sum", "avg", "min", "max"):
    builtin("stringList" + _k.capitalize(), 1, 2)(_summarize(_k))


def _lower(b: bytes) -> bytes:
    return b.lower()  # bytes.lower() is ASCII-only, like strcasecmp


def _member_args(item, lst, delims):
    """Shared argument rules of stringList[I]Member / [I]SubsetMatch: strings or
    undefined (= empty string); anything else -> error; both undefined -> undefined."""
    for v in (item, lst, delims):
        if v is not None and v is not UNDEFINED and type(v) is not str:
            return ERROR
    if item is UNDEFINED and lst is UNDEFINED:
        return UNDEFINED
    d = delims if type(delims) is str else ", \t\r\n"
    return ("" if item is UNDEFINED else item, "" if lst is UNDEFINED else lst, d)


def _member(case_sensitive: bool):
    def impl(ctx, item, lst, delims=None):
        a = _member_args(item, lst, delims)
        if type(a) is not tuple:
            return a
        key = to_bytes(a[0])
        items = string_list_tokens(a[1], a[2])
        if case_sensitive:
            return key in items
        key = _lower(key)
        return any(_lower(x) == key for x in items)
    impl.__doc__ = ("stringList%sMember(item, list[, delims]): whether item is in the string "
                    "list%s." % ("" if case_sensitive else "I",
                                 "" if case_sensitive else " (ASCII case-insensitive)"))
    return impl


def _subset(case_sensitive: bool):
    def impl(ctx, sub, lst, delims=None):
        a = _member_args(sub, lst, delims)
        if type(a) is not tuple:
            return a
        if a[0] == "":
            return True
        norm = (lambda b: b) if case_sensitive else _lower
        have = {norm(x) for x in string_list_tokens(a[1], a[2])}
        items = string_list_tokens(a[0], a[2])
        if not items:
            return False
        return all(norm(x) in have for x in items)
    impl.__doc__ = ("stringList%sSubsetMatch(sub, list[, delims]): whether every item of "
                    "sub is in list; an empty sub is always a subset."
                    % ("" if case_sensitive else "I"))
    return impl


builtin("stringListMember", 2, 3)(_member(True))
builtin("stringListIMember", 2, 3)(_member(False))
builtin("stringListSubsetMatch", 2, 3)(_subset(True))
builtin("stringListISubsetMatch", 2, 3)(_subset(False))


@builtin("split", 1, 2)
def _split(ctx, s, seps=", \t"):
    """split(s[, seps]) -> list of strings (compat_classad.cpp splitArb_func).

    Splits at each separator character; whitespace runs and a single non-space separator
    mixed with whitespace count as one break, but a repeated non-space separator yields
    empty items (``"a,,b"`` -> ``{"a","","b"}``)."""
    if type(s) is not str or type(seps) is not str:
        return ERROR
    data = to_bytes(s)
    sepset = set(to_bytes(seps))
    out = []
    last = 0
    n = len(data)
    if sepset:
        ch = -1
        ix = _find_first_of(data, sepset, last)
        while ix < n:
            if ix - last > 0:
                out.append(data[last:ix])
            elif not (ch != -1 and c_isspace(ch)) and ch == data[ix]:
                out.append(b"")
            if not c_isspace(data[ix]):
                ch = data[ix]
            last = ix + 1
            ix = _find_first_of(data, sepset, last)
    if n > last:
        out.append(data[last:])
    return ListValue.of(from_bytes(x) for x in out)


def _find_first_of(data: bytes, chars: set, start: int) -> int:
    for i in range(start, len(data)):
        if data[i] in chars:
            return i
    return len(data)


def _split_at(slot: bool):
    def impl(ctx, s):
        if type(s) is not str:
            return ERROR
        ix = s.find("@")
        if ix < 0:
            return ListValue.of(["", s] if slot else [s, ""])
        return ListValue.of([s[:ix], s[ix + 1:]])
    impl.__doc__ = ("split%s(s) -> {before, after} the first '@'; without '@' the %s is "
                    "empty." % (("SlotName", "slot") if slot else ("UserName", "domain")))
    return impl


builtin("splitUserName", 1)(_split_at(False))
builtin("splitSlotName", 1)(_split_at(True))


# --------------------------------------------------------------------------------------
# arguments and environment (condor_arglist.cpp, env.cpp)
# --------------------------------------------------------------------------------------

def split_args(text: bytes) -> Optional[list[bytes]]:
    """Parse a V2 raw argument string (``split_args``): whitespace separates arguments,
    single quotes group, ``''`` inside quotes is a literal quote. None if a quote is
    unbalanced."""
    out: list[bytes] = []
    buf = bytearray()
    token = False
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == 0x27:
            token = True
            i += 1
            while True:
                if i >= n:
                    return None
                if text[i] == 0x27:
                    if i + 1 < n and text[i + 1] == 0x27:
                        buf.append(0x27)
                        i += 2
                        continue
                    break
                buf.append(text[i])
                i += 1
            i += 1
        elif c in b" \t\n\r":
            i += 1
            if token:
                token = False
                out.append(bytes(buf))
                buf = bytearray()
        else:
            token = True
            buf.append(c)
            i += 1
    if token:
        out.append(bytes(buf))
    return out


def join_args(args: list[bytes]) -> bytes:
    """Quote arguments into a V2 raw string (``join_args`` / ``append_arg``)."""
    res = bytearray()
    for arg in args:
        if res:
            res += b" "
        if not arg:
            res += b"''"
        for c in arg:
            if c in b" \t\n\r'":
                if res and res[-1] == 0x27:
                    del res[-1]  # merge with the preceding quoted section
                else:
                    res.append(0x27)
                if c == 0x27:
                    res.append(0x27)
                res.append(c)
                res.append(0x27)
            else:
                res.append(c)
    return bytes(res)


def _v1_args(text: bytes) -> list[bytes]:
    """``AppendArgsV1Raw_unix``: split on whitespace, no quoting."""
    return [t for t in text.replace(b"\t", b" ").replace(b"\n", b" ").replace(
        b"\r", b" ").split(b" ") if t]


def _version_arg(v):
    """The optional syntax-version argument of argsToList / listToArgs: 1 or 2, else None."""
    if type(v) is not int:
        return None
    v = int32(v)
    return v if v in (1, 2) else None


@builtin("argsToList", 1, 2)
def _args_to_list(ctx, s, version=2):
    """argsToList(args[, version=2]) -> list of the arguments in a V2 (or V1) arguments
    string; non-string input, a bad version or an unbalanced quote -> error."""
    ver = _version_arg(version)
    if ver is None or type(s) is not str:
        return ERROR
    data = to_bytes(s)
    parts = _v1_args(data) if ver == 1 else split_args(data)
    if parts is None:
        return ERROR
    return ListValue.of(from_bytes(p) for p in parts)


@builtin("listToArgs", 1, 2)
def _list_to_args(ctx, lst, version=2):
    """listToArgs(list[, version=2]) -> arguments string (V2 quoting; V1 cannot hold
    whitespace inside an argument -> error). Non-string elements -> error."""
    ver = _version_arg(version)
    if ver is None or type(lst) is not ListValue:
        return ERROR
    args = []
    for v in lst.values():
        if type(v) is not str:
            return ERROR
        args.append(to_bytes(v))
    if ver == 1:
        if any(any(c in b" \t\r\n" for c in a) for a in args):
            return ERROR
        res = b""
        for a in args:  # GetArgsStringV1Raw: a space only once something was written
            res = res + b" " + a if res else a
        return from_bytes(res)
    return from_bytes(join_args(args))


#: Env entries without '=' that contain "$$" are kept verbatim (env.cpp NO_ENVIRONMENT_VALUE)
_NO_VALUE = object()
_V1_DELIM = b";"
_PERMITTED_DELIMS = b"!#$%&*+,-/:;<>?@^`|~\x1f"


def _set_env(table: dict, entry: bytes) -> bool:
    """``Env::SetEnvWithErrorMessage``: ``NAME=VALUE`` into ``table``; False on bad input."""
    if not entry:
        return False
    eq = entry.find(b"=")
    if eq < 0 and b"$$" in entry:
        table[entry] = _NO_VALUE
        return True
    if eq <= 0:
        return False
    table[entry[:eq]] = entry[eq + 1:]
    return True


def _env_v2(table: dict) -> str:
    """``Env::getDelimitedStringV2Raw``: entries sorted by name, V2-quoted."""
    items = [k if table[k] is _NO_VALUE else k + b"=" + table[k] for k in sorted(table)]
    return from_bytes(join_args(items))


@builtin("envV1ToV2", 1)
def _env_v1_to_v2(ctx, s):
    """envV1ToV2(env) -> the V1 environment string (``;``-separated, or separated by a
    leading delimiter character) in V2 syntax. Undefined -> undefined; other non-strings or
    an entry without ``NAME=`` -> error."""
    if s is UNDEFINED:
        return UNDEFINED
    if type(s) is not str:
        return ERROR
    data = to_bytes(s)
    table: dict = {}
    if data:
        delim = _V1_DELIM
        first = data[:1]
        if first == delim:
            data = data[1:]
        elif first[0] and first in _PERMITTED_DELIMS:
            delim = first
            data = data[1:]
        i, n = 0, len(data)
        while i < n:
            while i < n and data[i] in b" \t\n\r":
                i += 1
            start = i
            while i < n and data[i] != 0x0A and data[i] != delim[0]:
                i += 1
            entry = data[start:i]
            if i < n:
                i += 1
            if entry and not _set_env(table, entry):
                return ERROR
    return _env_v2(table)


@builtin("mergeEnvironment", 0, None)
def _merge_environment(ctx, *envs):
    """mergeEnvironment(env1, env2, ...) -> V2 environment string of all the V2 strings
    merged, later values winning; undefined arguments are skipped; others -> error."""
    table: dict = {}
    for v in envs:
        if v is UNDEFINED:
            continue
        if type(v) is not str:
            return ERROR
        parts = split_args(to_bytes(v))
        if parts is None:
            return ERROR
        for p in parts:
            if not _set_env(table, p):
                return ERROR
    return _env_v2(table)


# --------------------------------------------------------------------------------------
# userHome / userMap
# --------------------------------------------------------------------------------------

@builtin("userHome", 0, None)
def _user_home(ctx, *args):
    """userHome(user[, default]) -> the user's home directory (getpwnam); when unknown,
    ``default`` if it is a non-empty string, else undefined (error for a non-string user).
    Any other argument count is an evaluation failure in HTCondor (not just ERROR)."""
    if len(args) not in (1, 2):
        from .fn_math import EvaluationFailure
        raise EvaluationFailure("userHome() takes 1 or 2 arguments")
    owner = args[0]
    default = args[1] if len(args) == 2 else None
    dflt = default if type(default) is str else ""
    if owner is UNDEFINED and not dflt:
        return UNDEFINED
    if type(owner) is not str:
        return dflt if dflt else ERROR
    try:
        import pwd
        home = pwd.getpwnam(owner).pw_dir
    except (ImportError, KeyError, ValueError):
        home = None
    if home:
        return home
    return dflt if dflt else UNDEFINED


#: Resolver for userMap(): ``fn(map_name, user) -> "item1,item2" or None``. Upper layers
#: (configuration: CLASSAD_USER_MAP_*) install one with :func:`set_user_map_resolver`.
_user_map_resolver: Optional[Callable[[str, str], Optional[str]]] = None


def set_user_map_resolver(fn: Optional[Callable[[str, str], Optional[str]]]) -> None:
    """Install the function userMap() consults (``None``: no maps, every lookup fails)."""
    global _user_map_resolver
    _user_map_resolver = fn


@builtin("userMap", 2, 4)
def _user_map(ctx, map_name, user, preferred=None, *rest):
    """userMap(map, user[, preferred[, default]]) (compat_classad.cpp userMap_func).

    2 args: the mapped comma list as a string; 3/4 args: the preferred item if present
    (case-insensitive) else the first. No mapping -> undefined, or ``default`` (4 args)."""
    has_default = len(rest) == 1
    default = rest[0] if has_default else UNDEFINED
    if type(map_name) is not str or type(user) is not str:
        if map_name is ERROR or user is ERROR:
            return ERROR
        return default
    output = _user_map_resolver(map_name, user) if _user_map_resolver else None
    if output is None:
        return default
    if preferred is None:
        return output
    items = [from_bytes(t) for t in string_list_tokens(output, ",")]
    if type(preferred) is str:
        low = to_bytes(preferred).lower()
        for it in items:
            if to_bytes(it).lower() == low:
                return it
    if items:
        return items[0]
    return default
