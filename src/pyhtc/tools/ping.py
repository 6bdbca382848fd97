"""condor_ping: ask a daemon whether it would authorize commands of given permission levels.

Follows docs/man-pages/condor_ping.rst and src/condor_tools/ping.cpp::

    condor_ping [-address SINFUL | -pool HOST [-name NAME] | -name NAME] [-type SUBSYS]
                [-quiet | -table | -verbose | -long | -af[:lhVr,tng] ATTR... | -format FMT ATTR]
                TOKEN...

TOKEN is ``ALL``, a permission level (READ, WRITE, ADMINISTRATOR, ...), a command name
(``DC_NOP``, ``QUERY_STARTD_ADS``) or a command number.  For each one the tool connects,
negotiates security for DC_SEC_QUERY (60040) with ``AuthCommand`` = the level's sample
command (PROTOCOL.md 6.7) and reads the daemon's ``AuthorizationSucceeded`` answer.
Output modes: the default sentence (``WRITE command using (AES, AES, and FS) succeeded as
alice@host to collector at <...>.``), ``-table`` (one row per token), ``-verbose`` (a
paragraph per token), ``-quiet`` (exit status only), ``-long`` (a ``# TOKEN command to
DAEMON is ALLOWED`` comment and the session policy ad), ``-af``/``-format`` (columns of the
policy ad plus ``Result``, ``Name`` = the command's name and ``From`` = the daemon).  Put
the TOKENs before ``-af``: it takes every following non-option argument as an attribute.  Exit status 0 when every query got an
answer (allowed or not, as HTCondor), 1 when a token is not understood, the daemon cannot be
located or a query fails.
"""
from __future__ import annotations

import sys
from typing import Optional

from pyhtc import classad as C
from pyhtc.cedar.commands import Command
from pyhtc.cedar.security.negotiation import CLIENT_VERSION
from pyhtc.cedar.sinful import Sinful
from pyhtc.client import DaemonNotFound, locate_daemon, parse_address
from pyhtc.client.ping import (DC_BASE, DC_NOP_OWNER, SAMPLE_COMMANDS, PingResult,  # noqa: F401
                               _literal, command_for_token, sec_query)
from pyhtc.config import ConfigError, get_config
from pyhtc.tools.common import (Column, PrintMask, autoformat_mask, format_long,
                                is_dash_arg_colon_prefix, is_dash_arg_prefix)

ALL_TOKENS = ["ALLOW", "READ", "WRITE", "NEGOTIATOR", "ADMINISTRATOR", "OWNER", "CONFIG",
              "DAEMON", "ADVERTISE_STARTD", "ADVERTISE_SCHEDD", "ADVERTISE_MASTER"]
DAEMON_TYPES = {"collector", "schedd", "master", "startd", "negotiator"}

USAGE = """Usage: {cmd} [options] TOKEN [TOKEN [TOKEN [...]]]

where TOKEN is ( ALL | <authorization-level> | <command-name> | <command-int> )

general options:
    -debug                          Show extra debugging info
    -help                           Display this output

specifying target options:
    -address <sinful>               Use this sinful string
    -pool    <host>                 Query this collector
    -name    <name>                 Find a daemon with this name
    -subsystem <subsystem>          Type of daemon to contact (default: SCHEDD)
    -type    <subsystem>            Type of daemon to contact (default: SCHEDD)

output options (specify only one):
    -quiet                          No output, only sets status
    -table                          Print one result per line
    -verbose                        Print all available information
    -long                           Print result classad
    -format <fmt> <attr>            Display <attr> values with formatting
    -af[:lhVr,tng] <attr> [attr2 [...]]
                                    Print attr(s) with automatic formatting

Example:
    {cmd} -addr "<127.0.0.1:9618>" -table READ WRITE DAEMON

"""

QUIET, SENTENCE, VERBOSE, LONG, CUSTOM, TABLE = 0, 1, 2, 3, 4, 10


class PingUsage(Exception):
    """A command-line error: message, then usage, exit 1."""


def policy_ad(r: PingResult, command: int, dname: str) -> C.ClassAd:
    """The session policy as a ClassAd plus ``Result`` (ALLOWED/DENIED/FAILED), ``Name``
    (the command's name), ``From`` (the daemon) and, for a failure, ``AuthCommand``
    (ping.cpp print_policy_attrs)."""
    ad = C.ClassAd()
    for name, text in r.raw.items():
        try:
            ad[name] = C.ExprTree(text)
        except C.ClassAdParseError:
            ad[name] = text
    if not r.ok:
        ad["AuthCommand"] = command
    ad["Result"] = "FAILED" if not r.ok else ("ALLOWED" if r.authorized else "DENIED")
    ad["Name"] = command_name(command)
    ad["From"] = dname
    return ad


