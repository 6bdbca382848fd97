"""Slot configuration parsing and sizing (slot_builder.cpp rules), machine attributes and
the starter's argument/environment syntax, without processes."""
from fractions import Fraction

import pytest

from pyhtc.config import Config
from pyhtc.daemons.startd.machine import Resources, machine_attributes, machine_resources
from pyhtc.daemons.startd.slots import (SlotConfigError, allocate, parse_slot_type,
                                        slot_specs)
from pyhtc.daemons.starter.environment import parse_arguments, parse_environment


def cfg(**knobs):
    env = {"CONDOR_CONFIG": "ONLY_ENV"}
    env.update({f"_CONDOR_{k}": str(v) for k, v in knobs.items()})
    return Config.load("STARTD", environ=env, read_user_config=False)


def test_parse_slot_type_forms():
    assert parse_slot_type("cpus=2, memory=1G, disk=25%", "K") == {
        "cpus": 2, "memory": 1024, "disk": Fraction(1, 4)}
    assert parse_slot_type("1/4", "K") == {"cpus": Fraction(1, 4), "memory": Fraction(1, 4),
                                           "disk": Fraction(1, 4)}
    assert parse_slot_type("c=1 m=512", "K") == {"cpus": 1, "memory": 512, "disk": None}
    assert parse_slot_type("cpus=auto, mem=50%", "K")["cpus"] is None
    for bad, needle in (("gpus=1", "unknown resource 'gpus'"), ("cpus=lots", "cpus amount 'lots'"),
                        ("disk=100", "disk must be a fraction"), ("cpus=1/0", "bad fraction")):
        with pytest.raises(SlotConfigError) as ei:
            parse_slot_type(bad, "SLOT_TYPE_3")
        assert "SLOT_TYPE_3" in str(ei.value) and needle in str(ei.value)


def test_slot_specs_and_allocation():
    specs = slot_specs(cfg(NUM_SLOTS_TYPE_1=2, SLOT_TYPE_1="cpus=1, memory=512",
                           NUM_SLOTS_TYPE_2=1, SLOT_TYPE_2="cpus=2", SLOT_TYPE_2_PARTITIONABLE="true"))
    assert [(s.type_id, s.partitionable) for s in specs] == [(1, False), (1, False), (2, True)]
    sizes = allocate(specs, Resources(4, 4096, 1000))
    assert [(r.cpus, r.memory) for r in sizes] == [(1, 512), (1, 512), (2, 4096 - 1024)]
    assert [r.disk for r in sizes] == [333, 333, 333]
    # no typed slots: NUM_SLOTS equal slots
    specs = slot_specs(cfg(NUM_SLOTS=4))
    sizes = allocate(specs, Resources(4, 4000, 400))
    assert [(r.cpus, r.memory, r.disk) for r in sizes] == [(1, 1000, 100)] * 4
    with pytest.raises(SlotConfigError, match="ask for 8 cpus but the machine has 4"):
        allocate(slot_specs(cfg(NUM_SLOTS_TYPE_1=2, SLOT_TYPE_1="cpus=4")), Resources(4, 100, 100))
    with pytest.raises(SlotConfigError, match="NUM_SLOTS_TYPE_1"):
        slot_specs(cfg(NUM_SLOTS_TYPE_1="two"))


def test_machine_resources_and_attributes(tmp_path):
    c = cfg(NUM_CPUS=3, MEMORY=1000, RESERVED_MEMORY=100, ARCH="X86_64", OPSYS="LINUX")
    r = machine_resources(c, str(tmp_path / "not-yet"))
    assert (r.cpus, r.memory) == (3, 900) and r.disk > 0
    attrs = machine_attributes(c, start_time=1000.0, now=1060.0)
    assert attrs["KeyboardIdle"] == 60 and attrs["ConsoleIdle"] == 60
    assert attrs["Arch"] == "X86_64" and attrs["OpSys"] == "LINUX"
    assert isinstance(attrs["TotalLoadAvg"], float)
    with pytest.raises(ValueError, match="NUM_CPUS"):
        machine_resources(cfg(NUM_CPUS="many"), str(tmp_path))


def test_arguments_and_environment_syntax():
    assert parse_arguments("-c 'echo hi > out; sleep 0.2'") == ["-c", "echo hi > out; sleep 0.2"]
    assert parse_arguments("a 'it''s' ''") == ["a", "it's", ""]
    assert parse_arguments("a  b\tc", new_syntax=False) == ["a", "b", "c"]
    assert parse_environment("A=1 B='x y' C=") == {"A": "1", "B": "x y", "C": ""}
    assert parse_environment("A=1;B=2", new_syntax=False) == {"A": "1", "B": "2"}
    with pytest.raises(ValueError, match="offset 2"):
        parse_arguments("a 'b")
    with pytest.raises(ValueError, match="NAME=VALUE"):
        parse_environment("JUSTNAME")
