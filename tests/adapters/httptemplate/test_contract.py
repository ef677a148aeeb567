"""The HTTP (URL-template) adapter passes the shipped contract suite against a local CRM."""

import pytest

from crm_adapters.testing import AdapterContract
from tests.fakes.http_template_crm import PASSWORD


class TestHTTPTemplateContract(AdapterContract):
    @pytest.fixture
    def adapter(self, make_adapter):
        return make_adapter()

    @pytest.fixture
    def secrets(self):
        return [PASSWORD]


class TestJSONSearchContract(AdapterContract):
    """The same with a JSON search answer and a JSON wrap-up body."""

    @pytest.fixture
    def adapter(self, make_adapter, server):
        base = server.url
        return make_adapter(
            search={"url": f"{base}/search.json?tel={{TEL}}&sid={{SID}}", "response": "json",
                    "items_path": "data.customers",
                    "fields": {"id": "id", "name": "name", "company": "org.name"}},
            wrapup={"url": f"{base}/hook/wrapup", "method": "POST", "body_format": "json",
                    "body": '{"callsid": "{CALLSID}", "note": "{NOTE}", "result": "{RESULT}"}'})

    @pytest.fixture
    def secrets(self):
        return [PASSWORD]
