"""What the simulated account charges for a call leg: the ``price`` of its Call resource.

Twilio fills ``price`` (negative text, e.g. ``"-0.01300"``) and ``price_unit`` on a Call some
time after it completed; until then ``price`` is ``null``. The simulator does the same: a
finished leg has no price for :attr:`Tariff.delay_seconds` (simulated time), then
``-(minutes × rate)`` with the minutes rounded up per started minute, as Twilio bills PSTN
voice per minute. A leg that never connected costs ``0``.

The rates are UNVERIFIED — believed to be in the range of Twilio's published Japan voice
prices (twilio.com/en-us/voice/pricing/jp) but not copied from it; they only make the figures
look plausible. Tests and ``cti simulate`` set their own with ``sim.tariff = Tariff(...)``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from voice.simulator.calls import Leg

#: Per-minute rates (USD), UNVERIFIED (see the module text).
DEFAULT_RATES: Mapping[str, Decimal] = MappingProxyType({
    "jp_mobile": Decimal("0.1500"),   # outbound to 070 / 080 / 090
    "jp_landline": Decimal("0.0650"),  # outbound to other Japanese numbers
    "international": Decimal("0.2000"),  # outbound outside Japan
    "inbound": Decimal("0.0100"),     # a caller reaching one of our numbers
    "client": Decimal("0.0040"),      # a browser (Voice SDK) leg
})
_JP_MOBILE = ("+8170", "+8180", "+8190")
_PLACES = Decimal("0.00001")


def leg_kind(leg: Leg) -> str:
    """Which rate a leg pays: browser legs, inbound PSTN, or by the dialled number."""
    if leg.to.startswith("client:") or leg.from_.startswith("client:"):
        return "client"
    if leg.direction == "inbound":
        return "inbound"
    if leg.to.startswith(_JP_MOBILE):
        return "jp_mobile"
    return "jp_landline" if leg.to.startswith("+81") else "international"


@dataclass(frozen=True)
class Tariff:
    """Rates per minute by :func:`leg_kind`, the currency, and how late prices appear."""

    rates: Mapping[str, Decimal] = field(default_factory=lambda: dict(DEFAULT_RATES))
    unit: str = "USD"
    delay_seconds: float = 120.0

    def price(self, leg: Leg, now: float) -> str | None:
        """The Call resource's ``price`` now: ``None`` while running or not yet rated."""
        if leg.alive or leg.ended_at is None or now < leg.ended_at + self.delay_seconds:
            return None
        minutes = math.ceil(leg.duration / 60)
        cost = (self.rates[leg_kind(leg)] * minutes).quantize(_PLACES)
        return f"-{cost}" if cost else f"{cost}"
