"""Fixtures: a signing key and certificate, the fake org on loopback, adapters wired to it.

simple-salesforce speaks only https to ``*.salesforce.com``, so the adapter's session routes
the fake org's My Domain host (:data:`ORG_HOST`) to the loopback server
(``tests.fakes.server.HostRoute``); the fake sees the URL the adapter asked for.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from crm_adapters.base import AdapterEnvironment
from crm_adapters.http import TimeoutSession
from crm_adapters.salesforce import SalesforceAdapter, SalesforceSettings
from crm_adapters.settings import parse_settings
from tests.fakes.salesforce import FakeSalesforce
from tests.fakes.server import LiveServer, behind_tls_proxy, route_hosts

#: Shorter than the fake's "timeout" delay (1.5 s), as the contract suite requires (< 2 s).
HTTP_TIMEOUT = (1.0, 1.0)

#: The fake org's My Domain: login host and instance (what the token answer says).
ORG_HOST = "fake-org.my.salesforce.com"
ORG_URL = f"https://{ORG_HOST}"
#: What Salesforce expects as the JWT audience of a production org.
AUDIENCE = "https://login.salesforce.com"


@dataclass(frozen=True)
class KeyPair:
    private_pem: str
    certificate_pem: bytes


def make_key_pair() -> KeyPair:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "cti-connector test")])
    now = datetime.now(UTC)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - timedelta(days=1))
                   .not_valid_after(now + timedelta(days=1))
                   .sign(key, hashes.SHA256()))
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    return KeyPair(private, certificate.public_bytes(serialization.Encoding.PEM))


@pytest.fixture(scope="session")
def key_pair() -> KeyPair:
    return make_key_pair()


class AppSlot:
    """A WSGI app that forwards to whichever fake the current test put in it."""

    def __init__(self) -> None:
        self.app: Callable[..., Any] | None = None

    def __call__(self, environ: dict, start_response: Callable[..., Any]) -> Any:
        assert self.app is not None, "no fake Salesforce installed"
        return self.app(environ, start_response)


@pytest.fixture(scope="session")
def sf_server() -> Iterator[tuple[AppSlot, str]]:
    # One server per session (stopping one takes half a second); a fresh org per test.
    slot = AppSlot()
    with LiveServer(behind_tls_proxy(slot)) as server:
        yield slot, server.url


@pytest.fixture
def sf(key_pair: KeyPair, sf_server: tuple[AppSlot, str]) -> Iterator[FakeSalesforce]:
    slot, url = sf_server
    fake = FakeSalesforce(key_pair.certificate_pem, audience=AUDIENCE)
    fake.url = url  # type: ignore[attr-defined]
    slot.app = fake
    yield fake
    slot.app = None


def settings_table(sf: FakeSalesforce, key_pair: KeyPair, **overrides: Any) -> dict[str, Any]:
    table = {"login_url": ORG_URL, "consumer_key": sf.consumer_key,  # type: ignore[attr-defined]
             "username": "integration@example.com", "private_key": key_pair.private_pem}
    table.update(overrides)
    return table


@pytest.fixture
def make_adapter(sf: FakeSalesforce, key_pair: KeyPair) -> Callable[..., SalesforceAdapter]:
    """Build an adapter against the fake; keyword arguments override ``[crm.salesforce]`` keys."""

    def build(**overrides: Any) -> SalesforceAdapter:
        settings = parse_settings(SalesforceSettings, settings_table(sf, key_pair, **overrides),
                                  where="crm.salesforce")
        http = route_hosts(TimeoutSession(HTTP_TIMEOUT), sf.url,  # type: ignore[attr-defined]
                           ORG_HOST)
        return SalesforceAdapter(settings, http=http,
                                 env=AdapterEnvironment(timezone="Asia/Tokyo"))

    return build


@pytest.fixture
def adapter(make_adapter: Callable[..., SalesforceAdapter]) -> SalesforceAdapter:
    return make_adapter()
