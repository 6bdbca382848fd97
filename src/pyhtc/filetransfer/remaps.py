"""TransferOutputRemaps: ``name = newpath; name2 = newpath2`` (manual
docs/users-manual/file-transfer.rst, "transfer_output_remaps"; parsing rules from
src/condor_utils/filename_tools_cpp.cpp filename_remap_find / copy_upto / eat_space).

Rules reproduced exactly:

* tabs and newlines are deleted everywhere before parsing; spaces are kept but leading and
  trailing spaces of each name and target are trimmed;
* a backslash escapes only the delimiter being searched for: ``\\=`` inside a name,
  ``\\;`` inside a target; any other backslash is literal (so condor_submit's escaping of
  ``=`` in a target stays in the target, as in HTCondor);
* a field without ``=`` (``a=b;junk;c=d``) is skipped;
* the first rule whose name equals the file name wins; its target is remapped again (rules
  chain); when no rule names the file, its parent directory is remapped and the last path
  component appended (``dir = out`` maps ``dir/x`` to ``out/x``);
* more than MAX_REMAP_RECURSIONS (128) steps is a cycle: :class:`RemapError`.
"""
from __future__ import annotations

from .errors import RemapError

#: HTCondor's MAX_REMAP_RECURSIONS default
MAX_REMAP_RECURSIONS = 128


def _eat_space(text: str) -> str:
    return text.replace("\t", "").replace("\n", "")


def _copy_upto(text: str, pos: int, delim: str) -> tuple[str, int | None]:
    """copy_upto(): returns (field, index of the delimiter or None at end of string)."""
    out: list[str] = []
    trimmed_end = 0
    leading = True
    escape = False
    i = pos
    n = len(text)
    while True:
        if i >= n:
            return "".join(out[:trimmed_end]), None
        c = text[i]
        if c == "\\" and not escape and i + 1 < n and text[i + 1] == delim:
            escape = True
            i += 1
        elif c == delim and not escape:
            return "".join(out[:trimmed_end]), i
        elif c.isspace() and leading:
            i += 1
        else:
            leading = False
            escape = False
            out.append(c)
            i += 1
            if not c.isspace():
                trimmed_end = len(out)


def parse_remaps(text: str | None) -> list[tuple[str, str]]:
    """Parse a TransferOutputRemaps value into ordered ``(name, target)`` rules.

    Args:
        text: the attribute's string value (None or "" gives no rules).
    Returns:
        the rules in order; a rule's name may repeat (the first one wins when applied).
    """
    if not text:
        return []
    buf = _eat_space(text)
    rules: list[tuple[str, str]] = []
    pos = 0
    while True:
        start = pos
        name, p = _copy_upto(buf, pos, "=")
        if p is None:
            break
        semi = name.find(";")
        if semi >= 0:
            # a field without '=': skip it and restart after its ';' (as filename_remap_find)
            pos = start + buf[start:].find(";") + 1
            continue
        target, q = _copy_upto(buf, p + 1, ";")
        rules.append((name, target))
        if q is None:
            break
        pos = q + 1
    return rules


def remap_find(rules: list[tuple[str, str]] | str | None, filename: str,
               max_recursions: int = MAX_REMAP_RECURSIONS) -> str | None:
    """filename_remap_find(): the remapped name of ``filename``, or None when no rule applies.

    Args:
        rules: output of :func:`parse_remaps` (or the raw attribute text).
        filename: a relative name as sent on the wire (``/`` separated).
    Raises:
        RemapError: the rules form a cycle (more than ``max_recursions`` steps).
    """
    if isinstance(rules, str) or rules is None:
        rules = parse_remaps(rules)
    if not rules:
        return None
    return _find(rules, filename, 0, max_recursions)


def _find(rules, filename: str, level: int, limit: int) -> str | None:
    if level > limit:
        raise RemapError(f"transfer_output_remaps resulted in a cycle "
                         f"(more than {limit} steps) starting at {filename!r}")
    for name, target in rules:
        if name == filename:
            again = _find(rules, target, level + 1, limit)
            return again if again is not None else target
    slash = filename.rfind("/")
    if slash < 0:
        return None
    parent, entry = filename[:slash], filename[slash + 1:]
    new_parent = _find(rules, parent, level + 1, limit)
    if new_parent is None:
        return None
    return f"{new_parent}/{entry}"


def escape_remap_target(path: str) -> str:
    """Escape ``;``, ``=`` and ``\\`` with a backslash, as condor_submit does when it writes a
    remap for ``output``/``error`` (submit_utils.cpp EscapeChars(path, ";=\\\\", '\\\\'))."""
    out = []
    for c in path:
        if c in ";=\\":
            out.append("\\")
        out.append(c)
    return "".join(out)


def format_remaps(rules: list[tuple[str, str]]) -> str:
    """Build a TransferOutputRemaps value from rules (names get ``=`` escaped, targets ``;``)."""
    parts = []
    for name, target in rules:
        parts.append(name.replace("=", "\\=") + "=" + target.replace(";", "\\;"))
    return ";".join(parts)
