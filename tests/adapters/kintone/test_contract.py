"""The shared adapter contract, against the fake kintone: plainly, and in a guest space of a
domain with Basic authentication."""

from __future__ import annotations

from typing import Any

import pytest

from crm_adapters.testing import AdapterContract
from tests.fakes.kintone import CRM_TOKEN, HISTORY_TOKEN, FakeKintone


class TestKintoneContract(AdapterContract):
    @pytest.fixture
    def crm(self, fake: FakeKintone) -> FakeKintone:
        return fake

    @pytest.fixture
    def secrets(self) -> list[str]:
        return [CRM_TOKEN, HISTORY_TOKEN]


BASIC = ("cti-basic", "basic-pass-s3cret")


class TestKintoneContractInGuestSpaceBehindBasicAuth(AdapterContract):
    @pytest.fixture
    def fake_options(self) -> dict[str, Any]:
        return {"guest_space_id": 7, "basic_auth": BASIC}

    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {"basic_auth_user": BASIC[0], "basic_auth_password": BASIC[1]}

    @pytest.fixture
    def crm(self, fake: FakeKintone) -> FakeKintone:
        return fake

    @pytest.fixture
    def secrets(self) -> list[str]:
        return [CRM_TOKEN, HISTORY_TOKEN, BASIC[1]]
