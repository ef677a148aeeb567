"""Demo customers and the ``cti crm`` commands."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from connector import clock, db
from connector.builtin_crm import demo, store
from connector.cli import cli
from connector.schema import customer_call_logs
from crm_adapters.base import AdapterEnvironment
from crm_adapters.builtin import BuiltinCRMAdapter, BuiltinSettings
from crm_adapters.http import TimeoutSession


def _create(app) -> int:
    with db.get_engine(app).begin() as conn:
        return demo.create_demo_data(conn, clock.now(app))


def test_demo_data_is_created_once(any_db_app):
    assert _create(any_db_app) == len(demo.DEMO_CUSTOMERS) == 10
    assert _create(any_db_app) == 0
    with db.get_engine(any_db_app).connect() as conn:
        assert store.count_customers(conn) == 10
        calls = conn.execute(select(func.count()).select_from(customer_call_logs)).scalar_one()
    assert calls == 7


def test_demo_data_is_not_added_after_all_customers_were_deleted(app):
    _create(app)
    with db.get_engine(app).begin() as conn:
        for customer in store.search(conn, limit=200)[0]:
            store.delete_customer(conn, customer["id"], clock.now(app))
    assert _create(app) == 0


def test_demo_caller_of_the_simulator_examples_pops_yamada(app):
    """docs/simulator.md places its example calls from +819012345678."""
    _create(app)
    url = db.get_engine(app).url.render_as_string(hide_password=False)
    adapter = BuiltinCRMAdapter(BuiltinSettings(), http=TimeoutSession(),
                                env=AdapterEnvironment(database_url=url))
    (found,) = adapter.lookup_by_phone("+819012345678")
    adapter.close()
    assert found.display_name == "山田 太郎"
    with db.get_engine(app).connect() as conn:
        calls, total = store.history(conn, int(found.record_id))
    assert total == 3 and calls[0]["disposition"] == "解決"
    assert calls[0]["started_at"] > calls[1]["started_at"]


def test_demo_numbers_are_written_in_mixed_formats():
    typed = [p["number"] for c in demo.DEMO_CUSTOMERS for p in c["phones"]]
    assert any("－" in n for n in typed) and any(n.startswith("+81") for n in typed)
    assert any("(" in n for n in typed) and any(n.isdigit() for n in typed)


# -- cti crm -----------------------------------------------------------------------------------

@pytest.fixture
def run(tmp_path, sqlite_url, monkeypatch):
    config = tmp_path / "cti.toml"
    config.write_text(f"""
[server]
data_dir = "{tmp_path / 'var'}"
secret_key = "{'s' * 40}"

[storage]
database_url = "{sqlite_url}"

[queue]
redis_url = "redis://127.0.0.1:6379/15"
""", encoding="utf-8")
    runner = CliRunner()

    def invoke(*args):
        return runner.invoke(cli, ["--config", str(config), *args], catch_exceptions=False)

    return invoke


def test_import_command_reports_rows_and_exits_1_on_skips(run, tmp_path):
    path = tmp_path / "顧客.csv"
    path.write_bytes("氏名,会社名,電話番号,携帯,タグ\r\n山田 太郎,山田商事,03-1234-5678,,VIP\r\n"
                     "鈴木 一郎,,0312345678,,\r\n".encode("cp932"))
    args = ["crm", "import", str(path), "--map", "name=氏名", "--map", "phone=電話番号",
            "--map", "phone=携帯", "--map", "company=会社名", "--map", "tags=タグ"]
    dry = run(*args, "--dry-run")
    assert dry.exit_code == 1
    assert dry.output.splitlines() == [
        "顧客.csv: 2行中 1件を取り込み可能、1件をスキップ（文字コード cp932）",
        "列の対応: name=氏名, phone=電話番号, phone=携帯, company=会社名, tags=タグ",
        "スキップした行:",
        "  3行目「電話番号」: 2行目と同じ電話番号です。 (値: 0312345678)",
        "確認のみ（--dry-run）: 何も書き込んでいません",
    ]
    english = run("--lang", "en", *args, "--dry-run")
    assert english.output.splitlines() == [
        "顧客.csv: 2 rows, 1 would be imported, 1 skipped (encoding cp932)",
        "columns: name=氏名, phone=電話番号, phone=携帯, company=会社名, tags=タグ",
        "skipped:",
        '  Row 3, column "電話番号": The same phone number as row 2. (value: 0312345678)',
        "dry run: nothing was written",
    ]
    assert "山田" not in run("crm", "list").output
    done = run(*args, "--allow-duplicates", "--json")
    assert done.exit_code == 0
    report = json.loads(done.output)
    assert report["imported"] == 2 and report["warnings"][0]["code"] == "duplicate_in_file"
    assert report["warnings"][0]["message"] == "2行目と同じ電話番号です。"
    assert report["warnings"][0]["message_en"] == "The same phone number as row 2."


def test_import_command_refuses_a_bad_map(run, tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("氏名\n山田\n", encoding="utf-8")
    result = run("crm", "import", str(path), "--map", "colour=色")
    assert result.exit_code == 2
    assert "項目 'colour' はありません" in result.output
    english = run("--lang", "en", "crm", "import", str(path), "--map", "colour=色")
    assert "unknown field 'colour'" in english.output


def test_list_and_demo_commands(run):
    assert run("crm", "demo").output.strip() == "デモ用の顧客を10件作成しました"
    assert "already has customers" in run("--lang", "en", "crm", "demo").output
    listed = run("crm", "list", "山田").output.splitlines()
    assert listed[0].split() == ["ID", "氏名", "会社名", "電話番号"]
    assert listed[1].split()[1:] == ["山田", "太郎", "山田商事株式会社", "03-1234-5678,",
                                     "090-1234-5678"]
    as_json = json.loads(run("crm", "list", "--tag", "法人", "--json").output)
    assert as_json["total"] == 4
    assert "(2 of 10 shown" in run("--lang", "en", "crm", "list", "--limit", "2").output
