"""How a bearer token becomes an identity: a file of token hashes, or JWTs.

The server's environment chooses the verifier (:func:`verifier_from_env`):

=================================  =========================================================
``MEDIATOR_AUTH_TOKENS_FILE``      a JSON file ``{"alice": ["sha256:<hex>", ...], ...}``
                                   (:class:`TokenFileVerifier`; ``mediator token`` adds one)
``MEDIATOR_AUTH_JWT_SECRET``       HS256 JWTs signed with this shared secret
``MEDIATOR_AUTH_JWT_PUBLIC_KEY``   JWTs signed by your identity provider (a PEM, or a
                                   path to one); ``MEDIATOR_AUTH_JWT_ALGORITHMS`` (default
                                   ``RS256``), ``..._AUDIENCE``, ``..._ISSUER``,
                                   ``..._IDENTITY_CLAIM`` (default ``sub``)
``MEDIATOR_AUTH=none``             no verification: one trusted operator who may act for
                                   any user (a server only you can reach)
=================================  =========================================================

With none of them set, every request is refused (fail closed), with a message
naming these settings. A verifier returns the identity or raises
:class:`InvalidToken`; its message reaches the client, so it never echoes the token.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

IDENTITY_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$")
"""What an identity may look like: it becomes a Store namespace label and an owner tag."""
HASH_PREFIX = "sha256:"


class InvalidToken(Exception):
    """The token is missing, malformed, unknown, expired or badly signed."""


class AuthNotConfigured(Exception):
    """No verifier is configured: the server refuses every request until one is."""


class TokenVerifier(Protocol):
    """Anything that turns a bearer token into an identity."""

    def verify(self, token: str) -> str:
        """The identity ``token`` proves; raises :class:`InvalidToken` otherwise."""
        ...


def checked_identity(identity: object) -> str:
    """``identity`` if it is a usable user id (letters, digits, ``._@+-``; at most 128)."""
    if not isinstance(identity, str) or not IDENTITY_PATTERN.match(identity):
        raise InvalidToken("the token's identity is not a valid user id")
    return identity


def token_hash(token: str) -> str:
    """What a token file stores for ``token``: its SHA-256, never the token itself."""
    return HASH_PREFIX + hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass
class TokenFileVerifier:
    """Tokens listed by hash in a JSON file, re-read whenever the file changes.

    For small teams: ``mediator token alice --file tokens.json`` prints a new
    token once and stores only its hash. Lookup compares every hash in
    constant time, so timing tells nothing about which tokens exist.
    """

    path: Path
    _hashes: dict[str, str] = field(default_factory=dict, init=False, repr=False)
    _stamp: tuple[float, int] | None = field(default=None, init=False, repr=False)

    def verify(self, token: str) -> str:
        """The identity whose listed hash matches ``token``."""
        presented = token_hash(token)
        found = None
        for known, identity in self._load().items():
            if hmac.compare_digest(known, presented):
                found = identity
        if found is None:
            raise InvalidToken("unknown token")
        return found

    def _load(self) -> dict[str, str]:
        try:
            stat = self.path.stat()
        except OSError as exc:
            raise AuthNotConfigured(
                f"MEDIATOR_AUTH_TOKENS_FILE {self.path} cannot be read"
            ) from exc
        if self._stamp != (stat.st_mtime, stat.st_size):
            self._hashes = read_token_file(self.path)
            self._stamp = (stat.st_mtime, stat.st_size)
        return self._hashes


def read_token_file(path: Path) -> dict[str, str]:
    """Hash -> identity, from ``{"alice": ["sha256:<hex>", ...]}``; errors name the entry."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError) as exc:
        raise AuthNotConfigured(f"{path} is not a JSON token file: {exc}") from exc
    if not isinstance(raw, dict):
        raise AuthNotConfigured(f'{path} must hold an object: {{"alice": ["sha256:..."]}}')
    hashes: dict[str, str] = {}
    for identity, listed in raw.items():
        checked = _file_identity(path, identity)
        for entry in listed if isinstance(listed, list) else [listed]:
            if not (isinstance(entry, str) and re.fullmatch(HASH_PREFIX + "[0-9a-f]{64}", entry)):
                raise AuthNotConfigured(
                    f"{path}: {identity!r} lists an entry that is not 'sha256:<64 hex>'; "
                    "store hashes (mediator token), never tokens"
                )
            hashes[entry] = checked
    return hashes


