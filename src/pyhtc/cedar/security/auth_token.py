"""IDTOKENS ("TOKEN", condor_auth_passwd.cpp protocol version 2; AUTH.md section 1).

* Tokens are compact JWTs (HS256) signed with
  ``HMAC-SHA256(HKDF-SHA256(key, salt="htcondor", info="master jwt"), header.payload)``;
  signing keys live in SEC_PASSWORD_DIRECTORY, XOR-scrambled with ``DE AD BE EF``; the POOL key
  is used doubled (``K || K``).
* Wire exchange (AKEP2 variant) after the method handshake chose bit 2048::

    M1 C->S  int status, int len(a), string a, string T, int 256, bytes(256) ra
    M2 S->C  int status, int len(a), string a, int len(b), string b, int 256, bytes ra,
             int 256, bytes(256) rb, int 20, bytes(20) hkt
    M3 C->S  int status, int len(a), string a, int 256, bytes rb, int 20, bytes(20) hk

  with ``ka = HKDF-SHA256(sig, salt=SEED_KA || T, info="master ka")``,
  ``hkt = HMAC-SHA1(ka, a " " b NUL ra rb)`` and ``hk = HMAC-SHA1(ka, a NUL rb)``; ``T`` is the
  token without its signature and ``sig`` its raw signature, which never travels.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import secrets
import time
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ..errors import ProtocolError, SecurityError
from ..ops import RECV, Send

SEED_KA = bytes.fromhex(
    "3e4a502047d5f4e5dc7c69bb5210cbb6167add8084f7dd9ef3ad2cca71d283dd"
    "114a4fbb7b1ee90adfa862c44304de5473a3172f735c2cbb6e775b5d40d39fac"
    "e873182523f9252b623be0d4b167a3a8040cacfee9ee3da02c0abbf4d9d8b11f"
    "89004c943923ce5d9508bb3f04bc66a3fa20a13a416c5e6f4e0d3187d45fc783"
    "35c5e485db2c5a3717970cc26e7b6b9d1965b47a67df77a31f22f08a6c0ba570"
    "97a21a9ca7c60424f72739ab5cb915a4185bd109828e35e42108ab851c08a3df"
    "fde0e3b06f3d3938cdad6df6ef9a6f6dc2cb74f0228512eb7a3d6823010684b0"
    "15c12ac3014c4f9f938e384dad1e3bd745ff8c141fd70b465ba8af5d1b98b4b1")
SEED_KB = bytes.fromhex(
    "010026ad75dfc6c190a5a266b0d1b5d860f7cfa38467205501cd460d4a88d473"
    "fa52e0b3e9141e33c97d851eee2dd33632f3886768ef010ec8dfdd668ade92d5"
    "c34308bb243895d84ed785e27268cc5ee7560de49828fab766c2ad8c0b2c0afb"
    "435c382db5d2ff36a8aead5820470a9ad45d79856f5e2ece894bd2507929dcf2"
    "6f7d09f0028f1ac4d971f4820c5f54717e9dcdabeb215f61655dead4b72c3d3b"
    "5f66fa4b30b85888d62facd4129c1304919f69ad6d8c2c43d9ce5cdb31d45803"
    "52c7362b8d80b7ef1bba5d676660a944764502f91d1d3c54910c088bccb72b11"
    "948a5e1a1dcd04369c17d298804c216e7a2690b8c0e970363300d092df24fb8c")
RANDOM_LEN = 256
HASH_LEN = 20
SCRAMBLE = bytes.fromhex("deadbeef")
#: the server's name in M2 for clients >= 23.9.0 (AUTH.md 1.4)
SERVER_NAME = "condor@password"
MAX_NAME = 4096


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise SecurityError(f"bad base64url in token: {exc}") from None


def scramble(data: bytes) -> bytes:
    """XOR with the repeating bytes DE AD BE EF (its own inverse; AUTH.md 1.2)."""
    return bytes(b ^ SCRAMBLE[i % 4] for i, b in enumerate(data))


def _hkdf(ikm: bytes, salt: bytes, info: bytes, length: int = 32) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info).derive(ikm)


def jwt_key(signing_key: bytes, kid: str) -> bytes:
    """HMAC key for token signatures: HKDF over the key (doubled for POOL)."""
    ikm = signing_key + signing_key if kid in ("POOL", "") else signing_key
    return _hkdf(ikm, b"htcondor", b"master jwt")


@dataclass
class SigningKeys:
    """Where signing keys come from: SEC_PASSWORD_DIRECTORY (files scrambled as HTCondor stores
    them) and the POOL key file (SEC_TOKEN_POOL_SIGNING_KEY_FILE)."""
    password_dir: str | None = None
    pool_key_file: str | None = None
    clear_keys: dict[str, bytes] = field(default_factory=dict)  # kid -> unscrambled key

    def get(self, kid: str) -> bytes | None:
        """The unscrambled key for ``kid`` or None (a kid with '/' or '..' is refused)."""
        kid = kid or "POOL"
        if kid in self.clear_keys:
            return self.clear_keys[kid]
        if "/" in kid or kid.startswith("."):
            return None
        path = None
        if kid == "POOL" and self.pool_key_file:
            path = self.pool_key_file
        elif self.password_dir:
            path = os.path.join(self.password_dir, kid)
        if not path:
            return None
        try:
            with open(path, "rb") as f:
                return scramble(f.read(1 << 16))
        except OSError:
            return None

    def names(self) -> list[str]:
        """IssuerKeys: readable key names, sorted."""
        out = set(self.clear_keys)
        if self.pool_key_file and os.access(self.pool_key_file, os.R_OK):
            out.add("POOL")
        if self.password_dir and os.path.isdir(self.password_dir):
            for n in os.listdir(self.password_dir):
                if not n.startswith(".") and os.path.isfile(os.path.join(self.password_dir, n)):
                    out.add(n)
        return sorted(out)


def mint_token(signing_key: bytes, *, kid: str, subject: str, issuer: str,
               lifetime: int | None = None, scopes: list[str] | None = None,
               now: int | None = None, jti: str | None = None) -> str:
    """condor_token_create equivalent: header ``{"alg":"HS256","kid":kid}``, payload with sorted
    keys and no whitespace (AUTH.md 1.1).  Returns the compact JWT."""
    iat = int(time.time() if now is None else now)
    claims = {"iat": iat, "iss": issuer, "jti": jti or secrets.token_hex(16), "sub": subject}
    if lifetime is not None:
        claims["exp"] = iat + lifetime
    if scopes:
        claims["scope"] = " ".join(f"condor:/{s}" for s in scopes)
    header = json.dumps({"alg": "HS256", "kid": kid}, sort_keys=True, separators=(",", ":"))
    payload = json.dumps(claims, sort_keys=True, separators=(",", ":"))
    signing_input = f"{_b64url(header.encode())}.{_b64url(payload.encode())}"
    sig = hmac.new(jwt_key(signing_key, kid), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64url(sig)}"


def split_token(token: str) -> tuple[str, dict, dict, bytes]:
    """(T = "header.payload", header, claims, raw signature); raises SecurityError."""
    parts = token.strip().split(".")
    if len(parts) != 3:
        raise SecurityError("token is not a compact JWT (need 3 dot-separated parts)")
    try:
        header = json.loads(_b64url_decode(parts[0]))
        claims = json.loads(_b64url_decode(parts[1]))
    except (ValueError, UnicodeDecodeError) as exc:
        raise SecurityError(f"token JSON is invalid: {exc}") from None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise SecurityError("token header/payload must be JSON objects")
    return f"{parts[0]}.{parts[1]}", header, claims, _b64url_decode(parts[2])


_EXCLUDE_SUFFIXES = (".pl", ".py", ".sh", "~", ".rpmsave", ".rpmnew", ".dpkg-old",
                     ".dpkg-dist", ".cfsaved")


def token_files(directory: str, subsys: str = "TOOL") -> list[str]:
    """Candidate token files of a token directory, in the order HTCondor tries them
    (AUTH.md 1.3): ``<SUBSYS>_auto_generated_token`` first, then the others sorted by path;
    names excluded by the default LOCAL_CONFIG_DIR_EXCLUDE_REGEXP are skipped."""
    try:
        names = os.listdir(directory)
    except OSError:
        return []
    keep = [n for n in names if not n.startswith((".", "#")) and not n.endswith(_EXCLUDE_SUFFIXES)]
    first = [n for n in keep if n.lower() == f"{subsys.lower()}_auto_generated_token"]
    rest = sorted(n for n in keep if n not in first)
    return [os.path.join(directory, n) for n in first + rest]


def read_secure_token_file(path: str) -> list[str] | None:
    """Token lines of a file that is a regular file owned by us with no group/other
    permission bits (read_secure_file); None when the file is refused."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not (st.st_mode & 0o170000 == 0o100000) or st.st_uid != os.getuid() \
                or st.st_mode & 0o077:
            return None
        data = os.read(fd, 1 << 20)
    finally:
        os.close(fd)
    lines = data.decode("utf-8", "replace").splitlines()
    return [ln.strip() for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]


