"""The popup protocol of the kintone plugin (docs/kintone.md): cti:ready, then cti:dial from an
allowed CRM origin dials with the record attached; the origin rules themselves."""

from __future__ import annotations

import json

from tests.fakes.server import LiveServer
from tests.softphone.browser.conftest import free_port, wait_for
from tests.softphone.browser.test_softphone import Phone

OPENER_PAGE = """<!doctype html><meta charset="utf-8"><title>kintone</title>
<script>
  window.ready = false;
  window.addEventListener('message', (event) => {
    if (event.origin === SOFTPHONE && event.data && event.data.type === 'cti:ready') {
      window.ready = true;
    }
  });
  function openSoftphone() {
    window.softphone = window.open(SOFTPHONE + '/softphone/?crm=kintone', 'cti-softphone',
                                   'popup,width=380,height=680');
  }
  function sendDial(number, record) {
    window.softphone.postMessage({type: 'cti:dial', version: 1, number, record}, SOFTPHONE);
  }
</script>"""


def kintone_page(softphone_origin: str):
    body = OPENER_PAGE.replace("SOFTPHONE", json.dumps(softphone_origin)).encode()

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
        return [body]
    return app


def test_kintone_plugin_dials_through_the_popup(live_factory):
    port = free_port()
    crm_origin = f"http://localhost:{port}"
    live = live_factory(server={"frame_ancestors": [crm_origin]})
    Phone(live)  # agent1 with a number to call from
    context = live.context()
    with LiveServer(kintone_page(live.url), port=port):
        opener = context.new_page()
        opener.goto(crm_origin + "/")
        with context.expect_page() as popped:
            opener.evaluate("openSoftphone()")
        softphone = popped.value
        wait_for(opener, "() => window.ready")  # cti:ready reached the opener
        softphone.wait_for_selector("#app:not([hidden])")
        live.sign_in(softphone)
        opener.evaluate("([n, r]) => sendDial(n, r)", ["03-1234-5678", {
            "crm": "kintone", "appId": "3", "recordId": "42", "name": "山田商事 山田 太郎",
            "url": "https://example.cybozu.com/k/3/show#record=42"}])
        wait_for(softphone, "() => __fake.log.some((l) => l.startsWith('connect'))")
        params = softphone.evaluate("__fake.lastCall().connectParams")
    assert params["To"] == "+81312345678"
    assert json.loads(params["cti_record"]) == {"adapter": "kintone", "id": "42", "type": "3",
                                                "name": "山田商事 山田 太郎"}


def test_dial_requests_are_accepted_only_from_crm_origins(live):
    page = live.open()
    verdicts = page.evaluate("""async () => {
      const { originAllowed } = await import('./js/window-protocol.js');
      const patterns = ['https://*.cybozu.com', 'https://acme.my.salesforce.com',
                        'http://localhost:8080'];
      return ['https://acme.cybozu.com', 'https://cybozu.com', 'https://evil.com',
              'http://acme.cybozu.com', 'https://acme.cybozu.com.evil.com',
              'https://acme.my.salesforce.com', 'https://other.my.salesforce.com',
              'http://localhost:8080', 'http://localhost:9090', 'null']
        .map((origin) => originAllowed(origin, patterns));
    }""")
    assert verdicts == [True, False, False, False, False, True, False, True, False, False]