def _file_identity(path: Path, identity: str) -> str:
    try:
        return checked_identity(identity)
    except InvalidToken as exc:
        raise AuthNotConfigured(f"{path}: {identity!r} is not a valid user id") from exc


def add_token(path: Path, identity: str) -> str:
    """Make a new token for ``identity``, store its hash in ``path``, return the token.

    The token is shown to the caller once; the file (created with mode 0600)
    keeps only the hash, so a copy of the file lets nobody in.
    """
    checked_identity(identity)
    entries: dict[str, list[str]] = {}
    for known, user in (read_token_file(path) if path.exists() else {}).items():
        entries.setdefault(user, []).append(known)
    token = secrets.token_urlsafe(32)
    entries.setdefault(identity, []).append(token_hash(token))
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        json.dump(entries, out, indent=2)
    return token


@dataclass
class JwtVerifier:
    """JWTs checked with PyJWT: signature, expiry (required), audience and issuer if set."""

    key: str
    algorithms: Sequence[str]
    audience: str | None = None
    issuer: str | None = None
    identity_claim: str = "sub"

    def verify(self, token: str) -> str:
        """The identity claim of a valid token."""
        import jwt  # the server extra: pip install 'langgraph-mediator[server]'

        try:
            claims = jwt.decode(
                token,
                self.key,
                algorithms=list(self.algorithms),
                audience=self.audience,
                issuer=self.issuer,
                options={"require": ["exp", self.identity_claim]},
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken(f"invalid token: {type(exc).__name__}") from exc
        return checked_identity(claims.get(self.identity_claim))


@dataclass
class OpenVerifier:
    """``MEDIATOR_AUTH=none``: nobody is verified; the caller is the server's operator."""

    identity: str = "operator"

    def verify(self, token: str) -> str:
        """Every caller, token or not, is the operator."""
        return self.identity


@dataclass
class ClosedVerifier:
    """No verifier configured: refuse every request, saying what to set."""

    def verify(self, token: str) -> str:
        """Always refuses."""
        raise AuthNotConfigured(
            "this server's auth has no verifier: set MEDIATOR_AUTH_TOKENS_FILE (a token "
            "file), MEDIATOR_AUTH_JWT_SECRET or MEDIATOR_AUTH_JWT_PUBLIC_KEY (JWTs), or "
            "MEDIATOR_AUTH=none on a server only you can reach"
        )


def _env(name: str) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or None


def _jwt_from_env(secret: str | None, public_key: str | None) -> JwtVerifier:
    if public_key and not public_key.startswith("-----BEGIN") and Path(public_key).is_file():
        public_key = Path(public_key).read_text(encoding="utf-8")
    default_algorithms = "HS256" if secret else "RS256"
    algorithms = (_env("MEDIATOR_AUTH_JWT_ALGORITHMS") or default_algorithms).split(",")
    return JwtVerifier(
        key=secret or public_key or "",
        algorithms=[a.strip() for a in algorithms if a.strip()],
        audience=_env("MEDIATOR_AUTH_JWT_AUDIENCE"),
        issuer=_env("MEDIATOR_AUTH_JWT_ISSUER"),
        identity_claim=_env("MEDIATOR_AUTH_JWT_IDENTITY_CLAIM") or "sub",
    )


def verifier_from_env() -> TokenVerifier:
    """The verifier the server's environment names (see the module's table)."""
    mode = (_env("MEDIATOR_AUTH") or "").lower()
    if mode == "none":
        return OpenVerifier()
    tokens_file = _env("MEDIATOR_AUTH_TOKENS_FILE")
    secret, public_key = _env("MEDIATOR_AUTH_JWT_SECRET"), _env("MEDIATOR_AUTH_JWT_PUBLIC_KEY")
    if mode not in ("", "tokens", "jwt"):
        raise AuthNotConfigured(f"MEDIATOR_AUTH must be none, tokens or jwt, got {mode!r}")
    if tokens_file and mode != "jwt":
        return TokenFileVerifier(Path(tokens_file))
    if (secret or public_key) and mode != "tokens":
        return _jwt_from_env(secret, public_key)
    return ClosedVerifier()
