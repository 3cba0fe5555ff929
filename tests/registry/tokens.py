"""A token service for the local registry's bearer flow (the distribution token spec): it checks
the client's basic credentials and issues JWTs (ES256) that the registry trusts through its
`rootcertbundle`, the signing key named by its libtrust key id (`kid`)."""

from __future__ import annotations

import base64
import datetime
import hashlib
import http.server
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID

from tests.local_http import serving

SERVICE, ISSUER = "local-registry", "local-token-issuer"



def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _key_id(key: ec.EllipticCurvePrivateKey) -> str:
    """libtrust's key id: SHA-256 of the public key's DER, 240 bits, base32, 4-char groups."""
    der = key.public_key().public_bytes(serialization.Encoding.DER,
                                        serialization.PublicFormat.SubjectPublicKeyInfo)
    text = base64.b32encode(hashlib.sha256(der).digest()[:30]).decode().rstrip("=")
    return ":".join(text[i:i + 4] for i in range(0, 48, 4))


@dataclass
class TokenService:
    url: str
    user: str
    password: str
    key: ec.EllipticCurvePrivateKey
    requests: list[dict[str, Any]] = field(default_factory=list)

    def token(self, scope: str) -> str:
        header = {"typ": "JWT", "alg": "ES256", "kid": _key_id(self.key)}
        now = int(time.time())
        access = []
        if scope:
            kind, name, actions = scope.split(":")
            access.append({"type": kind, "name": name, "actions": actions.split(",")})
        claims = {"iss": ISSUER, "sub": self.user, "aud": SERVICE, "exp": now + 300,
                  "nbf": now - 10, "iat": now, "jti": str(now), "access": access}
        signing = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
        r, s = decode_dss_signature(self.key.sign(signing.encode(), ec.ECDSA(hashes.SHA256())))
        return f"{signing}.{_b64(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


def certificate(key: ec.EllipticCurvePrivateKey, path: Path) -> None:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "token issuer")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .sign(key, hashes.SHA256()))
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


@contextmanager
def token_service(folder: Path, user: str, password: str) -> Iterator[TokenService]:
    key = ec.generate_private_key(ec.SECP256R1())
    certificate(key, folder / "token-cert.pem")
    expected = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
    service = TokenService("", user, password, key)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            query = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
            service.requests.append({"query": query,
                                     "authorized": self.headers.get("Authorization") == expected})
            if self.headers.get("Authorization") != expected:
                self.send_response(401)
                self.end_headers()
                return
            body = json.dumps({"token": service.token(query.get("scope", ""))}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    with serving(Handler) as url:
        service.url = f"{url}/token"
        yield service


def registry_config(service: TokenService, folder: Path) -> str:
    return (f"auth:\n  token:\n    realm: {service.url}\n    service: {SERVICE}\n"
            f"    issuer: {ISSUER}\n    rootcertbundle: {folder / 'token-cert.pem'}\n")
