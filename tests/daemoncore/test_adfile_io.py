"""daemoncore/adfile.py reads and writes ad files with os calls; the results must be those
of text-mode open() (encoding, universal newlines, file mode), and the ad round trip holds."""
import os

import pytest

from pyhtc import classad as C
from pyhtc.daemoncore.adfile import read_ad, read_text, write_ad, write_text


@pytest.mark.parametrize("data", [
    b"A = 1\nB = \"x\"\n", b"A = 1\r\nB = 2\r\n", b"A = 1\rB = 2\r", b"A = \"\xc3\xbc\"\n", b"",
    b"A = 1\r\r\nB = 2", b"x" * 200000,
])
def test_read_text_is_open_read(tmp_path, data):
    p = tmp_path / "f"
    p.write_bytes(data)
    with open(p) as f:
        assert read_text(str(p)) == f.read()


def test_read_text_undecodable(tmp_path):
    p = tmp_path / "f"
    p.write_bytes(b"A = \"\xff\"\n")
    with pytest.raises(UnicodeDecodeError):
        open(p).read()
    with pytest.raises(UnicodeDecodeError):
        read_text(str(p))
    with pytest.raises(FileNotFoundError):
        read_text(str(tmp_path / "absent"))


def test_write_text_atomic_and_mode(tmp_path):
    p = str(tmp_path / "f")
    old = os.umask(0o027)
    try:
        write_text(p, "A = \"ü\"\n")
    finally:
        os.umask(old)
    assert open(p).read() == "A = \"ü\"\n"
    assert os.stat(p).st_mode & 0o777 == 0o640
    assert not os.path.exists(p + ".tmp")
    write_text(p, "B = 2\n")             # replaces the file
    assert open(p).read() == "B = 2\n"


def test_ad_round_trip_and_errors(tmp_path):
    ad = C.ClassAd({"A": 1, "S": "x y", "L": [1, "a"], "E": C.ExprTree("A + 1")})
    p = str(tmp_path / "ad")
    write_ad(p, ad)
    assert read_ad(p) == ad
    assert open(p).read() == ad.printOld()
    (tmp_path / "bad").write_text("A = (1 +\n")
    try:
        got = read_ad(str(tmp_path / "bad"))
    except SyntaxError as exc:
        assert str(tmp_path / "bad") in str(exc)
    else:
        assert got == C.parseOne("A = (1 +\n", C.ParserType.Old)