def find_token(directory: str | None, *, issuer: str | None = None,
               issuer_keys: list[str] | None = None, subsys: str = "TOOL") -> str | None:
    """The first acceptable token in ``directory`` (client side, AUTH.md 1.3): it must have a
    ``kid`` (in ``issuer_keys`` when the server sent IssuerKeys), ``iss`` equal to ``issuer``
    when known, and a ``sub``.  Expiry is not checked (the server does that)."""
    if not directory:
        return None
    for path in token_files(directory, subsys):
        for line in read_secure_token_file(path) or []:
            try:
                _, header, claims, _ = split_token(line)
            except SecurityError:
                continue
            kid = header.get("kid")
            if not kid or (issuer_keys is not None and kid not in issuer_keys):
                continue
            if issuer is not None and claims.get("iss") != issuer:
                continue
            if claims.get("sub"):
                return line
    return None


def derive_ka(sig: bytes, signing_input: str) -> bytes:
    """ka = HKDF-SHA256(sig, salt=SEED_KA || T, info="master ka") (AUTH.md 1.4)."""
    return _hkdf(sig, SEED_KA + signing_input.encode(), b"master ka")


def server_hash(ka: bytes, a: str, b: str, ra: bytes, rb: bytes) -> bytes:
    """hkt = HMAC-SHA1(ka, a " " b NUL ra rb)."""
    return hmac.new(ka, a.encode() + b" " + b.encode() + b"\0" + ra + rb, hashlib.sha1).digest()


