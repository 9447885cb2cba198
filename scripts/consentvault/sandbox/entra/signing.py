"""RS256 signing keys of the stand-in and their JSON Web Key Sets.

Two keys: one for the identity platform (access and id tokens), one for the
CI issuer, so a CI id token can never pass as an Entra token or the reverse.
Keys persist under the state folder so tokens survive a restart.
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from consentvault.sandbox.paths import write_private


class SigningKey:
    def __init__(self, pem_file: Path):
        if not pem_file.exists():
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            pem = key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            write_private(pem_file, pem)
        self._key = serialization.load_pem_private_key(
            pem_file.read_bytes(), password=None
        )
        public_der = self._key.public_key().public_bytes(
            serialization.Encoding.DER,
            serialization.PublicFormat.SubjectPublicKeyInfo,
        )
        digest = hashlib.sha1(public_der).digest()
        self.kid = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def sign(self, claims: dict) -> str:
        return jwt.encode(
            claims, self._key, algorithm="RS256", headers={"kid": self.kid}
        )

    def verify(self, token: str, **options) -> dict:
        """Decode `token`, raising `jwt.PyJWTError` if anything is wrong."""
        return jwt.decode(
            token, self._key.public_key(), algorithms=["RS256"], **options
        )

    def jwk(self) -> dict:
        key = json.loads(RSAAlgorithm.to_jwk(self._key.public_key()))
        return {**key, "kid": self.kid, "use": "sig", "alg": "RS256"}

    def jwks(self) -> dict:
        return {"keys": [self.jwk()]}