def command_name(command: int) -> str:
    """HTCondor's name of a command number (getCommandStringSafe)."""
    extra = {DC_BASE + 27: "DC_NOP_ADVERTISE_STARTD", DC_BASE + 28: "DC_NOP_ADVERTISE_SCHEDD",
             DC_BASE + 29: "DC_NOP_ADVERTISE_MASTER"}
    try:
        return Command(command).name
    except ValueError:
        return extra.get(command, str(command))


def _methods(p: dict) -> tuple[str, str, str]:
    """(encryption, integrity, authentication) as ping.cpp prints them; '' for "no"."""
    enc = p.get("encryption", "NO")
    if enc.lower() == "no":
        enc_text = ""
    else:
        enc = enc_text = p.get("cryptomethods", "")
    integ = p.get("integrity", "NO")
    if integ.lower() == "no":
        integ_text = ""
    elif enc == "AES":
        integ_text = "AES"
    else:
        integ_text = "MD5"
    auth = p.get("authentication", "NO")
    auth_text = "" if auth.lower() == "no" else p.get("authmethods", "")
    return enc_text, integ_text, auth_text


def format_result(mode: int, r: PingResult, name: str, command: int, dname: str) -> str:
    """The text printed for one token (ping.cpp print_useful_info_1/2/10)."""
    p = r.policy
    if mode == QUIET:
        return ""
    if mode == SENTENCE:
        if not r.ok:
            return f"{name} failed!  Use -verbose for more information.\n"
        enc, integ, auth = _methods(p)
        return (f"{name} command using ({enc or 'no encryption'}, {integ or 'no integrity'}, and "
                f"{auth or 'no authentication'}) {'succeeded' if r.authorized else 'failed'} as "
                f"{p.get('myremoteusername', '')} to {dname}.\n")
    if mode == TABLE:
        if not r.ok:
            return "%20s           FAIL       FAIL      FAIL     FAIL FAIL  (use -verbose for more info)\n" % name
        enc, integ, auth = _methods(p)
        return "%20s%15s%11s%10s%s%s\n" % (name, auth or "none", enc or "none", integ or "none",
                                           "    ALLOW " if r.authorized else "     DENY ",
                                           p.get("myremoteusername", ""))
    # VERBOSE
    if not r.ok:
        return f"{name} failed!\n{r.error}\n\n"
    enc, integ, auth = _methods(p)
    lines = [
        f"Destination:                 {dname}",
        f"Remote Version:              {p.get('remoteversion', '')}",
        f"Local  Version:              {CLIENT_VERSION}",
        f"Session ID:                  {p.get('sid', '')}",
        f"Instruction:                 {name}",
        f"Command:                     {command}",
        f"Encryption:                  {enc or 'none'}",
        f"Integrity:                   {integ or 'none'}",
    ]
    if auth:
        lines.append(f"Authenticated using:         {auth}")
        lines.append(f"All authentication methods:  {p.get('authmethodslist', '')}")
    else:
        lines.append("Authentication:              none")
    lines.append(f"Remote Mapping:              {p.get('myremoteusername', '')}")
    lines.append(f"Authorized:                  {'TRUE' if r.authorized else 'FALSE'}")
    return "\n".join(lines) + "\n\n"


def _set_mode(cur: int, new: int) -> int:
    if cur != -1 and not (cur == new and new in (LONG, CUSTOM)):
        raise PingUsage("ERROR: only one output mode may be specified.")
    return new


