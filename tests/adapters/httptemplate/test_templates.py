"""The HTTP adapter against a local CRM: encodings, methods and bodies, answers, timeouts."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl, quote

import pytest

from crm_adapters.errors import AdapterPermanentError, AdapterTemporaryError
from crm_adapters.httptemplate import CallContext
from crm_adapters.httptemplate.placeholders import NAMES
from crm_adapters.settings import SettingsError
from crm_adapters.testing import sample_log

#: Values that break naive templating: URL syntax, Japanese, quotes, line breaks.
TRICKY = {"name": "山田 太郎&co=1/2?#", "company": "株式会社 \"A+B\" 100%",
          "note": "折り返し希望\n明日 10:00 & 午後", "result": "対応完了 ✓"}

EVERY = "&".join(f"{name.lower()}={{{name}}}" for name in NAMES if name != "SID")


def context(**changes):
    values = dict(call_sid="CA" + "a" * 32, direction="inbound", customer_number="+81312345678",
                  our_number="+815012345678", customer_name=TRICKY["name"],
                  customer_company=TRICKY["company"], customer_id="R00042",
                  agent_username="agent1", agent_name="佐藤 花子",
                  started_at="2026-11-20T01:02:03Z", duration_seconds=187, answered=True,
                  result=TRICKY["result"], note=TRICKY["note"],
                  recording_url="https://cti.example.com/crm/recordings/CAx?a=1&b=2")
    values.update(changes)
    return CallContext(**values)


EXPECTED = {"tel": "0312345678", "telname": TRICKY["name"], "called": "05012345678",
            "calledname": "佐藤 花子", "company": TRICKY["company"], "name": TRICKY["name"],
            "id": "R00042", "ext": "agent1", "aid": "agent1", "date-yyyy": "2026",
            "date-mm": "11", "date-dd": "20", "date-hh": "10", "date-ii": "02", "date-ss": "03",
            "callsid": "CA" + "a" * 32, "direction": "inbound", "duration": "187",
            "result": TRICKY["result"], "note": TRICKY["note"],
            "recording_url": "https://cti.example.com/crm/recordings/CAx?a=1&b=2"}


def test_every_placeholder_is_percent_encoded_in_a_url(make_adapter, crm, server):
    adapter = make_adapter({"incoming": {"url": f"{server.url}/hook/incoming?{EVERY}"}})
    assert adapter.fire("incoming", context())
    (hit,) = crm.hits_for("/hook/incoming")
    assert hit["method"] == "GET"
    # On the wire, each value is percent-encoded as a whole (UTF-8) …
    raw = dict(part.split("=", 1) for part in hit["query"].split("&"))
    for key, value in EXPECTED.items():
        assert raw[key] == quote(value, safe=""), key
    # … so the CRM reads back exactly the values (Tokyo time for {DATE-*}).
    assert dict(parse_qsl(hit["query"])) == EXPECTED


def test_shift_jis_urls(make_adapter, crm, server):
    adapter = make_adapter({"url_charset": "shift_jis", "incoming": {
        "url": f"{server.url}/hook/incoming?name={{NAME}}"}})
    adapter.fire("incoming", context(customer_name="山田 太郎"))
    (hit,) = crm.hits_for("/hook/incoming")
    assert hit["query"] == "name=" + quote("山田 太郎", safe="", encoding="shift_jis")
    assert dict(parse_qsl(hit["query"], encoding="shift_jis")) == {"name": "山田 太郎"}


def test_a_value_shift_jis_cannot_hold_is_a_permanent_error(make_adapter, server):
    adapter = make_adapter({"url_charset": "shift_jis", "incoming": {
        "url": f"{server.url}/hook/incoming?n={{NAME}}"}})
    with pytest.raises(AdapterPermanentError, match="cannot be encoded in shift_jis"):
        adapter.fire("incoming", context(customer_name="😀"))


@pytest.mark.parametrize("number_format,tel", [("national", "0312345678"),
                                               ("e164", "+81312345678"),
                                               ("hyphen", "03-1234-5678")])
def test_number_formats(make_adapter, crm, server, number_format, tel):
    adapter = make_adapter({"number_format": number_format, "incoming": {
        "url": f"{server.url}/hook/incoming?tel={{TEL}}"}})
    adapter.fire("incoming", context())
    assert dict(parse_qsl(crm.hits_for("/hook/incoming")[0]["query"])) == {"tel": tel}


def test_post_form_body(make_adapter, crm, server):
    adapter = make_adapter({"answered": {"url": f"{server.url}/hook/answered?callsid={{CALLSID}}",
                                         "method": "POST",
                                         "body": "name={NAME}&note={NOTE}&tel={TEL}"}})
    adapter.fire("answered", context())
    (hit,) = crm.hits_for("/hook/answered")
    assert hit["method"] == "POST"
    assert hit["headers"]["Content-Type"] == "application/x-www-form-urlencoded"
    # An "&" or "=" in a value stays inside its field.
    assert dict(parse_qsl(hit["body"].decode())) == {
        "name": TRICKY["name"], "note": TRICKY["note"], "tel": "0312345678"}
    assert dict(parse_qsl(hit["query"])) == {"callsid": "CA" + "a" * 32}


def test_post_without_body_sends_the_query_as_the_form(make_adapter, crm, server):
    adapter = make_adapter({"click": {"url": f"{server.url}/hook/click?tel={{TEL}}&n={{NAME}}",
                                      "method": "POST"}})
    adapter.fire("click", context(direction="outbound"))
    (hit,) = crm.hits_for("/hook/click")
    assert hit["method"] == "POST" and hit["query"] == ""
    assert dict(parse_qsl(hit["body"].decode())) == {"tel": "0312345678", "n": TRICKY["name"]}


def test_post_json_body(make_adapter, crm, server):
    body = '{"call": {"sid": "{CALLSID}", "note": "{NOTE}"}, "who": ["{NAME}", "{COMPANY}"]}'
    adapter = make_adapter({"incoming": {"url": f"{server.url}/hook/incoming", "method": "POST",
                                         "body_format": "json", "body": body}})
    adapter.fire("incoming", context())
    (hit,) = crm.hits_for("/hook/incoming")
    assert hit["headers"]["Content-Type"] == "application/json"
    assert json.loads(hit["body"]) == {"call": {"sid": "CA" + "a" * 32, "note": TRICKY["note"]},
                                       "who": [TRICKY["name"], TRICKY["company"]]}


def test_requests_carry_an_idempotency_key(make_adapter, crm, server):
    adapter = make_adapter({"incoming": {"url": f"{server.url}/hook/incoming"}})
    adapter.fire("incoming", context())
    assert crm.hits_for("/hook/incoming")[0]["headers"]["Idempotency-Key"] == \
        "CA" + "a" * 32 + "-incoming"


def test_an_event_fires_once_per_call(make_adapter, crm, server):
    adapter = make_adapter({"incoming": {"url": f"{server.url}/hook/incoming"}})
    assert adapter.fire("incoming", context())
    assert not adapter.fire("incoming", context())
    assert not make_adapter({"incoming": {"url": f"{server.url}/hook/incoming"}}).fire(
        "incoming", context())  # another process, same database
    assert adapter.fire("incoming", context(call_sid="CA" + "b" * 32))
    assert len(crm.hits_for("/hook/incoming")) == 2


def test_a_failed_send_may_be_retried(make_adapter, crm, server):
    adapter = make_adapter({"incoming": {"url": f"{server.url}/hook/incoming"},
                            "timeout_seconds": 0.3})
    crm.fail_next("timeout")
    with pytest.raises(AdapterTemporaryError, match="timed out"):
        adapter.fire("incoming", context())
    crm.fail_next("503")
    with pytest.raises(AdapterTemporaryError, match="HTTP 503"):
        adapter.fire("incoming", context())
    assert adapter.fire("incoming", context())
    assert not adapter.fire("incoming", context())


def test_a_refusal_is_permanent(make_adapter, crm, server):
    adapter = make_adapter({"incoming": {"url": f"{server.url}/nowhere"}})
    with pytest.raises(AdapterPermanentError, match="HTTP 404"):
        adapter.fire("incoming", context())


def test_hangup_only_when_answered(make_adapter, crm, server):
    adapter = make_adapter({"hangup": {"url": f"{server.url}/hook/hangup?callsid={{CALLSID}}",
                                       "only_answered": True}})
    unanswered = sample_log("CA" + "c" * 32, answered_at=None, talk_seconds=0)
    assert adapter.write_call_logs([unanswered])[0].ok
    assert crm.hits_for("/hook/hangup") == []
    adapter.write_call_logs([sample_log("CA" + "d" * 32)])
    assert len(crm.hits_for("/hook/hangup")) == 1


def test_hangup_once_and_each_distinct_wrapup_once(make_adapter, crm):
    adapter = make_adapter()
    log = sample_log("CA" + "e" * 32, notes="", disposition="")
    adapter.write_call_logs([log])  # the call ended: hang-up only
    adapter.write_call_logs([log])  # the same job again
    wrapped = sample_log("CA" + "e" * 32, notes="一回目")
    adapter.write_call_logs([wrapped])
    adapter.write_call_logs([wrapped])  # a duplicate job of the same revision
    adapter.write_call_logs([sample_log("CA" + "e" * 32, notes="二回目")])
    assert len(crm.hits_for("/hook/hangup")) == 1
    assert len(crm.hits_for("/hook/wrapup")) == 2
    assert crm.logs_for("CA" + "e" * 32)[0]["note"] == "二回目"


def test_target_numbers_and_internal_calls(make_adapter, crm, server):
    adapter = make_adapter({"incoming": {"url": f"{server.url}/hook/incoming"},
                            "target_numbers": ["050-1234-5678"]})
    assert not adapter.fire("incoming", context(our_number="+815099998888"))
    assert not adapter.fire("incoming", context(customer_number="client:agent2"))
    assert adapter.fire("incoming", context())
    assert len(crm.hits_for("/hook/incoming")) == 1
    inclusive = make_adapter({"incoming": {"url": f"{server.url}/hook/incoming"},
                              "skip_internal": False})
    assert inclusive.fire("incoming", context(customer_number="client:agent2",
                                              call_sid="CA" + "f" * 32))


# -- search answers ---------------------------------------------------------------------------

def search_adapter(make_adapter, server, **search):
    return make_adapter({"search": {"url": f"{server.url}/search.php?tel={{TEL}}", **search}})


def test_name_and_company_on_lines_of_their_own(make_adapter, crm, server):
    crm.search_override = ("山田 太郎\r\n山田商事株式会社\r\n".encode(),
                           "text/plain; charset=utf-8")
    (found,) = search_adapter(make_adapter, server, format="{NAME}{CRLF}{COMPANY}"
                              ).lookup_by_phone("+81312345678")
    assert (found.display_name, found.company) == ("山田 太郎", "山田商事株式会社")
    assert found.phone_numbers == ("+81312345678",)


@pytest.mark.parametrize("separator,token", [("\r\n", "{CRLF}"), ("\r", "{CR}"), ("\n", "{LF}")])
def test_line_break_tokens(make_adapter, crm, server, separator, token):
    crm.search_override = (f"R1{separator}鈴木 一郎{separator}".encode(), "text/plain")
    (found,) = search_adapter(make_adapter, server, format=f"{{ID}}{token}{{NAME}}"
                              ).lookup_by_phone("+81312345678")
    assert (found.record_id, found.display_name) == ("R1", "鈴木 一郎")


def test_biztel_adjacent_fields_are_lines(make_adapter, crm, server):
    crm.search_override = ("田中 次郎\n田中工業\n".encode(), "text/plain")
    (found,) = search_adapter(make_adapter, server, format="{NAME}{COMPANY}"
                              ).lookup_by_phone("+81312345678")
    assert (found.display_name, found.company) == ("田中 次郎", "田中工業")


@pytest.mark.parametrize("content_type", ["text/plain; charset=Shift_JIS", "text/plain",
                                          "text/html; charset=windows-31j"])
def test_shift_jis_answers(make_adapter, crm, server, content_type):
    crm.search_override = ("R7,髙橋 﨑子,株式会社ソフト①\r\n".encode("cp932"), content_type)
    (found,) = search_adapter(make_adapter, server, format="{ID},{NAME},{COMPANY}"
                              ).lookup_by_phone("+81312345678")
    assert (found.record_id, found.display_name, found.company) == (
        "R7", "髙橋 﨑子", "株式会社ソフト①")


def test_utf8_answer_with_several_lines(make_adapter, crm, server):
    crm.customers.clear()
    first = crm.add_customer("山田 太郎", "03-1234-5678", company="山田商事")
    second = crm.add_customer("山田 花子", "+81312345678")
    adapter = search_adapter(make_adapter, server, format="{ID},{NAME},{COMPANY}{CRLF}",
                             record_url=f"{server.url}/customer.php?id={{ID}}&tel={{TEL}}")
    found = adapter.lookup_by_phone("+81312345678")
    assert [(c.record_id, c.display_name) for c in found] == [(first, "山田 太郎"),
                                                               (second, "山田 花子")]
    assert found[0].url == f"{server.url}/customer.php?id={first}&tel=0312345678"


def test_json_answer_with_a_field_path(make_adapter, crm, server):
    crm.search_override = (json.dumps({"result": {"items": [
        {"no": 12, "person": {"name": "佐々木 望"}, "org": "佐々木製作所",
         "link": "https://crm.example.jp/c/12"}]}}).encode(), "application/json")
    (found,) = search_adapter(make_adapter, server, response="json", items_path="result.items",
                              fields={"id": "no", "name": "person.name", "company": "org",
                                      "url": "link"}).lookup_by_phone("+81312345678")
    assert (found.record_id, found.display_name, found.company, found.url) == (
        "12", "佐々木 望", "佐々木製作所", "https://crm.example.jp/c/12")


def test_an_answer_that_is_not_json_is_a_permanent_error(make_adapter, crm, server):
    crm.search_override = (b"<html>error</html>", "text/html")
    with pytest.raises(AdapterPermanentError, match="not JSON"):
        search_adapter(make_adapter, server, response="json").lookup_by_phone("+81312345678")


def test_search_timeout_is_temporary(make_adapter, crm, server):
    crm.fail_next("timeout")
    with pytest.raises(AdapterTemporaryError, match="timed out"):
        make_adapter({"search": {"url": f"{server.url}/search.php?tel={{TEL}}"},
                      "timeout_seconds": 0.3}).lookup_by_phone("+81312345678")


def test_signs_in_once_and_again_when_the_session_ends(make_adapter, crm):
    adapter = make_adapter()
    crm.add_customer("山田 太郎", "03-1234-5678")
    adapter.lookup_by_phone("+81312345678")
    adapter.lookup_by_phone("+81312345678")
    assert len(crm.hits_for("/login.php")) == 1
    crm.sessions.clear()
    crm.sessions.add("other")  # our session is gone
    assert adapter.lookup_by_phone("+81312345678")  # signs in again, once
    assert len(crm.hits_for("/login.php")) == 2


# -- browser pops, doctor, settings -------------------------------------------------------------

def test_browser_templates_and_per_number_popups(make_adapter, server):
    adapter = make_adapter({
        "incoming": {"url": "https://crm.example.jp/pop?tel={TEL}&n={NAME}", "run": "browser"},
        "answered": {"url": "https://crm.example.jp/answer", "method": "POST",
                     "run": "browser", "body": "tel={TEL}&note={NOTE}"},
        "ring_popups": {"050-1234-5678": "https://sfa.example.jp/search?q=@@@@"},
        "answer_popups": {"+815012345678": "https://sfa.example.jp/c?tel=@@@@&sid={CALLSID}",
                          "+815099998888": "https://elsewhere.example.jp/?q=@@@@"}})
    ringing = adapter.browser_requests("incoming", context())
    assert ringing == [
        {"method": "GET", "fields": [],
         "url": "https://crm.example.jp/pop?tel=0312345678&n=" + quote(TRICKY["name"], safe="")},
        {"method": "GET", "fields": [], "url": "https://sfa.example.jp/search?q=0312345678"}]
    answered = adapter.browser_requests("answered", context())
    assert answered == [
        {"method": "POST", "url": "https://crm.example.jp/answer",
         "fields": [["tel", "0312345678"], ["note", TRICKY["note"]]]},
        {"method": "GET", "fields": [],
         "url": "https://sfa.example.jp/c?tel=0312345678&sid=CA" + "a" * 32}]
    assert not adapter.fire("incoming", context())  # browser templates never run server-side


def test_doctor_checks_each_template(make_adapter, crm, server):
    adapter = make_adapter(incoming={"url": f"{server.url}/missing?tel={{TEL}}"})
    verdicts = {v.name: v for v in adapter.check()}
    assert verdicts["auth"].ok and verdicts["search"].ok
    assert verdicts["hangup"].ok and verdicts["wrapup"].ok
    assert not verdicts["incoming"].ok and "HTTP 404" in verdicts["incoming"].message
    assert "tel=" not in verdicts["incoming"].message  # no query strings (phone numbers)
    # Nothing was created in the CRM by checking.
    assert crm.hits_for("/hook/hangup") == [] and crm.logs == {}


def test_doctor_reports_a_wrong_password(make_adapter, crm, server):
    table = {"secrets": {"user": "cti", "password": "wrong"},
             "auth": {"url": f"{server.url}/login.php?userid={{SECRET:user}}"
                             "&password={SECRET:password}"}}
    (verdict,) = make_adapter(table).check()
    assert not verdict.ok and "HTTP 401" in verdict.message


@pytest.mark.parametrize("table,problem", [
    ({"hangup": {"url": "ftp://x/{TEL}"}}, "crm.http.test.hangup: url: an http(s) URL"),
    ({"hangup": {"url": "https://x/?a={PHONE}"}}, "hangup.url: unknown placeholder {PHONE}"),
    ({"hangup": {"url": "https://x/", "body": "a=1"}}, "body: only a POST template"),
    ({"wrapup": {"url": "https://x/", "method": "POST", "body_format": "json",
                 "body": '{"a": {NOTE}}'}}, "body: not a JSON template"),
    ({"search": {"url": "https://x/", "format": "{NAME}{PHONE}"}},
     "format: {PHONE}: unknown placeholder"),
    ({"search": {"url": "https://x/", "fields": {"nam": "x"}}}, "fields: unknown field(s) nam"),
    ({"auth": {"url": "https://x/", "format": "{NAME}"}}, "format: must hold {SID}"),
    ({"hangup": {"url": "https://x/?p={SECRET:pw}"}}, "unknown placeholder {SECRET:pw}"),
    ({"ring_popups": {"0501234567": "javascript:alert(1)"}}, "ring_popups.0501234567: url"),
    ({"timeout_seconds": 60}, "timeout_seconds: must be between"),
])
def test_settings_errors_name_the_key(make_adapter, table, problem):
    with pytest.raises(SettingsError) as excinfo:
        make_adapter(table)
    assert problem in str(excinfo.value)


def test_server_side_only_with_something_to_ask_or_write(make_adapter, server):
    assert make_adapter().server_side
    assert make_adapter({"search": {"url": f"{server.url}/search.php?tel={{TEL}}"}}).server_side
    assert not make_adapter({"ring_popups": {"+815012345678": "https://x.example.jp/?q=@@@@"},
                             "answered": {"url": "https://x.example.jp/", "run": "browser"}}
                            ).server_side


# -- BIZTEL's "OSコマンド": a URL of an app's own scheme, handed to that app ---------------------

def test_app_scheme_urls_are_handed_to_the_app_on_ring_and_answer(make_adapter, server):
    adapter = make_adapter({
        "incoming": {"url": "myapp://open?tel={TEL}&called={CALLED}", "run": "browser"},
        "answered": {"url": "sip:{TEL}@pbx.example.jp", "run": "browser"}})
    assert adapter.browser_requests("incoming", context()) == [
        {"method": "GET", "fields": [], "target": "app",
         "url": "myapp://open?tel=0312345678&called=05012345678"}]
    assert adapter.browser_requests("answered", context()) == [
        {"method": "GET", "fields": [], "target": "app", "url": "sip:0312345678@pbx.example.jp"}]
    verdicts = {v.name: v for v in adapter.check()}
    assert verdicts["incoming"].ok and "app of myapp" in verdicts["incoming"].message


@pytest.mark.parametrize("table,problem", [
    ({"incoming": {"url": "myapp://open?tel={TEL}"}}, "incoming: url: an http(s) URL"),
    ({"incoming": {"url": "javascript:alert('{TEL}')", "run": "browser"}},
     "incoming: url: an http(s) URL"),
    ({"incoming": {"url": "file:///C:/tools/pop.exe?{TEL}", "run": "browser"}},
     "incoming: url: an http(s) URL"),
    ({"incoming": {"url": "C:\\Program Files\\sample.exe {TEL}", "run": "browser"}},
     "a program path cannot be started from a browser"),
    ({"incoming": {"url": "myapp://open", "run": "browser", "method": "POST"}},
     "incoming: method: a URL of an app's own scheme is opened with GET"),
])
def test_app_scheme_urls_only_from_the_browser_and_never_unsafe(make_adapter, table, problem):
    with pytest.raises(SettingsError) as excinfo:
        make_adapter(table)
    assert problem in str(excinfo.value)
