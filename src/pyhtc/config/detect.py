"""Values HTCondor detects at run time and inserts into the configuration as ``<Detected>``.

Follows fill_attributes() and reinsert_specials() in src/condor_utils/condor_config.cpp and the
manual section "Pre-Defined Macros".  Two groups:

* ``early_macros()`` -- inserted before any file is read, so files may use them and may
  override them: ARCH, OPSYS..., DETECTED_CPUS/CORES/MEMORY, SUBSYSTEM, LOCALNAME,
  FILESYSTEM_DOMAIN, UID_DOMAIN.
* ``late_macros()`` -- inserted after all sources (and again so they cannot be overridden):
  HOSTNAME, FULL_HOSTNAME, TILDE, USERNAME, REAL_UID, REAL_GID, PID, PPID, IP_ADDRESS,
  IPV4_ADDRESS, IPV6_ADDRESS, IP_ADDRESS_IS_IPV6.

No sockets and no DNS: host names come from uname (plus DEFAULT_DOMAIN_NAME when the node name
has no domain), addresses from the interface table (psutil).  Probing is done once per process.
"""
from __future__ import annotations

import functools
import ipaddress
import os
import pwd
import socket

__all__ = ["early_macros", "late_macros", "condor_home"]

# sysapi_translate_arch (src/condor_sysapi/arch.cpp): uname machine -> HTCondor Arch
_ARCH = {"x86_64": "X86_64", "amd64": "X86_64", "i386": "INTEL", "i486": "INTEL", "i586": "INTEL",
         "i686": "INTEL", "ppc64": "PPC64", "ppc": "PPC", "arm64": "aarch64"}
_OPSYS = {"linux": "LINUX", "darwin": "OSX", "freebsd": "FREEBSD", "windows": "WINDOWS"}


@functools.lru_cache(maxsize=None)
def _os_release() -> dict[str, str]:
    info: dict[str, str] = {}
    try:
        with open("/etc/os-release", encoding="utf-8") as fh:
            for line in fh:
                key, sep, val = line.strip().partition("=")
                if sep:
                    info[key] = val.strip().strip('"')
    except OSError:
        pass
    return info


@functools.lru_cache(maxsize=None)
def _platform_macros() -> dict[str, str]:
    uts = os.uname()
    opsys = _OPSYS.get(uts.sysname.lower(), uts.sysname.upper())
    rel = _os_release()
    name = (rel.get("NAME") or uts.sysname).split()[0]
    if name.lower() in ("red", "rhel"):
        name = "RedHat"
    version = rel.get("VERSION_ID", "")
    major = version.split(".")[0] if version else ""
    minor = version.split(".")[1] if "." in version else "0"
    macros = {
        "ARCH": _ARCH.get(uts.machine.lower(), uts.machine),
        "UNAME_ARCH": uts.machine,
        "OPSYS": opsys,
        "UNAME_OPSYS": uts.sysname,
        "OPSYSLEGACY": opsys,
        "UTSNAME_SYSNAME": uts.sysname,
        "UTSNAME_NODENAME": uts.nodename,
        "UTSNAME_RELEASE": uts.release,
        "UTSNAME_VERSION": uts.version,
        "UTSNAME_MACHINE": uts.machine,
    }
    if major.isdigit():
        macros["OPSYSMAJORVER"] = major
        macros["OPSYSVER"] = str(int(major) * 100 + (int(minor) if minor.isdigit() else 0))
        macros["OPSYSANDVER"] = f"{name}{major}"
        macros["OPSYS_AND_VER"] = macros["OPSYSANDVER"]   # the manual's spelling
    macros["OPSYSNAME"] = name
    macros["OPSYSSHORTNAME"] = name
    pretty = rel.get("PRETTY_NAME", "")
    macros["OPSYSLONGNAME"] = pretty.split(" (")[0] if pretty else name
    return macros


@functools.lru_cache(maxsize=None)
def _hardware() -> tuple[int, int, int]:
    import psutil          # imported on first use: tools that never load a config skip it
    logical = psutil.cpu_count(logical=True) or 1
    physical = psutil.cpu_count(logical=False) or logical
    memory_mib = psutil.virtual_memory().total // (1024 * 1024)
    return logical, physical, memory_mib


def _cpus_limit(detected: int, environ) -> int:
    limit = detected
    for var in ("OMP_THREAD_LIMIT", "SLURM_CPUS_ON_NODE"):
        try:
            val = int(environ.get(var, ""))
        except ValueError:
            continue
        if 0 < val < limit:
            limit = val
    return limit


def early_macros(subsystem: str, local_name: str | None, environ) -> dict[str, str]:
    """Detected values files may use and override (fill_attributes)."""
    logical, physical, memory = _hardware()
    macros = dict(_platform_macros())
    macros.update({
        "SUBSYSTEM": subsystem,
        "LOCALNAME": local_name or subsystem,
        "DETECTED_MEMORY": str(memory),
        "DETECTED_PHYSICAL_CPUS": str(physical),
        "DETECTED_CORES": str(logical),
        "DETECTED_CPUS": str(logical),
        "DETECTED_CPUS_LIMIT": str(_cpus_limit(logical, environ)),
    })
    return macros


def condor_home() -> str | None:
    """Home directory of the ``condor`` user (TILDE), or None."""
    try:
        return pwd.getpwnam("condor").pw_dir
    except KeyError:
        return None


@functools.lru_cache(maxsize=None)
def _addresses() -> tuple[str | None, str | None]:
    """Most public IPv4 and IPv6 address of this host, from the interface table."""
    import psutil
    best4 = best6 = None
    rank4 = rank6 = -1
    try:
        table = psutil.net_if_addrs()
    except OSError:
        table = {}
    for addrs in table.values():
        for addr in addrs:
            text = addr.address.split("%")[0]
            try:
                ip = ipaddress.ip_address(text)
            except ValueError:
                continue
            # rank: public > private > link-local > loopback
            rank = 0 if ip.is_loopback else 1 if ip.is_link_local else 2 if ip.is_private else 3
            if addr.family == socket.AF_INET and rank > rank4:
                best4, rank4 = text, rank
            elif addr.family == socket.AF_INET6 and rank > rank6:
                best6, rank6 = text, rank
    return best4, best6


def late_macros(lookup_default_domain: str | None) -> dict[str, str]:
    """Detected values that always win (reinsert_specials)."""
    node = os.uname().nodename
    hostname = node.split(".")[0]
    full = node
    if "." not in node and lookup_default_domain:
        full = f"{node}.{lookup_default_domain.lstrip('.')}"
    macros = {"HOSTNAME": hostname, "FULL_HOSTNAME": full}
    tilde = condor_home()
    if tilde:
        macros["TILDE"] = tilde
    try:
        macros["USERNAME"] = pwd.getpwuid(os.getuid()).pw_name
    except KeyError:
        pass
    macros["REAL_UID"] = str(os.getuid())
    macros["REAL_GID"] = str(os.getgid())
    macros["PID"] = str(os.getpid())
    macros["PPID"] = str(os.getppid())
    ip4, ip6 = _addresses()
    primary = ip4 or ip6 or "127.0.0.1"
    macros["IP_ADDRESS"] = primary
    macros["IP_ADDRESS_IS_IPV6"] = "true" if ":" in primary else "false"
    if ip4:
        macros["IPV4_ADDRESS"] = ip4
    if ip6:
        macros["IPV6_ADDRESS"] = ip6
    return macros