def client_hash(ka: bytes, a: str, rb: bytes) -> bytes:
    """hk = HMAC-SHA1(ka, a NUL rb)."""
    return hmac.new(ka, a.encode() + b"\0" + rb, hashlib.sha1).digest()


@dataclass
class TokenIdentity:
    """A verified token: ``user`` = sub, plus issuer, id, expiry and LimitAuthorization."""
    user: str
    issuer: str
    token_id: str
    expires: int | None
    authorizations: list[str]


def verify_token_claims(header: dict, claims: dict, signing_input: str, keys: SigningKeys,
                        now: float | None = None) -> tuple[bytes, dict]:
    """Server checks at M1 (AUTH.md 1.4): kid known, alg HS256, exp not passed, iss and jti
    present, sub present.  Returns the recomputed signature; raises SecurityError."""
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise SecurityError("token has no kid")
    if header.get("alg") not in ("HS256",):
        raise SecurityError(f"unsupported token algorithm {header.get('alg')!r}")
    key = keys.get(kid)
    if key is None:
        raise SecurityError(f"no signing key {kid!r} for token")
    exp = claims.get("exp")
    if exp is not None and (not isinstance(exp, (int, float)) or exp < (now or time.time())):
        raise SecurityError("token expired")
    if not isinstance(claims.get("iss"), str) or not claims["iss"]:
        raise SecurityError("token has no issuer")
    if not isinstance(claims.get("jti"), str):
        raise SecurityError("token has no jti")
    if not isinstance(claims.get("sub"), str) or not claims["sub"]:
        raise SecurityError("token has no subject")
    sig = hmac.new(jwt_key(key, kid), signing_input.encode(), hashlib.sha256).digest()
    return sig, claims


def _read_name(dec) -> str:
    n = dec.get_int()
    if not 0 <= n <= MAX_NAME:
        raise ProtocolError(f"{dec.what}: bad name length {n}", dec.offset)
    return dec.get_string()


