"""The Salesforce bridge's pure functions, run in Node (the browser tests drive the rest).

One Node process imports ``static/softphone/js/bridges/salesforce.js`` as an ES module, runs
every case and prints the results as JSON; the assertions are here.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

BRIDGE = (Path(__file__).resolve().parents[2] / "static" / "softphone" / "js" / "bridges"
          / "salesforce.js")

SCRIPT = """
const bridge = await import(process.argv[1]);
const cases = JSON.parse(process.argv[2]);
const out = {};
const t = (key) => ({ 'status.offline': 'オフライン' })[key] || key;
for (const [name, [fn, ...args]] of Object.entries(cases)) {
  if (fn === 'orgOrigin') {
    const [allowed, search, referrer, framed] = args;
    const win = { location: { search }, document: { referrer } };
    win.parent = framed ? {} : win;
    out[name] = bridge.orgOrigin(allowed, win);
  } else if (fn === 'taskFor') {
    out[name] = bridge.taskFor(args[0], new Date(2026, 10, 20, 23, 59));
  } else if (fn === 'itemLabel') {
    out[name] = bridge.itemLabel(args[0], t);
  } else {
    out[name] = bridge[fn](...args);
  }
}
console.log(JSON.stringify(out));
"""

LOG = {"callSid": "CA" + "1" * 32, "direction": "inbound", "number": "090-1234-5678",
       "e164": "+819012345678", "name": "山田 太郎", "durationSeconds": 94.6,
       "disposition": "対応完了", "notes": "メモ", "customer": None}
ACME = ["https://acme.lightning.force.com"]
CASES: dict[str, list[Any]] = {
    "task_contact": ["taskFor", {**LOG, "customer": {"adapter": "salesforce",
                                                     "id": "003000000000001AAA"}}],
    "task_lead": ["taskFor", {**LOG, "customer": {"adapter": "salesforce",
                                                  "id": "00Q000000000001AAA"}}],
    "task_account": ["taskFor", {**LOG, "direction": "outbound", "name": "",
                                 "customer": {"adapter": "salesforce",
                                              "id": "001000000000001AAA"}}],
    "task_other_crm": ["taskFor", {**LOG, "customer": {"adapter": "builtin", "id": "7"}}],
    "task_withheld": ["taskFor", {**LOG, "name": "", "number": "", "e164": ""}],
    "search_japan": ["searchNumber", {"e164": "+81312345678", "number": "03-1234-5678"}],
    "search_abroad": ["searchNumber", {"e164": "+12125550100", "number": "+1 212-555-0100"}],
    "search_display_only": ["searchNumber", {"e164": "", "number": "090-1234-5678"}],
    "label_idle": ["itemLabel", {"registration": "registered", "statusLabel": "待機",
                                 "phase": "idle", "name": "", "number": ""}],
    "label_ringing": ["itemLabel", {"registration": "registered", "statusLabel": "着信中",
                                    "phase": "ringing", "name": "", "number": "03-1234-5678"}],
    "label_offline": ["itemLabel", {"registration": "error", "statusLabel": "待機",
                                    "phase": "idle", "name": "", "number": ""}],
    "icon_acw": ["itemIcon", {"registration": "registered", "phase": "acw"}],
    "icon_offline": ["itemIcon", {"registration": "unregistered", "phase": "idle"}],
    "origin_param": ["orgOrigin", ACME, "?crm=salesforce&sfdcIFrameOrigin="
                     "https://acme.lightning.force.com", "", True],
    "origin_referrer": ["orgOrigin", ACME, "?crm=salesforce",
                        "https://acme.lightning.force.com/lightning/page/home", True],
    "origin_bad_param_good_referrer": ["orgOrigin", ACME, "?sfdcIFrameOrigin=https://evil.example",
                                       "https://acme.lightning.force.com/", True],
    "origin_other_org": ["orgOrigin", ACME, "?sfdcIFrameOrigin=https://x.lightning.force.com",
                         "", True],
    "origin_not_salesforce": ["orgOrigin", ["https://acme.cybozu.com"], "",
                              "https://acme.cybozu.com/k/1/", True],
    "origin_not_framed": ["orgOrigin", ACME, "?sfdcIFrameOrigin=https://acme.lightning.force.com",
                          "", False],
}

FIELD = "CTI_CallSid__c"
READ_ONLY = (f"INVALID_FIELD_FOR_INSERT_UPDATE: Unable to create/update fields: {FIELD}. Please "
             "check the security settings of this field and verify that it is read/write for "
             "your profile or permission set.")
MISSING = f"INVALID_FIELD: No such column '{FIELD}' on sobject of type Task"
DUPLICATE = (f"DUPLICATE_VALUE: duplicate value found: {FIELD} duplicates value on record with "
             "id: 00T000000000001AAA")
#: The same Salesforce error in the shapes Open CTI may hand it on (which one is UNVERIFIED):
#: a string, {code, description}, {code, description, details: API error}, UI API fieldErrors.
SHAPES = {
    "string": lambda text: text,
    "description": lambda text: {"code": "SERVER_ERROR", "description": text},
    "details": lambda text: {"code": "GENERIC_ERROR", "description": "error",
                             "details": {"errorCode": text.split(":")[0],
                                         "message": text.split(": ", 1)[1], "fields": [FIELD]}},
    "field_errors": lambda text: {"code": "SERVER_ERROR", "description": "error", "details": {
        "output": {"fieldErrors": {FIELD: [{"errorCode": text.split(":")[0], "field": FIELD,
                                            "message": text.split(": ", 1)[1]}]}}}},
}
for shape, build in SHAPES.items():
    for kind, text in (("read_only", READ_ONLY), ("missing", MISSING),
                       ("duplicate", DUPLICATE)):
        CASES[f"problem_{kind}_{shape}"] = ["callSidProblem", [build(text)]]
CASES |= {
    "problem_other_field": ["callSidProblem", [
        "INVALID_FIELD: No such column 'Foo__c' on sobject of type Task"]],
    "problem_picklist": ["callSidProblem", [{"code": "SERVER_ERROR", "description":
        "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST: bad value for restricted picklist field: "
        "Completed"}]],
    "problem_none": ["callSidProblem", None],
    "problem_second_error": ["callSidProblem", ["REQUIRED_FIELD_MISSING: Subject", READ_ONLY]],
}


@pytest.fixture(scope="module")
def results() -> dict[str, Any]:
    node = shutil.which("node")
    if node is None:
        if os.environ.get("CI") == "true":
            pytest.fail("node is not installed")
        pytest.skip("node is not installed")
    done = subprocess.run([node, "--input-type=module", "-e", SCRIPT, BRIDGE.as_uri(),
                           json.dumps(CASES)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_task_fields_follow_the_server_defaults(results):
    task = results["task_contact"]
    assert task == {
        "entityApiName": "Task", "Subject": "着信 山田 太郎", "Status": "Completed",
        "TaskSubtype": "Call", "CallType": "Inbound", "CallDurationInSeconds": 95,
        "CallObject": LOG["callSid"], "CTI_CallSid__c": LOG["callSid"],
        "CallDisposition": "対応完了", "Description": "メモ", "ActivityDate": "2026-11-20",
        "WhoId": "003000000000001AAA"}


def test_contacts_and_leads_are_who_anything_else_is_what(results):
    assert results["task_lead"]["WhoId"] == "00Q000000000001AAA"
    account = results["task_account"]
    assert account["WhatId"] == "001000000000001AAA" and "WhoId" not in account
    assert (account["CallType"], account["Subject"]) == ("Outbound", "発信 090-1234-5678")
    assert "WhoId" not in results["task_other_crm"] and "WhatId" not in results["task_other_crm"]
    assert results["task_withheld"]["Subject"] == "着信 非通知"


def test_search_uses_national_digits(results):
    assert results["search_japan"] == "0312345678"
    assert results["search_abroad"] == "12125550100"
    assert results["search_display_only"] == "09012345678"


def test_utility_item_label_and_icon(results):
    assert results["label_idle"] == "待機"
    assert results["label_ringing"] == "着信中 03-1234-5678"
    assert results["label_offline"] == "オフライン"
    assert results["icon_acw"] == "edit" and results["icon_offline"] == "end_call"


def test_org_origin_follows_the_servers_rule(results):
    assert results["origin_param"] == "https://acme.lightning.force.com"
    assert results["origin_referrer"] == "https://acme.lightning.force.com"
    assert results["origin_bad_param_good_referrer"] == "https://acme.lightning.force.com"
    assert results["origin_other_org"] is None
    assert results["origin_not_salesforce"] is None
    assert results["origin_not_framed"] is None


@pytest.mark.parametrize("shape", SHAPES)
def test_callsid_problems_are_told_apart_in_every_error_shape(results, shape):
    """Only "no such field" lets the browser save without the CallSid: a read-only field
    (INVALID_FIELD_FOR_INSERT_UPDATE, which begins with INVALID_FIELD) must not."""
    assert results[f"problem_read_only_{shape}"] == "read_only"
    assert results[f"problem_missing_{shape}"] == "missing"
    assert results[f"problem_duplicate_{shape}"] == "duplicate"


def test_other_errors_are_no_callsid_problem(results):
    assert results["problem_other_field"] == ""
    assert results["problem_picklist"] == ""
    assert results["problem_none"] == ""
    assert results["problem_second_error"] == "read_only"