def main(argv: Optional[list[str]] = None) -> int:
    """Entry point of ``condor_ping``; returns the exit status."""
    argv = sys.argv[1:] if argv is None else argv
    cmd = "condor_ping"
    pool = name = address = None
    dtype = None
    mode = -1
    tokens: list[str] = []
    mask = PrintMask()
    try:
        i = 0
        while i < len(argv):
            a = argv[i]

            def arg():
                if i + 1 >= len(argv):
                    raise PingUsage(f"ERROR: {a} requires an argument.")
                return argv[i + 1]
            if is_dash_arg_prefix(a, "help", 1):
                sys.stdout.write(USAGE.format(cmd=cmd))
                return 0
            elif is_dash_arg_prefix(a, "quiet"):
                mode = _set_mode(mode, QUIET)
            elif is_dash_arg_prefix(a, "table", 2):
                mode = _set_mode(mode, TABLE)
            elif is_dash_arg_prefix(a, "verbose"):
                mode = _set_mode(mode, VERBOSE)
            elif is_dash_arg_prefix(a, "long"):
                mode = _set_mode(mode, LONG)
            elif is_dash_arg_prefix(a, "format", 1):
                mode = _set_mode(mode, CUSTOM)
                if i + 2 >= len(argv):
                    raise PingUsage("ERROR: -format requires 2 arguments")
                try:
                    mask.add(Column(argv[i + 2], printf=argv[i + 1]))
                except C.ClassAdParseError:
                    raise PingUsage(f"ERROR: {argv[i + 2]} is not a valid expression") from None
                i += 2
            elif is_dash_arg_colon_prefix(a, "af", 2)[0] or is_dash_arg_colon_prefix(a, "autoformat", 5)[0]:
                opts = a.split(":", 1)[1] if ":" in a else ""
                exprs = []
                while i + 1 < len(argv) and not argv[i + 1].startswith("-"):
                    i += 1
                    exprs.append(argv[i])
                try:
                    autoformat_mask(exprs, opts, mask)
                except ValueError:
                    raise PingUsage("ERROR: could not parse -af option") from None
                mode = _set_mode(mode, CUSTOM)
            elif is_dash_arg_prefix(a, "pool"):
                pool = arg()
                i += 1
                if address:
                    raise PingUsage("ERROR: -address cannot be used with -pool or -name.")
            elif is_dash_arg_prefix(a, "name"):
                name = arg()
                i += 1
                if address:
                    raise PingUsage("ERROR: -address cannot be used with -pool or -name.")
            elif is_dash_arg_prefix(a, "subsystem", 3) or is_dash_arg_prefix(a, "type", 4):
                t = arg()
                i += 1
                if t.lower() not in DAEMON_TYPES:
                    raise PingUsage(f"ERROR: unrecognized daemon type: {t}")
                dtype = t.lower()
            elif is_dash_arg_prefix(a, "address"):
                address = arg()
                i += 1
                if pool or name:
                    raise PingUsage("ERROR: -address cannot be used with -pool or -name.")
            elif is_dash_arg_colon_prefix(a, "debug")[0]:
                pass
            elif not a.startswith("-") or a == "-":
                tokens += ALL_TOKENS if a.upper() == "ALL" else [a]
            else:
                raise PingUsage(f"ERROR: Unknown argument: {a}")
            i += 1
    except PingUsage as exc:
        sys.stderr.write(f"{exc}\n\n" + USAGE.format(cmd=cmd))
        return 1

    if mode == -1:
        mode = SENTENCE
    if not tokens:
        if mode > 4:
            sys.stderr.write("WARNING: Missing <authz-level | command-name | command-int> "
                             "argument, defaulting to WRITE.\n")
        tokens = ["WRITE"]
    numbers = [command_for_token(t) for t in tokens]
    bad = [t for t, n in zip(tokens, numbers) if n == -1]
    if bad:
        if mode:
            for t in bad:
                sys.stderr.write(f"ERROR: Could not understand TOKEN \"{t}\".\n")
        return 1

    try:
        config = get_config()
    except ConfigError as exc:
        sys.stderr.write(f"ERROR: {exc}\n")
        return 1
    if dtype is None and not address:
        if mode > 4:
            sys.stderr.write("WARNING: Missing daemon argument, defaulting to SCHEDD.\n")
        dtype = "schedd"
    try:
        if address:
            target = address
            s = Sinful.parse(address) if address.startswith("<") else None
            dname = f"daemon at <{s.host}:{s.port}>" if s else f"daemon at {address}"
        else:
            target = locate_daemon(dtype, name, pool, config)
            if not target:
                raise DaemonNotFound(dtype)
            if name:
                dname = f"{dtype} {name}"
            elif pool or dtype == "collector":
                h, p = parse_address(target)
                dname = f"{dtype} at <{h}:{p}>"
            else:
                dname = f"local {dtype}"
    except (DaemonNotFound, ValueError):
        if mode:
            sys.stderr.write(f"ERROR: couldn't locate {address or name or '(null)'}!\n")
        return 1

    if mode == TABLE:
        sys.stdout.write("         Instruction Authentication Encryption Integrity Decision Identity\n")
    all_ok = True
    headings_done = False
    for tok, num in zip(tokens, numbers):
        r = sec_query(target, num, config)
        all_ok &= r.ok
        if mode == LONG:        # ping.cpp print_policy_ad
            text = "" if r.ok else f"#{r.error}\n"
            result = "FAILED" if not r.ok else ("ALLOWED" if r.authorized else "DENIED")
            text += f"# {tok} command to {dname} is {result}\n"
            if r.ok:
                ad = C.ClassAd()
                for name, expr in r.raw.items():
                    ad[name] = C.ExprTree(expr)
                text += format_long(ad)
        elif mode == CUSTOM:    # ping.cpp print_policy_attrs
            row = mask.render(policy_ad(r, num, dname))
            text = "" if r.ok else f"#{r.error}\n"
            if mask.has_headings and not headings_done:
                text += mask.headings()
                headings_done = True
            text += mask.display(row)
        else:
            text = format_result(mode, r, tok, num, dname)
        sys.stdout.write(text)
        sys.stdout.flush()
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
