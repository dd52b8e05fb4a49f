#!/usr/bin/env python3
"""Writes the hand-made seed inputs (fuzz/seeds/<target>/) and the fixtures
the harnesses load (fuzz/fixtures/): a test-only key file, and a valid
ES256 passkey registration whose key also signs the assertion seeds.

Needs Python 3 with `cryptography`. Run from anywhere:
    python3 fuzz/seeds/make.py
Signatures (ECDSA) are randomised, so the files change on every run; they
stay valid. Nothing here is a real key: every secret is derived from a
fixed label.
"""

import base64
import hashlib
import json
import os
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

FUZZ = Path(__file__).resolve().parent.parent
SEEDS = FUZZ / "seeds"
FIXTURES = FUZZ / "fixtures"

RP_ID = "jaga.example.go.id"
ORIGIN = "https://jaga.example.go.id"
# Must match jaga_fuzz::webauthn::USER_HANDLE.
USER_HANDLE = bytes(range(1, 65))
CRED_ID = b"jaga-fuzz-cred-1"  # 16 bytes
CRED_ID_ED = b"jaga-fuzz-cred-ed25519"


def derive(label: str) -> bytes:
    return hashlib.sha256(b"jaga-fuzz " + label.encode()).digest()


def b64u(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def b64(b: bytes) -> str:
    return base64.b64encode(b).decode()


def write(target: str, name: str, data) -> None:
    d = SEEDS / target
    d.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    (d / name).write_bytes(data)


# --- minimal CBOR (definite lengths only) ---------------------------------

def cbor_head(major: int, n: int) -> bytes:
    if n < 24:
        return bytes([major << 5 | n])
    if n < 256:
        return bytes([major << 5 | 24, n])
    return bytes([major << 5 | 25]) + n.to_bytes(2, "big")


def cbor(v) -> bytes:
    if isinstance(v, bool):
        return b"\xf5" if v else b"\xf4"
    if isinstance(v, int):
        return cbor_head(0, v) if v >= 0 else cbor_head(1, -1 - v)
    if isinstance(v, bytes):
        return cbor_head(2, len(v)) + v
    if isinstance(v, str):
        return cbor_head(3, len(v.encode())) + v.encode()
    if isinstance(v, list):
        return cbor_head(4, len(v)) + b"".join(cbor(x) for x in v)
    if isinstance(v, dict):  # keys in the order given (callers use CTAP2 canonical order)
        return cbor_head(5, len(v)) + b"".join(cbor(k) + cbor(x) for k, x in v.items())
    raise TypeError(v)


# --- keys --------------------------------------------------------------------

def es256_key():
    scalar = int.from_bytes(derive("passkey es256"), "big") % (2**255)
    return ec.derive_private_key(scalar, ec.SECP256R1())


def ed_key(label: str):
    return ed25519.Ed25519PrivateKey.from_private_bytes(derive(label))


def ed_pub(key) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def cose_es256(key) -> bytes:
    nums = key.public_key().public_numbers()
    return cbor({1: 2, 3: -7, -1: 1, -2: nums.x.to_bytes(32, "big"), -3: nums.y.to_bytes(32, "big")})


def cose_ed25519(key) -> bytes:
    return cbor({1: 1, 3: -8, -1: 6, -2: ed_pub(key)})


def spki(key) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


# --- WebAuthn ----------------------------------------------------------------

UP, UV, BE, BS, AT, ED = 0x01, 0x04, 0x08, 0x10, 0x40, 0x80
CHALLENGE = bytes(range(100, 116))  # the harnesses put the response's challenge in the state


def client_data(kind: str, challenge: bytes = CHALLENGE, origin: str = ORIGIN, extra: str = "") -> bytes:
    return (
        '{"type":"webauthn.%s","challenge":"%s","origin":"%s","crossOrigin":false%s}'
        % (kind, b64u(challenge), origin, extra)
    ).encode()


def rp_hash(rp_id: str = RP_ID) -> bytes:
    return hashlib.sha256(rp_id.encode()).digest()


def registration(key, cose: bytes, alg: int, cred_id: bytes, flags=UP | UV | AT, ext: bytes = b"",
                 attachment="platform", transports=("internal", "hybrid"), client_ext=None, cdata=None) -> str:
    cdata = cdata or client_data("create")
    if ext:
        flags |= ED
    auth = rp_hash() + bytes([flags]) + (0).to_bytes(4, "big") + bytes(16) + len(cred_id).to_bytes(2, "big")
    auth += cred_id + cose + ext
    att = cbor({"fmt": "none", "attStmt": {}, "authData": auth})
    body = {
        "id": b64u(cred_id),
        "rawId": b64u(cred_id),
        "type": "public-key",
        "authenticatorAttachment": attachment,
        "clientExtensionResults": client_ext if client_ext is not None else {},
        "response": {
            "clientDataJSON": b64u(cdata),
            "attestationObject": b64u(att),
            "authenticatorData": b64u(auth),
            "publicKey": b64u(spki(key)),
            "publicKeyAlgorithm": alg,
            "transports": list(transports),
        },
    }
    return json.dumps(body, indent=2) + "\n"


def assertion(sign, cred_id: bytes, count: int, flags=UP | UV, user_handle="default", cdata=None) -> str:
    cdata = cdata or client_data("get")
    auth = rp_hash() + bytes([flags]) + count.to_bytes(4, "big")
    sig = sign(auth + hashlib.sha256(cdata).digest())
    response = {
        "clientDataJSON": b64u(cdata),
        "authenticatorData": b64u(auth),
        "signature": b64u(sig),
    }
    if user_handle == "default":
        response["userHandle"] = b64u(USER_HANDLE)
    elif user_handle != "absent":
        response["userHandle"] = user_handle
    body = {
        "id": b64u(cred_id),
        "rawId": b64u(cred_id),
        "type": "public-key",
        "authenticatorAttachment": "platform",
        "clientExtensionResults": {},
        "response": response,
    }
    return json.dumps(body, indent=2) + "\n"


def webauthn() -> None:
    key = es256_key()
    reg = registration(key, cose_es256(key), -7, CRED_ID)
    (FIXTURES / "registration.json").write_text(reg)
    write("webauthn_registration", "es256-platform.json", reg)
    edk = ed_key("passkey ed25519")
    write("webauthn_registration", "ed25519-security-key.json",
          registration(edk, cose_ed25519(edk), -8, CRED_ID_ED, attachment="cross-platform",
                       transports=("usb", "nfc")))
    # credProtect (userVerificationRequired = 3) in the authenticator extensions, synced passkey.
    write("webauthn_registration", "es256-synced-credprotect.json",
          registration(key, cose_es256(key), -7, CRED_ID, flags=UP | UV | AT | BE | BS,
                       ext=cbor({"credProtect": 3})))
    write("webauthn_registration", "wrong-origin.json",
          registration(key, cose_es256(key), -7, CRED_ID,
                       cdata=client_data("create", origin="https://evil.example")))
    write("webauthn_registration", "cred-props-unrequested.json",
          registration(key, cose_es256(key), -7, CRED_ID, client_ext={"credProps": {"rk": True}}))
    write("webauthn_registration", "no-user-verification.json",
          registration(key, cose_es256(key), -7, CRED_ID, flags=UP | AT))

    def es_sign(msg: bytes) -> bytes:
        return key.sign(msg, ec.ECDSA(hashes.SHA256()))

    write("webauthn_assertion", "es256-valid.json", assertion(es_sign, CRED_ID, 1))
    write("webauthn_assertion", "es256-synced.json", assertion(es_sign, CRED_ID, 0, flags=UP | UV | BE | BS))
    write("webauthn_assertion", "es256-counter-zero.json", assertion(es_sign, CRED_ID, 0))
    write("webauthn_assertion", "no-user-verification.json", assertion(es_sign, CRED_ID, 2, flags=UP))
    write("webauthn_assertion", "wrong-origin.json",
          assertion(es_sign, CRED_ID, 3, cdata=client_data("get", origin="https://evil.example")))
    write("webauthn_assertion", "top-origin.json",
          assertion(es_sign, CRED_ID, 4, cdata=client_data("get", extra=',"topOrigin":"https://x.example"')))
    # The user handle must be a string: null used to panic inside webauthn_rp.
    write("webauthn_assertion", "user-handle-null.json", assertion(es_sign, CRED_ID, 5, user_handle=None))
    write("webauthn_assertion", "user-handle-absent.json", assertion(es_sign, CRED_ID, 5, user_handle="absent"))
    write("webauthn_assertion", "user-handle-number.json", assertion(es_sign, CRED_ID, 5, user_handle=7))
    write("webauthn_assertion", "user-handle-empty.json", assertion(es_sign, CRED_ID, 5, user_handle=""))
    write("webauthn_assertion", "user-handle-short.json", assertion(es_sign, CRED_ID, 5, user_handle=b64u(b"x" * 16)))
    write("webauthn_assertion", "user-handle-null-compact.json",
          json.dumps(json.loads(assertion(es_sign, CRED_ID, 6, user_handle=None)), separators=(",", ":")))


# --- audit checkpoints ---------------------------------------------------------

def key_file() -> ed25519.Ed25519PrivateKey:
    seed = derive("audit signing key")
    key = ed25519.Ed25519PrivateKey.from_private_bytes(seed)
    pkcs8_v2 = (bytes.fromhex("3053020101300506032b657004220420") + seed + bytes.fromhex("a123032100")
                + ed_pub(key))
    text = (
        "# Jaga key file for the fuzz targets only: every key is derived from a public label.\n"
        'format = "jaga-keys"\nversion = 1\ncreated = "2026-11-28T05:00:00Z"\n\n'
        f'[audit]\nsigning_key = "{b64(pkcs8_v2)}"\nmac_key = "{b64(derive("audit mac key"))}"\n\n'
        f'[index]\nhmac_key = "{b64(derive("index key"))}"\n\n'
        f'[vault]\nactive_kek = 1\n\n[[vault.kek]]\nversion = 1\nkey = "{b64(derive("kek 1"))}"\n'
    )
    (FIXTURES / "keys.toml").write_text(text)
    return key


def note(key, origin: str, size: int, root: bytes, when: str, extra_lines=(), other_sigs=()) -> str:
    body = f"{origin}\n{size}\n{b64(root)}\n" + "".join(f"{l}\n" for l in extra_lines) + f"time {when}\n"
    key_id = hashlib.sha256(origin.encode() + b"\n\x01" + ed_pub(key)).digest()[:4]
    sig = key.sign(body.encode())
    lines = list(other_sigs) + [f"\u2014 {origin} {b64(key_id + sig)}"]
    return body + "\n" + "".join(f"{l}\n" for l in lines)


def checkpoints() -> None:
    key = key_file()
    root = hashlib.sha256(b"jaga-fuzz tree").digest()
    write("checkpoint_note", "signed.txt", note(key, "jaga.localhost/audit", 1234, root, "2026-11-28T05:00:00Z"))
    write("checkpoint_note", "signed-empty-tree.txt",
          note(key, "jaga.example.go.id/audit", 0, hashlib.sha256(b"").digest(), "2026-01-01T00:00:00Z"))
    write("checkpoint_note", "signed-offset-time.txt",
          note(key, "jaga.localhost/audit", 18446744073709551615, root, "2026-11-28T12:00:00.5+07:00"))
    write("checkpoint_note", "signed-extension-lines.txt",
          note(key, "jaga.localhost/audit", 42, root, "2026-11-28T05:00:00Z", extra_lines=["note from a witness"]))
    other = ed_key("other key")
    write("checkpoint_note", "two-signatures.txt",
          note(key, "jaga.localhost/audit", 7, root, "2026-11-28T05:00:00Z",
               other_sigs=[f"\u2014 witness.example AAAAAA{b64(other.sign(b'x'))}"]))
    write("checkpoint_note", "unsigned.txt", f"jaga.localhost/audit\n1\n{b64(root)}\ntime 2026-11-28T05:00:00Z\n\n")
    write("checkpoint_note", "leading-zero-size.txt",
          note(key, "jaga.localhost/audit", 1, root, "2026-11-28T05:00:00Z").replace("\n1\n", "\n01\n", 1))


# --- plain-text and JSON inputs ------------------------------------------------

def texts() -> None:
    for name, nik in {
        "woman-jakarta": "3171015207990007",
        "grouped-spaces": "3171 0152 0799 0007",
        "grouped-dots": "31.71.01.520799.0007",
        "man-1985": "1971011203850001",
        "papua-2022": "9571011212220001",
        "leap-day": "1971012902240001",
        "day-40": "1971014003850001",
        "serial-zero": "1971011203850000",
        "letter-o": "19710112038500O1",
        "fullwidth-digits": "\uff13\uff11\uff17\uff11015207990007",
    }.items():
        write("nik", name, nik)

    for name, text in {
        "kk": "3171010101990001",
        "kk-grouped": "3171-0101-0199-0001",
        "name": "Siti Aminah",
        "name-apostrophe": "  Ni Luh Putu  Ayu-Ratna, S.Kom.  ",
        "name-obrien": "Ayu O'Brien",
        "birth-date": "1990-07-12",
        "gender-id": "perempuan",
        "gender-l": "L",
        "phone-local": "0812 3456 5678",
        "phone-intl": "+62 (812) 3456-5678",
        "email": "nama@Contoh.GO.ID",
        "email-plus-subdomain": "a.b+c@sub.contoh.go.id",
        "address": json.dumps({
            "street": "Jl. Merdeka No. 1", "rt_rw": "3/5", "kelurahan": "Gambir", "kecamatan": "Gambir",
            "kabupaten_kota": "Jakarta Pusat", "province": "DKI Jakarta", "postal_code": "10110",
        }),
        "address-unknown-field": '{"street":"Jl. A","rt_rw":"001/002","kelurahan":"K","kecamatan":"K",'
                                 '"kabupaten_kota":"K","province":"P","postal_code":"12345","extra":1}',
    }.items():
        write("profile_values", name, text)

    readme_toml = """[server]
listen = ["localhost:8080"]
admin_listen = ""
trusted_proxies = ["10.0.0.0/8", "::1"]
max_body_bytes = 1048576
request_timeout_secs = 30
shutdown_grace_secs = 20

[tls]
cert_path = "/etc/jaga/tls/fullchain.pem"
key_path = "/etc/jaga/tls/privkey.pem"

[database]
url = "postgres://jaga:secret@db.internal/jaga"
max_connections = 8

[keys]
path = "keys/jaga-keys.toml"

[audit]
origin = "jaga.localhost/audit"
checkpoint_every_events = 1000
checkpoint_every_secs = 60

[webauthn]
rp_id = "jaga.example.go.id"
origins = ["https://jaga.example.go.id", "https://portal.jaga.example.go.id:8443"]
rp_name = "Jaga"
ceremony_timeout_secs = 300

[sessions]
idle_timeout_secs = 1800
absolute_timeout_secs = 43200
reauth_window_secs = 600

[log]
format = "auto"
filter = "info,jaga=debug,sqlx[query]=warn"
"""
    write("config", "readme.toml", readme_toml)
    write("config", "dev-minimal.toml", '[database]\nurl = "sqlite://data/jaga.db"\n')
    write("config", "env-only",
          "\0JAGA_SERVER_LISTEN=127.0.0.1:8080, [::1]:8080\nJAGA_SERVER_MAX_BODY_BYTES=2048\n"
          "JAGA_DATABASE_URL_FILE=postgres://jaga@db/jaga\nJAGA_WEBAUTHN_RP_ID=jaga.example.go.id\n"
          "JAGA_WEBAUTHN_ORIGINS=https://jaga.example.go.id\nJAGA_LOG_FILTER=jaga=trace\nJAGA_CONFIG=jaga.toml\n"
          "JAGA_TEST_POSTGRES_URL=x\nPATH=/bin\n")
    write("config", "file-and-env",
          '[server]\nlisten = "localhost:8080"\n[webauthn]\nrp_id = "localhost"\n'
          "\0JAGA_WEBAUTHN_ORIGINS=http://localhost:8080\nJAGA_KEYS_INLINE_FILE=format = \"jaga-keys\"\n")
    write("config", "unknown-key.toml", '[server]\nlisen = "x"\n')

    def definition(fields):
        return json.dumps({"fields": [{"name": n, "classification": c} for n, c in fields]})

    write("collection_definition", "tiket.json",
          definition([("queue_number", "personal"), ("service", "personal"), ("health_note", "health")]))
    write("collection_definition", "named-perizinan",
          "antrian.izin_usaha\n" + definition([
              ("owner_name", "personal"), ("fingerprint", "biometric"), ("dna_test", "genetic"),
              ("skck", "criminal_record"), ("child_age", "children"), ("npwp", "financial")]))
    write("collection_definition", "other-module-name", "perizinan.izin\n" + definition([("a", "personal")]))
    write("collection_definition", "duplicate-field.json", definition([("a", "personal"), ("a", "health")]))

    write("record_values", "batch.json", json.dumps({
        "records": [
            {"citizen": "ctz_k3x7q2m9wz4p", "record": "T-2026-0001",
             "values": {"queue_number": "A-017", "service": "KTP-el"}},
            {"citizen": "ctz_b8r2n5c1yv6t", "record": "T-2026-0002",
             "values": {"health_note": "asma", "child_name": None}},
        ],
        "purpose": "antrian.call_ticket",
    }))
    write("record_values", "one.json", json.dumps(
        {"citizen": "ctz_k3x7q2m9wz4p", "record": "T_1", "values": {"queue_number": "B-002"}}))
    write("record_values", "unknown-field.json", json.dumps(
        {"citizen": "ctz_k3x7q2m9wz4p", "record": "T_1", "values": {"nik": "3171015207990007"}}))
    write("record_values", "empty-values.json", json.dumps(
        {"records": [{"citizen": "c", "record": "r", "values": {}}], "purpose": None}))


def main() -> None:
    FIXTURES.mkdir(parents=True, exist_ok=True)
    webauthn()
    checkpoints()
    texts()
    print(f"wrote seeds under {SEEDS} and fixtures under {FIXTURES}")


if __name__ == "__main__":
    main()
