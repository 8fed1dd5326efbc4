"""Open Badges 3.0 credentials signed as VC-JWT (compact JWS, EdDSA/Ed25519).

Pure module (no Flask, no database):

* ``load_or_create_signing_key`` / ``public_jwk`` manage the issuer's Ed25519 key
  (PEM file, mode 0600) and publish it as an RFC 8037 OKP JWK whose ``kid`` is
  the RFC 7638 thumbprint.
* ``build_credential`` returns an unsigned ``OpenBadgeCredential`` (VC Data
  Model 2.0 + OB 3.0 context).
* ``sign_credential`` / ``verify_credential`` implement the JOSE proof format of
  Open Badges 3.0 section 8.2: the JWT payload is the credential itself plus
  the registered claims ``iss``, ``jti``, ``sub``, ``nbf`` and ``exp``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

__all__ = [
    "OB_CONTEXT",
    "OB_SCHEMA",
    "VC_CONTEXT",
    "CredentialError",
    "CredentialExpired",
    "CredentialNotYetValid",
    "build_credential",
    "jwk_thumbprint",
    "load_or_create_signing_key",
    "public_jwk",
    "sign_credential",
    "subject_id_for_code",
    "verify_credential",
]

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
OB_SCHEMA = (
    "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json"
)
_JWT_CLAIMS = ("iss", "jti", "sub", "nbf", "exp")


class CredentialError(ValueError):
    """The JWS is malformed, its signature is invalid, or its claims are inconsistent."""


class CredentialExpired(CredentialError):
    """The signature is valid but the credential is past ``exp`` / ``validUntil``."""


class CredentialNotYetValid(CredentialError):
    """The signature is valid but the credential is before ``nbf`` / ``validFrom``."""


# --------------------------------------------------------------------------- #
# Encoding helpers
# --------------------------------------------------------------------------- #


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str) -> bytes:
    if not isinstance(text, str) or "=" in text:
        raise CredentialError("invalid base64url segment")
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError) as exc:
        raise CredentialError("invalid base64url segment") from exc


def _json_bytes(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _utc(dt: datetime) -> datetime:
    """Aware UTC datetime; a naive value is taken to be UTC already."""
    if dt.tzinfo is None:
        return dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc)


def _iso(dt: datetime) -> str:
    return _utc(dt).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _numeric_date(value: str) -> int:
    """XML Schema / ISO 8601 dateTime string -> JWT NumericDate (seconds)."""
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (AttributeError, ValueError) as exc:
        raise ValueError(f"invalid dateTime {value!r}") from exc
    return int(_utc(dt).timestamp())


# --------------------------------------------------------------------------- #
# Keys
# --------------------------------------------------------------------------- #


def load_or_create_signing_key(path: Path) -> Ed25519PrivateKey:
    """Load the Ed25519 PKCS#8 PEM key at ``path``, creating it (mode 0600) if missing."""
    path = Path(path)
    if not path.exists():
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process created it first: load theirs below
        else:
            with os.fdopen(fd, "wb") as fh:
                fh.write(pem)
            os.chmod(path, 0o600)  # in case the umask widened/narrowed it
            return key
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} does not hold an Ed25519 private key")
    return key


def _public_key(key: Ed25519PrivateKey | Ed25519PublicKey) -> Ed25519PublicKey:
    return key.public_key() if isinstance(key, Ed25519PrivateKey) else key


def jwk_thumbprint(jwk: dict) -> str:
    """RFC 7638 SHA-256 thumbprint (base64url) of an OKP JWK."""
    members = {"crv": jwk["crv"], "kty": jwk["kty"], "x": jwk["x"]}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True).encode("utf-8")
    return _b64url(hashlib.sha256(canonical).digest())


def public_jwk(key: Ed25519PrivateKey | Ed25519PublicKey) -> dict:
    """Public OKP/Ed25519 JWK (RFC 8037) with ``kid`` = RFC 7638 thumbprint."""
    raw = _public_key(key).public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    jwk = {"kty": "OKP", "crv": "Ed25519", "x": _b64url(raw)}
    return {**jwk, "kid": jwk_thumbprint(jwk), "alg": "EdDSA", "use": "sig"}


