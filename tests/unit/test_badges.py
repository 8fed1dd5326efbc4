"""Tests for learning.progress.badges (Open Badges 3.0 VC-JWT credentials)."""

from __future__ import annotations

import base64
import json
import stat
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from learning.progress.badges import (
    OB_CONTEXT,
    VC_CONTEXT,
    CredentialError,
    CredentialExpired,
    CredentialNotYetValid,
    build_credential,
    jwk_thumbprint,
    load_or_create_signing_key,
    public_jwk,
    sign_credential,
    subject_id_for_code,
    verify_credential,
)

BASE_URL = "https://kelisim.example.kz/"
ISSUED = datetime(2025, 3, 12, 9, 30, tzinfo=timezone.utc)
EXPIRES = datetime(2027, 3, 12, 9, 30, tzinfo=timezone.utc)
DURING = datetime(2026, 1, 1, tzinfo=timezone.utc)

# RFC 8032 test vector 1 / RFC 8037 appendix A.1-A.3
RFC8037_SEED = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
RFC8037_X = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
RFC8037_KID = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"


def _b64d(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def _b64e(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _credential(**changes: object) -> dict:
    kwargs: dict = dict(
        base_url=BASE_URL,
        code="KLS-2025-000123",
        learner_name="Әлия Құрманғазықызы",
        achievement_name={
            "kk": "Сыбайлас жемқорлыққа қарсы іс-қимыл",
            "ru": "Противодействие коррупции",
        },
        achievement_description={"kk": "Курсты аяқтағаны үшін", "ru": "За завершение курса"},
        criteria_narrative="Барлық сабақтарды өту және қорытынды тесттен 70% жинау.",
        issuer_name="Kelisim",
        issued_at=ISSUED,
        expires_at=EXPIRES,
        language="kk",
    )
    kwargs.update(changes)
    return build_credential(**kwargs)


@pytest.fixture
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


# --------------------------------------------------------------------------- #
# Keys
# --------------------------------------------------------------------------- #


def test_load_or_create_signing_key_creates_0600_pem_and_reloads(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "badge-signing.pem"
    key = load_or_create_signing_key(path)
    assert path.is_file()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    again = load_or_create_signing_key(path)
    assert public_jwk(again) == public_jwk(key)


def test_load_rejects_non_ed25519_key(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    path = tmp_path / "ec.pem"
    path.write_bytes(
        ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    with pytest.raises(ValueError):
        load_or_create_signing_key(path)


def test_public_jwk_matches_rfc8037_vector() -> None:
    key = Ed25519PrivateKey.from_private_bytes(RFC8037_SEED)
    jwk = public_jwk(key)
    assert jwk["kty"] == "OKP" and jwk["crv"] == "Ed25519"
    assert jwk["x"] == RFC8037_X
    assert jwk["kid"] == RFC8037_KID == jwk_thumbprint(jwk)
    assert "d" not in jwk
    assert public_jwk(key.public_key()) == jwk


# --------------------------------------------------------------------------- #
# Credential shape
# --------------------------------------------------------------------------- #


def test_build_credential_shape() -> None:
    cred = _credential()
    assert cred["@context"] == [VC_CONTEXT, OB_CONTEXT]
    assert cred["@context"] == [
        "https://www.w3.org/ns/credentials/v2",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    ]
    assert cred["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert cred["id"] == "https://kelisim.example.kz/verify/KLS-2025-000123"
    assert cred["issuer"]["type"] == ["Profile"]
    assert cred["issuer"]["name"] == "Kelisim"
    assert cred["issuer"]["id"] == "https://kelisim.example.kz/issuer"
    assert cred["validFrom"] == "2025-03-12T09:30:00Z"
    assert cred["validUntil"] == "2027-03-12T09:30:00Z"
    subject = cred["credentialSubject"]
    assert subject["type"] == ["AchievementSubject"]
    assert subject["id"] == subject_id_for_code(BASE_URL, "KLS-2025-000123")
    assert subject["id"].startswith("urn:uuid:")
    assert subject["identifier"][0]["identityHash"] == "Әлия Құрманғазықызы"
    assert subject["identifier"][0]["identityType"] == "name"
    ach = subject["achievement"]
    assert ach["type"] == ["Achievement"]
    assert ach["name"] == "Сыбайлас жемқорлыққа қарсы іс-қимыл"
    assert ach["description"] == "Курсты аяқтағаны үшін"
    assert ach["criteria"] == {
        "narrative": "Барлық сабақтарды өту және қорытынды тесттен 70% жинау."
    }
    json.dumps(cred)  # JSON-serialisable


def test_build_credential_language_selection_and_defaults() -> None:
    ru = _credential(language="ru", achievement_id="https://kelisim.example.kz/courses/7")
    assert ru["credentialSubject"]["achievement"]["name"] == "Противодействие коррупции"
    assert ru["credentialSubject"]["achievement"]["id"] == "https://kelisim.example.kz/courses/7"
    plain = _credential(achievement_name="Ethics", language=None, expires_at=None)
    assert plain["credentialSubject"]["achievement"]["name"] == "Ethics"
    assert "validUntil" not in plain
    # the same achievement gets the same default id for every learner
    other = _credential(code="KLS-2025-000999", learner_name="Бауыржан")
    assert (
        other["credentialSubject"]["achievement"]["id"]
        == _credential()["credentialSubject"]["achievement"]["id"]
    )
    assert other["credentialSubject"]["id"] != _credential()["credentialSubject"]["id"]


def test_build_credential_falls_back_from_empty_translation() -> None:
    cred = _credential(achievement_name={"kk": "", "ru": "Этика"}, language="kk")
    assert cred["credentialSubject"]["achievement"]["name"] == "Этика"
    with pytest.raises(ValueError):
        _credential(achievement_name={})


def test_build_credential_rejects_expiry_before_issue() -> None:
    with pytest.raises(ValueError):
        _credential(expires_at=ISSUED - timedelta(days=1))


# --------------------------------------------------------------------------- #
# Signing / verification
# --------------------------------------------------------------------------- #


def test_sign_verify_round_trip(key: Ed25519PrivateKey) -> None:
    cred = _credential()
    jws = sign_credential(cred, key)
    assert verify_credential(jws, public_jwk(key), now=DURING) == cred


def test_jws_header_and_payload_claims(key: Ed25519PrivateKey) -> None:
    cred = _credential()
    header_b64, payload_b64, sig_b64 = sign_credential(cred, key).split(".")
    header = json.loads(_b64d(header_b64))
    assert header == {"alg": "EdDSA", "typ": "JWT", "kid": public_jwk(key)["kid"]}
    payload = json.loads(_b64d(payload_b64))
    assert payload["iss"] == cred["issuer"]["id"]
    assert payload["jti"] == cred["id"]
    assert payload["sub"] == cred["credentialSubject"]["id"]
    assert payload["nbf"] == int(ISSUED.timestamp())
    assert payload["exp"] == int(EXPIRES.timestamp())
    claims = {"iss", "jti", "sub", "nbf", "exp"}
    assert {k: v for k, v in payload.items() if k not in claims} == cred
    assert len(_b64d(sig_b64)) == 64


def test_verify_with_only_public_jwk_dict(key: Ed25519PrivateKey) -> None:
    jws = sign_credential(_credential(), key)
    jwk = json.loads(json.dumps(public_jwk(key)))  # e.g. fetched from a JWKS endpoint
    minimal = {k: jwk[k] for k in ("kty", "crv", "x")}
    assert verify_credential(jws, jwk, now=DURING)["id"].endswith("/verify/KLS-2025-000123")
    assert verify_credential(jws, minimal, now=DURING)["id"].endswith("/verify/KLS-2025-000123")


def test_tampered_payload_is_rejected(key: Ed25519PrivateKey) -> None:
    header_b64, payload_b64, sig_b64 = sign_credential(_credential(), key).split(".")
    payload = json.loads(_b64d(payload_b64))
    payload["credentialSubject"]["identifier"][0]["identityHash"] = "Someone Else"
    forged = f"{header_b64}.{_b64e(json.dumps(payload).encode())}.{sig_b64}"
    with pytest.raises(CredentialError, match="signature"):
        verify_credential(forged, public_jwk(key), now=DURING)


def test_tampered_signature_and_header_are_rejected(key: Ed25519PrivateKey) -> None:
    header_b64, payload_b64, sig_b64 = sign_credential(_credential(), key).split(".")
    sig = bytearray(_b64d(sig_b64))
    sig[0] ^= 1
    with pytest.raises(ValueError):
        bad = f"{header_b64}.{payload_b64}.{_b64e(bytes(sig))}"
        verify_credential(bad, public_jwk(key), now=DURING)
    none_header = _b64e(json.dumps({"alg": "none"}).encode())
    with pytest.raises(ValueError):
        verify_credential(f"{none_header}.{payload_b64}.", public_jwk(key), now=DURING)


def test_wrong_key_is_rejected(key: Ed25519PrivateKey) -> None:
    jws = sign_credential(_credential(), key)
    other = public_jwk(Ed25519PrivateKey.generate())
    with pytest.raises(CredentialError):
        verify_credential(jws, other, now=DURING)
    # even if the attacker's JWK claims the signer's kid
    with pytest.raises(CredentialError, match="signature"):
        verify_credential(jws, {**other, "kid": public_jwk(key)["kid"]}, now=DURING)


def test_expired_and_not_yet_valid(key: Ed25519PrivateKey) -> None:
    jws = sign_credential(_credential(), key)
    with pytest.raises(CredentialExpired):
        verify_credential(jws, public_jwk(key), now=EXPIRES + timedelta(seconds=61))
    with pytest.raises(CredentialNotYetValid):
        verify_credential(jws, public_jwk(key), now=ISSUED - timedelta(hours=1))
    assert issubclass(CredentialExpired, ValueError)
    # within the clock-skew leeway
    verify_credential(jws, public_jwk(key), now=ISSUED - timedelta(seconds=30))


def test_credential_without_expiry_never_expires(key: Ed25519PrivateKey) -> None:
    cred = _credential(expires_at=None)
    jws = sign_credential(cred, key)
    payload = json.loads(_b64d(jws.split(".")[1]))
    assert "exp" not in payload
    far_future = datetime(2100, 1, 1, tzinfo=timezone.utc)
    assert verify_credential(jws, public_jwk(key), now=far_future) == cred


@pytest.mark.parametrize(
    "token",
    ["", "abc", "a.b", "a.b.c.d", "!!!.###.$$$", "eyJhbGciOiJFZERTQSJ9.e30=.AAAA"],
)
def test_malformed_tokens_raise_value_error(key: Ed25519PrivateKey, token: str) -> None:
    with pytest.raises(ValueError):
        verify_credential(token, public_jwk(key), now=DURING)


def test_invalid_jwk_is_rejected(key: Ed25519PrivateKey) -> None:
    jws = sign_credential(_credential(), key)
    with pytest.raises(CredentialError):
        verify_credential(jws, {"kty": "RSA", "n": "x", "e": "AQAB"}, now=DURING)
    with pytest.raises(CredentialError):
        verify_credential(jws, {**public_jwk(key), "x": "AAAA"}, now=DURING)


def test_sign_refuses_credential_with_jwt_claims(key: Ed25519PrivateKey) -> None:
    with pytest.raises(ValueError):
        sign_credential({**_credential(), "exp": 1}, key)
