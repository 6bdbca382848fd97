"""condor_config_val: show configuration values, where they were set, and the files read.

Follows the manual page docs/man-pages/condor_config_val.rst and the output formats of
src/condor_tools/config_val.cpp for local (file based) queries:

    condor_config_val [options] NAME [NAME...]     expanded values, one per line
    condor_config_val -v NAME                      NAME = value / # at: file, line N / # raw: ...
    condor_config_val -dump [regex...]             NAME = raw for every matching name
    condor_config_val -config                      the files read
    condor_config_val -macro TEXT                  expand TEXT as the config language would
    condor_config_val use CATEGORY[:Template]      list templates / show one
    condor_config_val -summary[:detected]          values changed from the defaults, by source
    condor_config_val -check                       (pyhtc) names that look like misspelled knobs

Options: -verbose/-v, -raw, -expand, -default, -subsystem NAME, -local-name NAME,
-root-config FILE, -json (values as a JSON object), -help.  Options may be abbreviated as
HTCondor allows (``-sub``, ``-loc``...).  Querying a daemon over the network (-name/-pool,
-set/-rset...) is not handled here.  Exit status 0 on success, 1 if any NAME is not
defined or the configuration cannot be read ("Not defined: NAME" on stderr).
"""
from __future__ import annotations

import json
import re
import sys

from pyhtc.config import Config, ConfigError, default_value
from pyhtc.config.config import SOURCE_DEFAULT
from pyhtc.config._templates import TEMPLATES

USAGE = """Usage: condor_config_val [options] <variable> [<variable>...]
       condor_config_val [options] -dump [<regex>...]
       condor_config_val [options] -config
       condor_config_val [options] -macro <text>...
       condor_config_val use <category>[:<template>] [-expand]
Options:
    -verbose | -v          show where each variable was set and its raw value
    -raw                   show raw (unexpanded) values
    -expand                show expanded values (the default, except with -dump)
    -default               show values from the built-in defaults table
    -subsystem <name>      look up values as subsystem <name> (default TOOL)
    -local-name <name>     look up values for daemon instance <name>
    -root-config <file>    read <file> instead of $CONDOR_CONFIG
    -summary[:detected]    print the values sources changed from the defaults, by source
    -json                  print values as a JSON object
    -check                 (pyhtc) report names that look like misspelled knobs
    -help                  print this message
"""

# option name -> (minimum abbreviation length, takes argument)
_OPTIONS = {
    "verbose": (1, False), "raw": (3, False), "expand": (3, False), "default": (3, False),
    "dump": (2, False), "config": (3, False), "subsystem": (3, True), "local-name": (3, True),
    "root-config": (3, True), "json": (2, False), "help": (1, False), "macro": (3, False),
    "summary": (3, False), "summary:detected": (99, False),   # matched specially
    "check": (5, False),
}


def _match_option(arg: str) -> str | None:
    word = arg.lstrip("-").lower()
    if not word:
        return None
    if ":" in word:                       # only -summary:detected takes a ':' option
        head, _, tail = word.partition(":")
        if len(head) >= 3 and "summary".startswith(head) and len(tail) >= 3 and "detected".startswith(tail):
            return "summary:detected"
        return None
    for name, (minimum, _takes) in _OPTIONS.items():
        if len(word) >= minimum and name.startswith(word):
            return name
    return None


def _herefile(value: str, indent: str, tag: str | None = None) -> str:
    """Print a multi-line value the way config_val.cpp's indent_herefile does."""
    out = "@=" + tag if tag else ""
    for line in value.split("\n"):
        if line:
            out += "\n" + indent + line
    if tag:
        out += "\n@" + tag
    return out


def _print_value(value: str, indent: str, tag: str | None) -> str:
    if "\n" in value:
        return _herefile(value, indent, tag)
    return ("= " if tag else "") + value