def _key_from_jwk(jwk: dict) -> Ed25519PublicKey:
    if not isinstance(jwk, dict) or jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
        raise CredentialError("JWK must be an OKP key on curve Ed25519")
    if "d" in jwk:
        raise CredentialError("refusing a JWK that contains private key material")
    raw = _b64url_decode(jwk.get("x", ""))
    if len(raw) != 32:
        raise CredentialError("invalid Ed25519 public key")
    return Ed25519PublicKey.from_public_bytes(raw)


# --------------------------------------------------------------------------- #
# Credential
# --------------------------------------------------------------------------- #


def subject_id_for_code(base_url: str, code: str) -> str:
    """Stable ``urn:uuid:`` identifier of the credential subject for a certificate code."""
    name = f"{base_url.rstrip('/')}/verify/{code}#subject"
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, name)}"


def _pick(text: dict[str, str] | str, language: str | None) -> str:
    """A plain string, or the ``language`` entry (else the first non-empty one) of a map."""
    if isinstance(text, str):
        return text
    if language and text.get(language):
        return text[language]
    for value in text.values():
        if value:
            return value
    raise ValueError("language map has no non-empty text")


def build_credential(
    *,
    base_url: str,
    code: str,
    learner_name: str,
    achievement_name: dict[str, str] | str,
    achievement_description: dict[str, str] | str,
    criteria_narrative: dict[str, str] | str,
    issuer_name: str,
    issued_at: datetime,
    expires_at: datetime | None = None,
    language: str | None = None,
    achievement_id: str | None = None,
    issuer_id: str | None = None,
) -> dict:
    """Build an unsigned Open Badges 3.0 ``OpenBadgeCredential``.

    Text arguments may be plain strings or language maps (``{"kk": ..., "ru": ...}``);
    for a map the ``language`` entry is used (else the first one), because OB 3.0
    text properties are single strings. ``achievement_id`` should identify the
    course (default: a UUID derived from the achievement name); ``issuer_id``
    defaults to ``<base_url>/issuer``. The learner is identified by name via an
    unhashed ``IdentityObject``; ``credentialSubject.id`` is a ``urn:uuid:``
    derived from ``code``. Naive datetimes are taken as UTC.
    """
    base = base_url.rstrip("/")
    name = _pick(achievement_name, language)
    if achievement_id is None:
        achievement_id = f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'{base}/achievements/{name}')}"
    achievement: dict[str, Any] = {
        "id": achievement_id,
        "type": ["Achievement"],
        "achievementType": "CertificateOfCompletion",
        "name": name,
        "description": _pick(achievement_description, language),
        "criteria": {"narrative": _pick(criteria_narrative, language)},
    }
    if language:
        achievement["inLanguage"] = language
    credential: dict[str, Any] = {
        "@context": [VC_CONTEXT, OB_CONTEXT],
        "id": f"{base}/verify/{code}",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": name,
        "issuer": {
            "id": issuer_id or f"{base}/issuer",
            "type": ["Profile"],
            "name": issuer_name,
            "url": base_url,
        },
        "validFrom": _iso(issued_at),
        "credentialSubject": {
            "id": subject_id_for_code(base_url, code),
            "type": ["AchievementSubject"],
            "identifier": [
                {
                    "type": "IdentityObject",
                    "identityHash": learner_name,
                    "identityType": "name",
                    "hashed": False,
                }
            ],
            "achievement": achievement,
        },
        "credentialSchema": [{"id": OB_SCHEMA, "type": "1EdTechJsonSchemaValidator2019"}],
    }
    if expires_at is not None:
        if _utc(expires_at) <= _utc(issued_at):
            raise ValueError("expires_at must be after issued_at")
        credential["validUntil"] = _iso(expires_at)
    return credential


# --------------------------------------------------------------------------- #
# VC-JWT signing and verification
# --------------------------------------------------------------------------- #


def _issuer_id(credential: dict) -> str:
    issuer = credential.get("issuer")
    return issuer.get("id") if isinstance(issuer, dict) else issuer


def _subject_id(credential: dict) -> str | None:
    subject = credential.get("credentialSubject")
    return subject.get("id") if isinstance(subject, dict) else None


