"""The adapter is found through its entry point, and every setting is documented."""

from __future__ import annotations

import re
from importlib.metadata import entry_points
from pathlib import Path

from crm_adapters.base import API_VERSION, CRMAdapter, field_names
from crm_adapters.salesforce import SalesforceAdapter, SalesforceSettings

DOC = Path(__file__).parents[3] / "docs" / "salesforce.md"


def test_entry_point_loads_the_adapter() -> None:
    (entry,) = [e for e in entry_points(group="cti.crm_adapters") if e.name == "salesforce"]
    cls = entry.load()
    assert cls is SalesforceAdapter and issubclass(cls, CRMAdapter)
    assert (cls.name, cls.api_version, cls.Settings) == ("salesforce", API_VERSION,
                                                         SalesforceSettings)


def test_every_setting_is_in_the_example_block() -> None:
    text = DOC.read_text(encoding="utf-8")
    block = text.split("```toml\n[crm.salesforce]\n", 1)[1].split("```", 1)[0]
    documented = set(re.findall(r"^#?\s*(\w+) =", block, re.MULTILINE))
    assert set(field_names(SalesforceSettings)) - {"object_fields"} <= documented
    assert "[crm.salesforce.object_fields." in block
