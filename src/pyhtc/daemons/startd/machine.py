"""Machine attributes of the execute point (HTCondor's MachAttributes, src/condor_startd.V6
ResAttributes.cpp, and the sysapi functions it calls).

:func:`machine_resources` gives the totals the slots divide (cpus, memory in MiB, disk in
KiB); :func:`machine_attributes` the attributes every slot ad carries (Arch, OpSys...,
load averages, KeyboardIdle).  Values come from the configuration (which already holds the
detected DETECTED_CPUS / DETECTED_MEMORY, ARCH, OPSYS...), /proc/loadavg and the file
system of EXECUTE.
"""
from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass


@dataclass
class Resources:
    """Machine totals: ``cpus`` (cores), ``memory`` (MiB), ``disk`` (KiB free in EXECUTE)."""

    cpus: int
    memory: int
    disk: int


def _int(config, name: str, default: int) -> int:
    v = config.param(name)
    if v is None or str(v).strip() == "":
        return default
    try:
        return int(float(str(v).strip()))
    except ValueError:
        raise ValueError(f"configuration {name} = {v!r} is not a number") from None


def execute_disk_kib(execute: str) -> int:
    """Free KiB on the file system holding ``execute`` (its nearest existing parent)."""
    path = os.path.abspath(execute)
    while not os.path.exists(path):
        parent = os.path.dirname(path)
        if parent == path:
            break
        path = parent
    return shutil.disk_usage(path).free // 1024


def machine_resources(config, execute: str) -> Resources:
    """NUM_CPUS, MEMORY (else DETECTED_MEMORY) minus RESERVED_MEMORY, and the free disk of
    EXECUTE minus RESERVED_DISK (MiB in the knob, as the manual's startd.rst says)."""
    cpus = _int(config, "NUM_CPUS", _int(config, "DETECTED_CPUS", os.cpu_count() or 1))
    memory = _int(config, "MEMORY", _int(config, "DETECTED_MEMORY", 1024))
    memory -= _int(config, "RESERVED_MEMORY", 0)
    disk = execute_disk_kib(execute) - _int(config, "RESERVED_DISK", 0) * 1024
    return Resources(max(1, cpus), max(1, memory), max(0, disk))


def load_averages() -> float:
    """The 1-minute load average from /proc/loadavg (0.0 when unreadable)."""
    try:
        with open("/proc/loadavg") as f:
            return float(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 0.0


def machine_attributes(config, start_time: float, now: float | None = None) -> dict:
    """Attributes shared by every slot ad.  ``start_time`` is the startd's start (epoch s):
    with no console or keyboard device to watch, KeyboardIdle and ConsoleIdle count from
    then, as HTCondor's idle-time code does when it finds no tty activity."""
    now = time.time() if now is None else now
    host = config.param("FULL_HOSTNAME") or os.uname().nodename
    idle = int(now - start_time)
    attrs = {
        "Machine": host,
        "Arch": config.param("ARCH") or os.uname().machine.upper(),
        "OpSys": config.param("OPSYS") or "LINUX",
        "OpSysAndVer": config.param("OPSYSANDVER") or "",
        "OpSysMajorVer": _int(config, "OPSYSMAJORVER", 0),
        "OpSysVer": _int(config, "OPSYSVER", 0),
        "OpSysName": config.param("OPSYSNAME") or "",
        "OpSysLongName": config.param("OPSYSLONGNAME") or "",
        "OpSysShortName": config.param("OPSYSSHORTNAME") or config.param("OPSYSNAME") or "",
        "OpSysLegacy": config.param("OPSYSLEGACY") or config.param("OPSYS") or "LINUX",
        "UidDomain": config.param("UID_DOMAIN") or host,
        "FileSystemDomain": config.param("FILESYSTEM_DOMAIN") or host,
        "KeyboardIdle": idle,
        "ConsoleIdle": idle,
        "TotalLoadAvg": load_averages(),
        "DetectedCpus": _int(config, "DETECTED_CPUS", os.cpu_count() or 1),
        "DetectedMemory": _int(config, "DETECTED_MEMORY", 0),
        "HasFileTransfer": True,
        "HasPerFileEncryption": True,
        "HasReconnect": True,
        "HasJobDeferral": True,
        "HasTDP": True,
        "HasSelfCheckpointTransfers": True,
        "IsWakeAble": False,
        "StarterAbilityList": "HasFileTransfer,HasJobDeferral,HasReconnect,HasTDP",
    }
    return attrs
