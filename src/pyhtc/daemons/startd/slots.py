"""Slots: how the machine is divided (slot_builder.cpp) and each slot's state.

Configuration (manual admin-manual/ep-policy-configuration.rst "Configuring The Startd for
SMP Machines"):

- ``NUM_SLOTS_TYPE_<N>`` slots of type N, each sized by ``SLOT_TYPE_<N>``: a comma list of
  ``cpus=``, ``memory=`` (MiB; ``K``/``M``/``G``/``T`` suffixes accepted), ``disk=`` (a
  fraction or percentage of the free disk), each a number, ``N%`` or ``a/b`` of the
  machine, or ``auto``; a bare ``100%`` / ``1/4`` applies to every resource;
- ``SLOT_TYPE_<N>_PARTITIONABLE = True`` makes each such slot partitionable: claims carve
  dynamic slots ``slot<id>_<k>`` out of it;
- with no typed slots, ``NUM_SLOTS`` (default NUM_CPUS) equal slots.

Resources left ``auto`` share what the explicit sizes leave, evenly.

States and activities are HTCondor's (Owner, Unclaimed, Matched, Claimed, Preempting,
Drained; Idle, Busy, Suspended, Vacating, Killing, Benchmarking, Retiring).
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Optional

from .machine import Resources

MAX_SLOT_TYPES = 10
_UNITS = {"K": Fraction(1, 1024), "M": 1, "G": 1024, "T": 1024 * 1024}
_KEYS = {"cpus": "cpus", "cpu": "cpus", "c": "cpus", "memory": "memory", "mem": "memory",
         "ram": "memory", "m": "memory", "disk": "disk", "d": "disk", "swap": None, "s": None,
         "virtualmemory": None, "v": None}


class SlotConfigError(ValueError):
    """A SLOT_TYPE_<N> / NUM_SLOTS* value that cannot be used (message names the knob)."""


@dataclass
class SlotSpec:
    """One slot to build: its type number, shares and whether it is partitionable.

    A share is an absolute amount (int), a fraction of the machine (Fraction) or None
    (auto)."""

    type_id: int
    cpus: object = None
    memory: object = None
    disk: object = None
    partitionable: bool = False


def _parse_amount(text: str, resource: str, knob: str):
    t = text.strip()
    if t.lower() == "auto" or t == "":
        return None
    m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*%", t)
    if m:
        return Fraction(m.group(1)) / 100
    m = re.fullmatch(r"(\d+)\s*/\s*(\d+)", t)
    if m:
        if int(m.group(2)) == 0:
            raise SlotConfigError(f"{knob}: bad fraction {t!r}")
        return Fraction(int(m.group(1)), int(m.group(2)))
    m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([KMGT]?)B?", t, re.I)
    if m:
        value = Fraction(m.group(1))
        if resource == "memory" and m.group(2):
            value *= _UNITS[m.group(2).upper()]
        if resource == "disk":
            raise SlotConfigError(f"{knob}: disk must be a fraction or percentage, got {t!r}")
        return int(value)
    raise SlotConfigError(f"{knob}: cannot parse {resource} amount {t!r}")


def parse_slot_type(text: str, knob: str) -> dict:
    """``{"cpus": share, "memory": share, "disk": share}`` from a SLOT_TYPE_<N> value.
    Raises SlotConfigError naming ``knob`` and the bad part."""
    out = {"cpus": None, "memory": None, "disk": None}
    parts = [p.strip() for p in re.split(r"[,\s]+(?=[A-Za-z]+\s*=)|,", text or "") if p.strip()]
    for part in parts:
        if "=" not in part:
            share = _parse_amount(part, "all", knob)
            if not isinstance(share, Fraction):
                raise SlotConfigError(f"{knob}: {part!r} must be a fraction or percentage")
            for k in out:
                out[k] = share
            continue
        key, _, val = part.partition("=")
        res = _KEYS.get(key.strip().lower(), "?")
        if res == "?":
            raise SlotConfigError(f"{knob}: unknown resource {key.strip()!r}")
        if res is None:
            continue
        out[res] = _parse_amount(val, res, knob)
    return out


def slot_specs(config) -> list[SlotSpec]:
    """The slots to build, in slot-id order (type 1 first, ...)."""
    specs: list[SlotSpec] = []
    max_types = int(config.param("MAX_SLOT_TYPES") or MAX_SLOT_TYPES)
    for n in range(1, max_types + 1):
        raw = config.param(f"NUM_SLOTS_TYPE_{n}")
        if raw is None or raw.strip() == "":
            continue
        try:
            count = int(raw)
        except ValueError:
            raise SlotConfigError(f"NUM_SLOTS_TYPE_{n} = {raw!r} is not an integer") from None
        shares = parse_slot_type(config.param(f"SLOT_TYPE_{n}") or "", f"SLOT_TYPE_{n}")
        part = (config.param(f"SLOT_TYPE_{n}_PARTITIONABLE") or "false").strip().lower() in ("true", "1", "yes", "t")
        for _ in range(count):
            specs.append(SlotSpec(n, partitionable=part, **shares))
    if specs:
        return specs
    cpus = config.param("NUM_CPUS") or "1"
    raw = config.param("NUM_SLOTS") or cpus
    try:
        count = int(raw)
    except ValueError:
        raise SlotConfigError(f"NUM_SLOTS = {raw!r} is not an integer") from None
    return [SlotSpec(0) for _ in range(max(1, count))]


def allocate(specs: list[SlotSpec], total: Resources) -> list[Resources]:
    """Size each slot: explicit amounts first, then ``auto`` shares split what is left.
    Raises SlotConfigError when the slots ask for more than the machine has."""
    out = [Resources(0, 0, 0) for _ in specs]
    for res in ("cpus", "memory", "disk"):
        whole = getattr(total, res)
        used = 0
        autos = []
        for i, s in enumerate(specs):
            share = getattr(s, res)
            if share is None:
                autos.append(i)
                continue
            amount = int(share * whole) if isinstance(share, Fraction) else int(share)
            setattr(out[i], res, amount)
            used += amount
        if used > whole and res != "disk":
            raise SlotConfigError(f"slot types ask for {used} {res} but the machine has {whole}")
        left = max(0, whole - used)
        for i in autos:
            amount = left // len(autos)
            if res == "cpus":
                amount = max(1, amount)
            setattr(out[i], res, amount)
    return out


@dataclass
class Claim:
    """A claim on a slot (HTCondor's Claim, claim.cpp): the id the schedd presents, the
    request (job) ad, the client, and the activation (starter) while one runs."""

    id: str
    created: float = field(default_factory=time.time)
    job_ad: Optional[object] = None
    client_addr: str = ""
    alive_interval: int = 0
    claimed_at: float = 0.0
    starter_pid: Optional[int] = None
    activation_ad: Optional[object] = None
    activated_at: float = 0.0
    activations: int = 0
    closing: bool = False
    deactivating: str = ""
    hold_reason: str = ""
    usage: dict = field(default_factory=dict)

    @property
    def public_id(self) -> str:
        """The claim id without its secret part (ClaimIdParser::publicClaimId)."""
        return self.id.rpartition("#")[0] + "#..."


@dataclass
class Slot:
    """One slot: identity, resources, state/activity and the current claim.

    ``kind`` is "Static", "Partitionable" or "Dynamic".  A dynamic slot's ``parent`` is its
    partitionable slot; ``sub_id`` its k in ``slot<id>_<k>``."""

    slot_id: int
    type_id: int
    kind: str
    resources: Resources
    claim: Claim
    sub_id: int = 0
    parent: Optional["Slot"] = None
    state: str = "Unclaimed"
    activity: str = "Idle"
    entered_state: float = field(default_factory=time.time)
    entered_activity: float = field(default_factory=time.time)
    children: list = field(default_factory=list)
    next_child: int = 1
    total: Optional[Resources] = None
    #: the startd's ad of this slot for policy evaluation, kept up to date in place
    #: (:meth:`pyhtc.daemons.startd.daemon.Startd.eval_ad`): (template, ClassAd, attributes)
    ad_cache: Optional[tuple] = field(default=None, repr=False, compare=False)

    @property
    def name(self) -> str:
        """``slot1``, ``slot1_2`` (the part before ``@`` in the Name attribute)."""
        return f"slot{self.slot_id}_{self.sub_id}" if self.kind == "Dynamic" else f"slot{self.slot_id}"

    def set_state(self, state: str, activity: str) -> bool:
        """Change state and/or activity; returns True if anything changed."""
        now = time.time()
        changed = False
        if state != self.state:
            self.state, self.entered_state = state, now
            changed = True
        if activity != self.activity or changed:
            if activity != self.activity:
                changed = True
            self.activity, self.entered_activity = activity, now
        return changed
