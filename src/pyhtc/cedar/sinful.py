"""Sinful strings and daemon address files (src/condor_utils/condor_sinful.cpp,
condor_sockaddr.cpp; PROTOCOL.md section 8).

``<host:port?key=value&key=value>``: IPv6 hosts in brackets; parameters separated by ``&`` or
``;``, keys and values URL-encoded with ``%xx`` (everything except alphanumerics and
``._-:#[]+`` is escaped when formatting); a parameter with an empty value is written without
``=`` (``noUDP``); parameters are formatted in sorted (std::map) key order.  ``addrs`` is a
``+``-separated list of "CCB-safe" addresses ``ip-port`` (every ``:`` of the address replaced by
``-``, IPv6 in brackets, e.g. ``[fd00--1]-9618``).
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from .errors import CedarError


class SinfulError(CedarError, ValueError):
    """A malformed sinful string (the message names the text and the position)."""


_SAFE = re.compile(r"[A-Za-z0-9._\-:#\[\]+]")


def url_encode(text: str) -> str:
    """condor_sinful.cpp urlEncode(): escape everything but ``[A-Za-z0-9._-:#[]+]``."""
    out = []
    for ch in text:
        if _SAFE.fullmatch(ch):
            out.append(ch)
        else:
            out.extend(f"%{b:02x}" for b in ch.encode("utf-8"))
    return "".join(out)


def url_decode(text: str, where: int = 0) -> str:
    """Inverse of :func:`url_encode`; raises SinfulError on a bad ``%`` escape."""
    out = bytearray()
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "%":
            hexpart = text[i + 1:i + 3]
            if len(hexpart) != 2 or not all(c in "0123456789abcdefABCDEF" for c in hexpart):
                raise SinfulError(f"bad %-escape {text[i:i + 3]!r} at position {where + i}")
            out.append(int(hexpart, 16))
            i += 3
        else:
            out += ch.encode("utf-8")
            i += 1
    return out.decode("utf-8", "surrogateescape")


def parse_ccb_safe(addr: str) -> tuple[str, int]:
    """``"127.0.0.1-9618"`` or ``"[fd00--1]-9618"`` -> (host, port)  (condor_sockaddr
    from_ccb_safe_string)."""
    if addr.startswith("["):
        end = addr.find("]")
        if end < 0 or addr[end + 1:end + 2] != "-":
            raise SinfulError(f"bad address {addr!r} in addrs")
        host = addr[1:end].replace("-", ":")
        port = addr[end + 2:]
    else:
        host, sep, port = addr.rpartition("-")
        if not sep:
            raise SinfulError(f"bad address {addr!r} in addrs")
    if not port.isdigit() or int(port) > 65535:
        raise SinfulError(f"bad port in address {addr!r}")
    return host, int(port)


def format_ccb_safe(host: str, port: int) -> str:
    """(host, port) -> ``ip-port`` with ``:`` replaced by ``-`` (IPv6 in brackets)."""
    if ":" in host:
        return f"[{host.replace(':', '-')}]-{port}"
    return f"{host}-{port}"


@dataclass
class Sinful:
    """A parsed sinful string.

    Attributes:
        host: host name or IP (IPv6 without brackets).
        port: port number or None.
        params: parameters in parse order (keys case-sensitive as in HTCondor).
    """
    host: str
    port: int | None = None
    params: dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str) -> "Sinful":
        """Parse ``<host:port?params>`` (condor_sinful.cpp split_sin/parseUrlEncodedParams).
        Also accepts a bare ``host:port`` as the Python bindings do.  Raises SinfulError."""
        s = text.strip()
        if not s.startswith("<"):
            if ":" in s and not s.startswith("["):
                h, _, p = s.rpartition(":")
                if p.isdigit():
                    return cls(h, int(p))
            raise SinfulError(f"sinful string {text!r} does not start with '<'")
        if not s.endswith(">"):
            raise SinfulError(f"sinful string {text!r} does not end with '>'")
        body = s[1:-1]
        pos = 0
        if body.startswith("["):
            end = body.find("]")
            if end < 0:
                raise SinfulError(f"unterminated '[' in sinful string {text!r}")
            host = body[1:end]
            pos = end + 1
        else:
            m = re.match(r"[^:?>]*", body)
            host = m.group(0)
            pos = m.end()
        port = None
        if body[pos:pos + 1] == ":":
            m = re.match(r"\d*", body[pos + 1:])
            digits = m.group(0)
            pos += 1 + len(digits)
            if digits:
                port = int(digits)
                if port > 65535:
                    raise SinfulError(f"port {port} out of range in {text!r}")
        params: dict[str, str] = {}
        if body[pos:pos + 1] == "?":
            params = _parse_params(body[pos + 1:], pos + 2)
            pos = len(body)
        if pos != len(body):
            raise SinfulError(f"unexpected {body[pos:]!r} at position {pos + 1} of {text!r}")
        sinful = cls(host, port, params)
        sinful.addrs  # validate
        return sinful

    @property
    def addrs(self) -> list[tuple[str, int]]:
        """The ``addrs`` parameter as (host, port) pairs."""
        raw = self.params.get("addrs")
        if not raw:
            return []
        return [parse_ccb_safe(a) for a in raw.split("+") if a]

    @property
    def alias(self) -> str | None:
        """The ``alias=`` host name, or None."""
        return self.params.get("alias")

    @property
    def shared_port_id(self) -> str | None:
        """The ``sock=`` shared-port id, or None."""
        return self.params.get("sock")

    @property
    def ccb_id(self) -> str | None:
        """The ``CCBID=`` contact, or None."""
        return self.params.get("CCBID")

    @property
    def no_udp(self) -> bool:
        """True when the daemon does not listen on UDP (``noUDP``)."""
        return "noUDP" in self.params

    def set_addrs(self, addrs: list[tuple[str, int]]) -> None:
        """Set ``addrs=`` from (host, port) pairs."""
        self.params["addrs"] = "+".join(format_ccb_safe(h, p) for h, p in addrs)

    def __str__(self) -> str:
        """regenerateSinfulString(): brackets for IPv6, params sorted by key."""
        host = f"[{self.host}]" if ":" in self.host and "[" not in self.host else self.host
        out = "<" + host
        if self.port is not None:
            out += f":{self.port}"
        if self.params:
            parts = []
            for k in sorted(self.params):
                v = self.params[k]
                parts.append(url_encode(k) + (f"={url_encode(v)}" if v else ""))
            out += "?" + "&".join(parts)
        return out + ">"