def sign_credential(credential: dict, key: Ed25519PrivateKey) -> str:
    """Sign ``credential`` as a compact JWS (VC-JWT, ``alg`` EdDSA).

    The payload is the credential with the OB 3.0 JWT claims added: ``iss``
    (issuer id), ``jti`` (credential id), ``sub`` (subject id), ``nbf``
    (validFrom) and ``exp`` (validUntil, when present).
    """
    for claim in _JWT_CLAIMS:
        if claim in credential:
            raise ValueError(f"credential already contains JWT claim {claim!r}")
    payload = dict(credential)
    payload["iss"] = _issuer_id(credential)
    payload["jti"] = credential["id"]
    if _subject_id(credential):
        payload["sub"] = _subject_id(credential)
    payload["nbf"] = _numeric_date(credential["validFrom"])
    if credential.get("validUntil"):
        payload["exp"] = _numeric_date(credential["validUntil"])

    header = {"alg": "EdDSA", "typ": "JWT", "kid": public_jwk(key)["kid"]}
    signing_input = f"{_b64url(_json_bytes(header))}.{_b64url(_json_bytes(payload))}"
    signature = key.sign(signing_input.encode("ascii"))
    return f"{signing_input}.{_b64url(signature)}"


def verify_credential(
    jws: str,
    jwk: dict,
    *,
    now: datetime | None = None,
    leeway: int = 60,
) -> dict:
    """Verify a VC-JWT made by ``sign_credential`` against a public ``jwk``.

    Returns the credential (JWT claims removed). Raises ``CredentialError`` (a
    ``ValueError``) on a malformed token, wrong key, bad signature or
    inconsistent claims; ``CredentialExpired`` / ``CredentialNotYetValid`` when
    the signature is good but ``now`` (default: current time) is outside the
    validity window, allowing ``leeway`` seconds of clock skew.
    """
    if not isinstance(jws, str) or jws.count(".") != 2:
        raise CredentialError("not a compact JWS")
    header_b64, payload_b64, signature_b64 = jws.split(".")
    try:
        header = json.loads(_b64url_decode(header_b64))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CredentialError("invalid JWS header") from exc
    if not isinstance(header, dict) or header.get("alg") != "EdDSA":
        raise CredentialError("unsupported JWS algorithm (expected EdDSA)")
    if "crit" in header:
        raise CredentialError("unsupported critical JWS header parameters")
    public_key = _key_from_jwk(jwk)
    expected_kid = jwk.get("kid") or jwk_thumbprint(jwk)
    if header.get("kid") is not None and header["kid"] != expected_kid:
        raise CredentialError("JWS was signed with a different key (kid mismatch)")
    try:
        signing_input = f"{header_b64}.{payload_b64}".encode("ascii")
        public_key.verify(_b64url_decode(signature_b64), signing_input)
    except InvalidSignature as exc:
        raise CredentialError("invalid signature") from exc

    try:
        payload = json.loads(_b64url_decode(payload_b64))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CredentialError("invalid JWS payload") from exc
    if not isinstance(payload, dict):
        raise CredentialError("JWS payload is not a JSON object")

    credential = {k: v for k, v in payload.items() if k not in _JWT_CLAIMS}
    types = credential.get("type")
    if not isinstance(types, list) or "VerifiableCredential" not in types or not (
        "OpenBadgeCredential" in types or "AchievementCredential" in types
    ):
        raise CredentialError("payload is not an OpenBadgeCredential")
    if payload.get("iss") != _issuer_id(credential):
        raise CredentialError("'iss' does not match the credential issuer")
    if payload.get("jti") != credential.get("id"):
        raise CredentialError("'jti' does not match the credential id")
    if _subject_id(credential) is not None and payload.get("sub") != _subject_id(credential):
        raise CredentialError("'sub' does not match the credential subject")

    for claim in ("nbf", "exp"):
        value = payload.get(claim)
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise CredentialError(f"{claim!r} must be a NumericDate")
    if "nbf" not in payload:
        raise CredentialError("missing 'nbf' claim")
    if not isinstance(credential.get("validFrom"), str):
        raise CredentialError("missing 'validFrom'")
    try:
        valid_from = _numeric_date(credential["validFrom"])
        valid_until = (
            _numeric_date(credential["validUntil"]) if "validUntil" in credential else None
        )
    except ValueError as exc:
        raise CredentialError(str(exc)) from exc
    if payload["nbf"] != valid_from or payload.get("exp") != valid_until:
        raise CredentialError("'nbf'/'exp' do not match validFrom/validUntil")

    current = int(_utc(now or datetime.now(timezone.utc)).timestamp())
    if current + leeway < payload["nbf"]:
        raise CredentialNotYetValid("credential is not valid yet")
    if payload.get("exp") is not None and current - leeway >= payload["exp"]:
        raise CredentialExpired("credential has expired")
    return credential
