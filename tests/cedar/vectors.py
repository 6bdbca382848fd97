"""Helpers to load the shared CEDAR captures (shared_dir / "cedar/vectors")."""
from __future__ import annotations

import pathlib
import re
from dataclasses import dataclass

_KEY = re.compile(r"AES-GCM enabled; key=([0-9a-f]{64})")


@dataclass
class TcpVector:
    name: str          # e.g. "e02_collector_query_negotiated_aes.conn1"
    c2s: bytes
    s2c: bytes
    key: bytes | None  # the AES session key logged by the capture server


def experiment_key(vdir: pathlib.Path, exp: str) -> bytes | None:
    """The session key of an experiment (conn1 transcript; resumed conns reuse it)."""
    for txt in sorted(vdir.glob(f"{exp}.conn*.txt")):
        m = _KEY.search(txt.read_text(errors="replace"))
        if m:
            return bytes.fromhex(m.group(1))
    return None


def tcp_vectors(vdir: pathlib.Path) -> list[TcpVector]:
    out = []
    for c2s in sorted(vdir.glob("*.c2s.bin")):
        base = c2s.name[:-len(".c2s.bin")]
        exp = base.split(".")[0]
        txt = vdir / f"{base}.txt"
        m = _KEY.search(txt.read_text(errors="replace")) if txt.exists() else None
        key = bytes.fromhex(m.group(1)) if m else experiment_key(vdir, exp)
        out.append(TcpVector(base, c2s.read_bytes(), (vdir / f"{base}.s2c.bin").read_bytes(), key))
    return out


def udp_vectors(vdir: pathlib.Path) -> dict[str, list[bytes]]:
    """experiment -> its datagrams in order."""
    out: dict[str, list[bytes]] = {}
    for f in sorted(vdir.glob("*.udp*.bin"), key=lambda p: (p.name.split(".")[0],
                                                           int(p.name.split(".")[1][3:]))):
        out.setdefault(f.name.split(".")[0], []).append(f.read_bytes())
    return out