def _parse_params(text: str, base: int) -> dict[str, str]:
    params: dict[str, str] = {}
    i = 0
    while i < len(text):
        while i < len(text) and text[i] in ";&":
            i += 1
        if i >= len(text):
            break
        m = re.match(r"[^=&;]*", text[i:])
        key_raw = m.group(0)
        if not key_raw:
            raise SinfulError(f"empty parameter name at position {base + i}")
        key = url_decode(key_raw, base + i)
        i += len(key_raw)
        value = ""
        if text[i:i + 1] == "=":
            i += 1
            m = re.match(r"[^&;]*", text[i:])
            value = url_decode(m.group(0), base + i)
            i += len(m.group(0))
        params[key] = value
    return params


# -- address files -------------------------------------------------------------------------

@dataclass
class AddressFile:
    """Content of a ``<SUBSYS>_ADDRESS_FILE``: sinful, $CondorVersion, $CondorPlatform lines
    and optional ``Attr = value`` lines (daemon_core_main.cpp drop_addr_file)."""
    sinful: str
    version: str = "$CondorVersion: 25.14.1 2026-09-24 BuildID: pyhtc $"
    platform: str = "$CondorPlatform: X86_64-Linux $"
    extra: list[tuple[str, str]] = field(default_factory=list)

    def render(self) -> str:
        """The file's text."""
        lines = [self.sinful, self.version, self.platform]
        lines += [f"{k} = {v}" for k, v in self.extra]
        return "\n".join(lines) + "\n"


def write_address_file(path: str | os.PathLike, af: AddressFile) -> None:
    """Write atomically: ``<path>.new`` then rename (PROTOCOL.md 8)."""
    tmp = f"{os.fspath(path)}.new"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(af.render())
    os.replace(tmp, path)


def read_address_file(path: str | os.PathLike) -> AddressFile:
    """Parse an address file; raises SinfulError naming ``file:line`` when malformed."""
    p = os.fspath(path)
    with open(p, encoding="utf-8", errors="surrogateescape") as f:
        lines = f.read().splitlines()
    if not lines or not lines[0].strip():
        raise SinfulError(f"{p}:1: address file has no sinful string")
    try:
        Sinful.parse(lines[0])
    except SinfulError as exc:
        raise SinfulError(f"{p}:1: {exc}") from None
    af = AddressFile(lines[0].strip(), "", "")
    for n, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        if line.startswith("$CondorVersion:"):
            af.version = line
        elif line.startswith("$CondorPlatform:"):
            af.platform = line
        else:
            k, eq, v = line.partition("=")
            if not eq or not k.strip():
                raise SinfulError(f"{p}:{n}: expected 'Attr = value', got {line[:60]!r}")
            af.extra.append((k.strip(), v.strip()))
    return af