def _parse_args(argv: list[str]) -> tuple[dict, list[str]]:
    opts: dict = {"verbose": False, "raw": False, "expand": False, "default": False, "dump": False,
                  "config": False, "subsystem": "TOOL", "local-name": None, "root-config": None,
                  "json": False, "help": False, "macro": False, "use": None, "summary": False,
                  "summary:detected": False, "check": False}
    names: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        i += 1
        if arg == "use" and not names and opts["use"] is None:
            if i >= len(argv):
                raise SystemExit("condor_config_val: use needs a category")
            opts["use"] = argv[i]
            i += 1
            continue
        if arg.startswith("-") and len(arg) > 1:
            name = _match_option(arg)
            if name is None:
                raise ValueError(f"unknown option {arg}")
            if _OPTIONS[name][1]:
                if i >= len(argv):
                    raise ValueError(f"{arg} requires an argument")
                opts[name] = argv[i]
                i += 1
            else:
                opts[name] = True
            continue
        names.append(arg)
    return opts, names


def _show_use(config: Config, spec: str, expand_it: bool, out) -> int:
    category, _, template = spec.partition(":")
    cat = next((c for c in TEMPLATES if c.upper() == category.upper()), None)
    if cat is None:
        print(f"Not defined: use {category}", file=sys.stderr)
        return 1
    if not template:
        out.write(f"use {cat} accepts\n")
        for name in sorted(TEMPLATES[cat], key=str.upper):
            out.write(f"  {name}\n")
        return 0
    name = next((t for t in TEMPLATES[cat] if t.upper() == template.upper()), None)
    if name is None:
        print(f"Not defined: use {cat}:{template}", file=sys.stderr)
        return 1
    out.write(f"use {cat}:{name} is\n")
    for line in TEMPLATES[cat][name].split("\n"):
        if line:
            out.write("    " + (config.expand(line) if expand_it else line) + "\n")
    return 0


def _summary(config: Config, detected: bool, out) -> None:
    """-summary: values set by sources that differ from the defaults table, grouped by source
    in the order the sources were read, each in line order (do_write_config in config_val.cpp)."""
    from pyhtc import CONDOR_VERSION
    order = {name: idx for idx, name in reversed(list(enumerate(config.sources)))}
    special = {"<Detected>": -1, "<Environment>": len(order) + 1, "<Internal>": len(order) + 2}
    chosen = []
    for entry in config.entries():
        if entry.source == "<Detected>" and not detected:
            continue
        if default_value(entry.name) == entry.value:
            continue
        rank = special.get(entry.source, order.get(entry.source, len(order)))
        chosen.append((rank, entry.line or 0, entry.name.upper(), entry))
    out.write(f"# condor_config_val $CondorVersion: {CONDOR_VERSION} pyhtc $\n")
    last = None
    for _rank, _line, _key, entry in sorted(chosen):
        if entry.source != last:
            out.write(f"\n#\n# from {entry.source}\n#\n")
            last = entry.source
        out.write(f"{entry.name} {_print_value(entry.value, '', 'end')}\n")


