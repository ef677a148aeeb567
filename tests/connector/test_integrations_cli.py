"""cti callcenter-xml, GET /callcenter.xml, cti kintone-plugin build, cti user crm-user."""

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from connector.cli import CliContext, cli
from crm_adapters.salesforce import build_callcenter_metadata
from tests.connector.crm_fixtures import add_call, run_jobs, sid
from tests.connector.test_auth import add_agent


def invoke(app, *args):
    context = CliContext(None)
    context._settings = app.config["CTI_SETTINGS"]
    context._app = app
    return CliRunner().invoke(cli, list(args), obj=context, catch_exceptions=False)


def test_callcenter_xml_from_cli_and_http(make_app, tmp_path):
    app = make_app(twilio={"edge": "singapore"})
    printed = invoke(app, "callcenter-xml", "--base-url", "https://cti.acme.co.jp")
    assert printed.exit_code == 0
    root = ET.fromstring(printed.output)
    items = {i.get("name"): i.text for i in root.iter("item")}
    assert items["reqAdapterUrl"] == "https://cti.acme.co.jp/softphone/?crm=salesforce"
    assert items["TwilioEdge"] == "singapore"
    out = tmp_path / "cc.xml"
    assert invoke(app, "callcenter-xml", "--output", str(out)).exit_code == 0
    assert "https://cti.example.com/softphone/" in out.read_text()  # public_base_url
    response = app.test_client().get("/callcenter.xml")
    assert response.status_code == 200 and response.mimetype == "application/xml"
    assert response.get_data(as_text=True) == out.read_text()


def test_callcenter_refused_without_https(make_app):
    app = make_app(server={"public_base_url": "http://127.0.0.1:5000"})
    result = invoke(app, "callcenter-xml")
    assert result.exit_code == 1 and "https" in result.output
    response = app.test_client().get("/callcenter.xml")
    assert response.status_code == 409
    assert "public_base_url" in response.get_json()["error"]["message"]


@pytest.mark.parametrize(("server", "args", "says"), [
    ({"public_base_url": ""}, [], "[server] public_base_url is not set, and its development "
                                  "default 'http://127.0.0.1:5000'"),
    ({"public_base_url": "https://127.0.0.1:8443"}, [], "points at this machine"),
    ({}, ["--base-url", "https://localhost"], "--base-url 'https://localhost' points at"),
    ({}, ["--base-url", "http://cti.acme.co.jp"], "--base-url 'http://cti.acme.co.jp' is not an "
                                                  "https URL"),
])
def test_callcenter_refuses_urls_salesforce_cannot_load(make_app, server, args, says):
    app = make_app(server=server)
    result = invoke(app, "callcenter-xml", *args)
    assert result.exit_code == 1 and result.stdout == ""
    assert says in result.stderr and "or pass --base-url" in result.stderr


def test_callcenter_metadata_for_the_sfdx_package(make_app, tmp_path):
    app = make_app(twilio={"edge": "tokyo"}, crm={"adapters": ["salesforce"], "salesforce": {
        "logging_path": "browser"}})
    out = tmp_path / "CtiConnector.callCenter-meta.xml"
    result = invoke(app, "callcenter-xml", "--metadata", "--output", str(out))
    assert result.exit_code == 0, result.output
    assert out.read_text() == build_callcenter_metadata(
        "https://cti.example.com", custom={"TwilioEdge": "tokyo", "LoggingPath": "browser"})


def test_refused_callcenter_leaves_no_empty_redirect_file(tmp_path):
    cti = Path(sys.executable).with_name("cti")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CTI_")}
    (tmp_path / "kept.xml").write_text("<earlier/>")
    shell = f"'{cti}' callcenter-xml > callcenter.xml; '{cti}' callcenter-xml >> kept.xml"
    done = subprocess.run(["sh", "-c", shell], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=120)
    assert "public_base_url is not set" in done.stderr
    assert "removed the empty" in done.stderr and "callcenter.xml" in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept.xml"]
    assert (tmp_path / "kept.xml").read_text() == "<earlier/>"


def test_kintone_plugin_build_in_one_command(app, tmp_path):
    key, out = tmp_path / "plugin.ppk", tmp_path / "plugin.zip"
    first = invoke(app, "kintone-plugin", "build", "--key", str(key), "--out", str(out))
    assert first.exit_code == 0, first.output
    assert "created signing key" in first.output and key.exists()
    plugin_id = first.output.split("plugin id ")[1].split(",")[0]
    with zipfile.ZipFile(out) as package:
        assert sorted(package.namelist()) == ["PUBKEY", "SIGNATURE", "contents.zip"]
    again = invoke(app, "kintone-plugin", "build", "--key", str(key), "--out", str(out))
    assert f"plugin id {plugin_id}" in again.output  # same key, same plugin


def test_crm_user_mapping_sets_the_log_owner(crm_app, fake_crm, clock):
    agent = add_agent(crm_app, email="sato@example.com")
    add_call(crm_app, sid(1), clock=clock, agent_id=agent.id)
    assert "agent1 is sato.h@acme.example in example" in invoke(
        crm_app, "user", "crm-user", "agent1", "example", "sato.h@acme.example").output
    with crm_app.app_context():
        from connector import writeback

        writeback.call_finished(sid(1))
    run_jobs(crm_app)
    assert fake_crm.logs_for(sid(1))[0]["agent_crm_user"] == "sato.h@acme.example"
    assert "no example user mapped" in invoke(crm_app, "user", "crm-user", "agent1", "example",
                                               "--remove").output
    assert invoke(crm_app, "user", "crm-user", "nobody", "example", "x").exit_code == 1
