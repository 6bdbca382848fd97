from __future__ import annotations

import pytest

from pyhtc.cedar.sinful import (AddressFile, Sinful, SinfulError, read_address_file,
                                url_decode, url_encode, write_address_file)


def test_parse_real_daemon_sinful():
    s = Sinful.parse("<127.0.0.1:19622?addrs=127.0.0.1-19622&alias=fake.example.org>")
    assert (s.host, s.port) == ("127.0.0.1", 19622)
    assert s.addrs == [("127.0.0.1", 19622)]
    assert s.alias == "fake.example.org"
    assert not s.no_udp
    assert str(s) == "<127.0.0.1:19622?addrs=127.0.0.1-19622&alias=fake.example.org>"


def test_ipv6_nodup_and_sorting():
    s = Sinful.parse("<[fd00::1]:9618?noUDP&sock=collector;addrs=[fd00--1]-9618+10.0.0.1-9618>")
    assert s.host == "fd00::1" and s.port == 9618
    assert s.addrs == [("fd00::1", 9618), ("10.0.0.1", 9618)]
    assert s.no_udp and s.shared_port_id == "collector"
    # std::map order; empty value written without '='
    assert str(s) == "<[fd00::1]:9618?addrs=[fd00--1]-9618+10.0.0.1-9618&noUDP&sock=collector>"


def test_url_encoding_roundtrip():
    assert url_encode("a b&c>") == "a%20b%26c%3e"
    assert url_decode("a%20b%26c%3e") == "a b&c>"
    s = Sinful("h", 1, {"CCBID": "<1.2.3.4:5>#7"})
    assert Sinful.parse(str(s)).ccb_id == "<1.2.3.4:5>#7"


@pytest.mark.parametrize("bad", ["127.0.0.1", "<1.2.3.4:5", "<1.2.3.4:99999>", "<h:1?=x>",
                                 "<h:1?a=%zz>", "<h:1?addrs=nonsense>", "<[::1:5>", "<h:1x>"])
def test_bad(bad):
    with pytest.raises(SinfulError):
        Sinful.parse(bad)


def test_bare_host_port():
    assert Sinful.parse("127.0.0.1:9618").port == 9618


def test_address_file(tmp_path):
    p = tmp_path / ".collector_address"
    write_address_file(p, AddressFile("<127.0.0.1:9618>", extra=[("Foo", '"bar"')]))
    text = p.read_text()
    assert text.startswith("<127.0.0.1:9618>\n$CondorVersion: ")
    assert "\n$CondorPlatform: " in text
    af = read_address_file(p)
    assert af.sinful == "<127.0.0.1:9618>" and af.extra == [("Foo", '"bar"')]
    assert not (tmp_path / ".collector_address.new").exists()
    p.write_text("<127.0.0.1:9618>\n$CondorVersion: x $\ngarbage line\n")
    with pytest.raises(SinfulError, match=r"\.collector_address:3"):
        read_address_file(p)