def _dump(config: Config, opts: dict, patterns: list[str], out) -> dict:
    result: dict = {}
    if not opts["json"]:
        out.write(f"# Configuration from machine: {config.param('FULL_HOSTNAME', '<unknown hostname>')}\n")
    names = config.names(include_defaults=True)
    for pattern in patterns or [""]:
        try:
            regex = re.compile(pattern, re.IGNORECASE)
        except re.error as exc:
            raise ValueError(f"bad regular expression {pattern!r}: {exc}") from None
        if pattern and not opts["json"]:
            out.write(f"\n# Parameters with names that match {pattern}:\n")
        for name in names:
            if not regex.search(name):
                continue
            found = config.lookup_entry(name)
            if found is None:
                continue
            used, raw, entry = found
            if opts["default"]:
                value = default_value(name) or ""
            elif opts["expand"]:
                value = config.param(name) or ""
            else:
                value = raw
            result[used] = value
            if opts["json"]:
                continue
            out.write(f"{used} {_print_value(value, '   ', 'end')}\n")
            if opts["verbose"]:
                out.write(f" # at: {entry.location() if entry else SOURCE_DEFAULT}\n")
                if opts["expand"]:
                    out.write(f" # raw: {_print_value(raw, ' #     ', None)}\n")
                else:
                    out.write(f" # expanded: {_print_value(config.param(name) or '', ' #     ', None)}\n")
                dflt = default_value(name)
                if dflt:
                    out.write(f" # default: {_print_value(dflt, ' #     ', None)}\n")
    if not opts["verbose"] and not opts["json"]:
        out.write("# Contributing configuration file(s):\n")
        if config.root_source:
            out.write(f"#\t{config.root_source}\n")
        for source in config.local_sources:
            out.write(f"#\t{source}\n")
    return result


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status (0 ok, 1 not defined / error, 2 usage)."""
    argv = sys.argv[1:] if argv is None else argv
    out = sys.stdout
    try:
        opts, names = _parse_args(argv)
    except ValueError as exc:
        print(f"condor_config_val: {exc}\n{USAGE}", file=sys.stderr)
        return 2
    if opts["help"]:
        out.write(USAGE)
        return 0
    if not names and not (opts["dump"] or opts["config"] or opts["use"] or opts["summary"]
                          or opts["summary:detected"] or opts["check"]):
        print(USAGE, file=sys.stderr)
        return 2
    try:
        config = Config.load(subsystem=opts["subsystem"], local_name=opts["local-name"],
                             root_config=opts["root-config"])
    except ConfigError as exc:
        print(f"Configuration Error: {exc}", file=sys.stderr)
        return 1
    for warning in config.warnings:
        print(warning, file=sys.stderr)
    try:
        return _run(config, opts, names, out)
    except ConfigError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 1
    except ValueError as exc:
        print(f"condor_config_val: {exc}", file=sys.stderr)
        return 2


def _run(config: Config, opts: dict, names: list[str], out) -> int:
    if opts["use"]:
        return _show_use(config, opts["use"], opts["expand"], out)
    if opts["config"]:
        if opts["json"]:
            json.dump({"root": config.root_source, "local": config.local_sources}, out, indent=1)
            out.write("\n")
            return 0
        print("Configuration source:", file=sys.stderr)
        out.write(f"\t{config.root_source or '<none>'}\n")
        if config.local_sources:
            label = "source" if len(config.local_sources) == 1 else "sources"
            print(f"Local configuration {label}:", file=sys.stderr)
            for source in config.local_sources:
                out.write(f"\t{source}\n")
        return 0
    if opts["check"]:
        suspects = config.likely_misspellings()
        for entry, knob in suspects:
            out.write(f"{entry.name}: not a knob HTCondor knows; did you mean {knob}? "
                      f"(at {entry.location()})\n")
        return 1 if suspects else 0
    if opts["summary"] or opts["summary:detected"]:
        _summary(config, opts["summary:detected"], out)
        return 0
    if opts["dump"]:
        result = _dump(config, opts, names, out)
        if opts["json"]:
            json.dump(result, out, indent=1, sort_keys=True)
            out.write("\n")
        return 0
    if opts["macro"]:
        for text in names:
            out.write(config.expand(text) + "\n")
        return 0

    missing = 0
    result: dict = {}
    for name in names:
        found = config.lookup_entry(name)
        used = found[0] if found else name.upper()
        if opts["default"]:
            value = default_value(name, config.subsystem)
        elif opts["raw"]:
            value = found[1] if found else None
        else:
            value = config.param(name)
        if value is None:
            print(f"Not defined: {used}", file=sys.stderr)
            missing += 1
            if opts["json"]:
                result[name] = None
            continue
        if opts["json"]:
            if opts["verbose"]:
                entry = found[2] if found else None
                result[name] = {"name": used, "value": value, "raw": found[1] if found else None,
                                "at": entry.location() if entry else SOURCE_DEFAULT}
            else:
                result[name] = value
            continue
        if opts["verbose"]:
            out.write(f"{used} {_print_value(value, '   ', 'end')}\n")
            entry = found[2] if found else None
            out.write(f" # at: {entry.location() if entry else SOURCE_DEFAULT}\n")
            if found and not opts["default"] and not opts["raw"]:
                out.write(f" # raw: {_print_value(f'{used} = {found[1]}', ' #   ', None)}\n")
            out.write("\n")
        else:
            out.write(value + "\n")
    if opts["json"]:
        json.dump(result, out, indent=1)
        out.write("\n")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