def _read_blob(dec, want: int) -> bytes:
    n = dec.get_int()
    if n != want:
        raise ProtocolError(f"{dec.what}: expected {want}-byte field, got length {n}",
                            dec.offset)
    return dec.get_bytes(n)


def _m2_error(conn) -> bytes:
    return conn.encoder().put_int(-1).put_int(0).put_string("").put_int(0).put_string("") \
        .put_int(0).put_int(0).put_int(0).data


def server(conn, keys: SigningKeys, *, server_name: str = SERVER_NAME):
    """Server side generator (after the method handshake chose TOKEN).  Returns a
    TokenIdentity or None (failure; the caller closes, as the C++ comments advise)."""
    msg = yield RECV
    dec = msg.decoder()
    status = dec.get_int()
    if status != 0:
        dec.get_int()
        dec.get_string()
        dec.get_string()
        dec.get_int()
        yield Send(_m2_error(conn))
        return None
    a = _read_name(dec)
    signing_input = dec.get_string()
    ra = _read_blob(dec, RANDOM_LEN)
    dec.finish()
    try:
        t_input, header, claims, _ = split_token(signing_input + ".")
        sig, claims = verify_token_claims(header, claims, t_input, keys)
    except SecurityError:
        yield Send(_m2_error(conn))
        return None
    ka = derive_ka(sig, signing_input)
    rb = os.urandom(RANDOM_LEN)
    hkt = server_hash(ka, a, server_name, ra, rb)
    enc = conn.encoder().put_int(0).put_int(len(a.encode())).put_string(a)
    enc.put_int(len(server_name)).put_string(server_name)
    enc.put_int(RANDOM_LEN).put_bytes(ra).put_int(RANDOM_LEN).put_bytes(rb)
    enc.put_int(HASH_LEN).put_bytes(hkt)
    yield Send(enc.data)
    msg = yield RECV
    dec = msg.decoder()
    if dec.get_int() != 0:
        return None
    a3 = _read_name(dec)
    rb3 = _read_blob(dec, RANDOM_LEN)
    hk = _read_blob(dec, HASH_LEN)
    dec.finish()
    if a3 != a or rb3 != rb or not hmac.compare_digest(hk, client_hash(ka, a, rb)):
        return None
    if a != claims["sub"]:
        return None
    scopes = [s[len("condor:/"):] for s in str(claims.get("scope", "")).split()
              if s.startswith("condor:/")]
    return TokenIdentity(claims["sub"], claims["iss"], claims["jti"], claims.get("exp"),
                         scopes)


def client(conn, token: str | None):
    """Client side generator; returns True when the server proved knowledge of the key."""
    if token is None:
        enc = conn.encoder().put_int(-1).put_int(0).put_string("").put_string("").put_int(0)
        yield Send(enc.data)
        msg = yield RECV
        return False
    signing_input, header, claims, sig = split_token(token)
    a = str(claims.get("sub", ""))
    ra = os.urandom(RANDOM_LEN)
    enc = conn.encoder().put_int(0).put_int(len(a.encode())).put_string(a)
    enc.put_string(signing_input).put_int(RANDOM_LEN).put_bytes(ra)
    yield Send(enc.data)
    msg = yield RECV
    dec = msg.decoder()
    status = dec.get_int()
    ka = derive_ka(sig, signing_input)
    ok = False
    rb = b"\0" * RANDOM_LEN
    if status == 0:
        a2 = _read_name(dec)
        b = _read_name(dec)
        ra2 = _read_blob(dec, RANDOM_LEN)
        rb = _read_blob(dec, RANDOM_LEN)
        hkt = _read_blob(dec, HASH_LEN)
        dec.finish()
        ok = a2 == a and ra2 == ra and hmac.compare_digest(hkt, server_hash(ka, a, b, ra, rb))
    if not ok:
        enc = conn.encoder().put_int(-1).put_int(0).put_string("").put_int(0).put_int(0)
        if status == 0:
            yield Send(enc.data)
        return False
    enc = conn.encoder().put_int(0).put_int(len(a.encode())).put_string(a)
    enc.put_int(RANDOM_LEN).put_bytes(rb).put_int(HASH_LEN).put_bytes(client_hash(ka, a, rb))
    yield Send(enc.data)
    return True
