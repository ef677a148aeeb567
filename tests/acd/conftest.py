"""Fixtures shared with the softphone tests."""

from tests.softphone.conftest import sign_in  # noqa: F401
