"""The shipped adapter contract, against the fake org."""

from __future__ import annotations

import pytest

from crm_adapters.testing import AdapterContract
from tests.fakes.salesforce import FakeSalesforce

from .conftest import KeyPair


class TestSalesforceContract(AdapterContract):
    @pytest.fixture
    def crm(self, sf: FakeSalesforce) -> FakeSalesforce:
        return sf

    @pytest.fixture
    def secrets(self, key_pair: KeyPair) -> list[str]:
        return [key_pair.private_pem]
