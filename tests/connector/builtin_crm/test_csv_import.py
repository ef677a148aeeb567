"""CSV import of customers: mapping, encodings, per-row errors, duplicates, dry runs."""

from __future__ import annotations

import codecs
import io

import pytest

from connector import clock, db
from connector.builtin_crm import store
from connector.builtin_crm.csv_import import (
    ImportReport,
    MappingError,
    import_customers,
    parse_mapping,
)

MAPPING = ["name=氏名", "phone=電話番号", "phone=携帯", "company=会社名", "tags=タグ"]
HEADER = "氏名,会社名,電話番号,携帯,タグ\n"


def run(app, text: str | bytes, mapping=MAPPING, **options) -> ImportReport:
    data = text if isinstance(text, bytes) else codecs.BOM_UTF8 + text.encode("utf-8")
    with db.get_engine(app).begin() as conn:
        return import_customers(conn, data, mapping, now=clock.now(app), **options)


def customers(app, query=""):
    with db.get_engine(app).connect() as conn:
        return store.search(conn, query, limit=200)[0]


def problems(report: ImportReport, kind="errors"):
    return [(p.row, p.column, p.code) for p in getattr(report, kind)]


def test_mapping_from_the_brief(app):
    report = run(app, HEADER + "山田 太郎,山田商事,03-1234-5678,090-1111-2222,\"VIP、法人\"\n"
                                "佐藤 花子,,０８０－２３４５－６７８９,,\n")
    assert report.ok and (report.rows, report.imported) == (2, 2)
    assert report.encoding == "utf-8 (BOM)"
    assert report.mapping == {"name": ["氏名"], "phone": ["電話番号", "携帯"],
                              "company": ["会社名"], "tags": ["タグ"]}
    (yamada,) = customers(app, "山田")
    assert yamada["company"] == "山田商事" and yamada["tags"] == ["VIP", "法人"]
    assert [(p["label"], p["e164"]) for p in yamada["phones"]] == [
        ("電話番号", "+81312345678"), ("携帯", "+819011112222")]
    assert list(report.customer_ids) == [yamada["id"], customers(app, "佐藤")[0]["id"]]


def test_shift_jis_with_columns_recognised_by_header(app):
    text = ("お名前,フリガナ,会社名,TEL,携帯電話,備考,メモ\r\n"
            "髙橋 ①郎,たかはし,髙橋工業,06-6123-4567,,初回,要折返\r\n")
    report = run(app, text.encode("cp932"), mapping=[])
    assert report.ok, report.errors
    assert report.encoding == "cp932"
    assert report.mapping == {"name": ["お名前"], "name_kana": ["フリガナ"],
                              "company": ["会社名"], "phone": ["TEL", "携帯電話"],
                              "notes": ["備考", "メモ"]}
    (customer,) = customers(app)
    assert (customer["name"], customer["name_kana"], customer["notes"]) == (
        "髙橋 ①郎", "タカハシ", "初回\n要折返")


def test_bad_rows_are_reported_and_skipped_alone(app):
    report = run(app, HEADER + "山田 太郎,,03-1234-5678,,\n"
                               ",名無し商事,06-6123-4567,,\n"
                               "鈴木 一郎,,312345678,abc,\n"
                               "\n"
                               "佐藤 花子,,,080-2345-6789,\n")
    assert problems(report) == [(3, "氏名", "required"), (4, "電話番号", "missing_leading_zero"),
                                (4, "携帯", "invalid_characters")]
    assert (report.rows, report.imported) == (4, 2)
    assert sorted(c["name"] for c in customers(app)) == ["佐藤 花子", "山田 太郎"]
    error = report.errors[1]
    assert error.value == "312345678"
    assert error.describe().startswith("4行目「電話番号」: 先頭の0が抜けているようです")


def test_duplicate_numbers_in_the_file_are_not_merged(app):
    text = HEADER + ("山田 太郎,,03-1234-5678,,\n"
                     "山田 花子,,,０３１２３４５６７８,\n"
                     "山田 一郎,,090-1111-2222,090-1111-2222,\n")  # twice in one row is fine
    report = run(app, text)
    assert problems(report) == [(3, "携帯", "duplicate_in_file")]
    assert report.errors[0].message.ja == "2行目と同じ電話番号です。"
    assert report.errors[0].describe("en") == (
        'Row 3, column "携帯": The same phone number as row 2. (value: ０３１２３４５６７８)')
    assert sorted(c["name"] for c in customers(app)) == ["山田 一郎", "山田 太郎"]


def test_duplicates_may_be_allowed_and_are_then_warned_about(app):
    text = HEADER + "山田 太郎,,03-1234-5678,,\n山田 花子,,0312345678,,\n"
    report = run(app, text, allow_duplicates=True)
    assert report.ok and report.imported == 2
    assert problems(report, "warnings") == [(3, "電話番号", "duplicate_in_file")]


def test_numbers_of_existing_customers_are_reported_with_who_has_them(app):
    first = run(app, HEADER + "山田 太郎,,03-1234-5678,,\n")
    (existing_id,) = first.customer_ids
    report = run(app, HEADER + "山田 花子,,+81 3-1234-5678,,\n鈴木 一郎,,06-6123-4567,,\n")
    assert problems(report) == [(2, "電話番号", "duplicate_existing")]
    assert report.errors[0].message.ja == (
        f"既存の顧客 「山田 太郎」(ID {existing_id}) と同じ電話番号です。")
    assert report.imported == 1


def test_dry_run_checks_everything_and_writes_nothing(app):
    run(app, HEADER + "山田 太郎,,03-1234-5678,,\n")
    report = run(app, HEADER + "山田 花子,,03-1234-5678,,\n鈴木 一郎,,06-6123-4567,,\n",
                 dry_run=True)
    assert report.dry_run and report.imported == 1 and report.customer_ids == ()
    assert problems(report) == [(2, "電話番号", "duplicate_existing")]
    assert [c["name"] for c in customers(app)] == ["山田 太郎"]


def test_excel_text_cells_and_tabs_and_multiline_notes(app):
    text = ('氏名\t電話番号\t備考\n'
            '山田 太郎\t="0312345678"\t"一行目\n二行目"\n'
            '鈴木 一郎\t06-6123-4567\t\n')
    report = run(app, text, mapping=["name=氏名", "phone=電話番号", "notes=備考"])
    assert report.ok and report.imported == 2
    yamada = customers(app, "山田")[0]
    assert yamada["phones"][0]["e164"] == "+81312345678"
    assert yamada["notes"] == "一行目\n二行目"


def test_broken_quotes_lose_only_the_broken_rows(app):
    text = HEADER + ('山田 太郎,,03-1234-5678,,\n'
                     '"鈴木" 一郎,,06-6123-4567,,\n'
                     '佐藤 花子,,080-2345-6789,,\n'
                     '"田中 健,,052-123-4567,,\n'
                     '伊藤 さくら,,070-3456-7890,,\n')
    report = run(app, text)
    assert problems(report) == [(3, "", "csv_syntax"), (5, "", "csv_syntax")]
    assert "最後まで" in report.errors[1].message.ja
    assert sorted(c["name"] for c in customers(app)) == ["佐藤 花子", "山田 太郎"]


@pytest.mark.parametrize(("data", "code"), [
    (b"\x82\xff\x82\xff", "encoding"),
    (b"", "empty"),
    ("会社名,電話番号\n山田商事,03-1234-5678\n".encode(), "mapping"),
])
def test_whole_file_problems(app, data, code):
    report = run(app, data, mapping=[])
    assert [(p.row, p.code) for p in report.errors] == [(0, code)]
    assert report.imported == 0 and customers(app) == []


def test_mapping_naming_a_missing_column_lists_the_columns(app):
    report = run(app, HEADER + "山田 太郎,,03-1234-5678,,\n", mapping=["name=氏名", "phone=FAX"])
    (problem,) = report.errors
    assert problem.code == "mapping"
    assert "「FAX」という列がありません" in problem.message.ja and "電話番号" in problem.message.ja
    assert 'the header row has no column "FAX"' in problem.message.en


def test_mapping_matches_headers_loosely(app):
    text = "氏　名,電話 番号\n山田 太郎,03-1234-5678\n"  # full-width and half-width spaces
    report = run(app, text, mapping=["name=氏名", "phone=電話番号"])
    assert report.ok and report.imported == 1


@pytest.mark.parametrize(("specs", "message"), [
    (["name"], "write field=column"),
    (["colour=色"], "unknown field 'colour'"),
    (["name=氏名", "name=名前"], "name can take only one column"),
])
def test_bad_mapping_specs(specs, message):
    with pytest.raises(MappingError, match=message):
        parse_mapping(specs)


def test_mapping_aliases():
    assert parse_mapping(["kana=カナ", "tel=電話", "tel=携帯", "memo=メモ"]) == {
        "name_kana": ["カナ"], "phone": ["電話", "携帯"], "notes": ["メモ"]}


def test_report_as_json_names_rows_and_skips(app):
    report = run(app, HEADER + "山田 太郎,,03-1234-5678,,\n,,,,x\n")
    data = report.to_dict()
    assert data["skipped"] == 1 and data["imported"] == 1
    assert data["errors"][0]["text"] == "3行目「氏名」: 氏名を入力してください。"


# -- the upload API ----------------------------------------------------------------------------

def _upload(api, text, **form):
    data = {"file": (io.BytesIO(codecs.BOM_UTF8 + text.encode()), "customers.csv"), **form}
    return api.post("/api/crm/import", data=data, content_type="multipart/form-data")


def test_admin_uploads_with_mapping_and_dry_run(admin_api, crm_app):
    text = HEADER + "山田 太郎,,03-1234-5678,,\n鈴木 一郎,,0312345678,,\n"
    dry = _upload(admin_api, text, map=MAPPING, dry_run="true")
    assert dry.status_code == 200
    body = dry.get_json()
    assert (body["dry_run"], body["imported"], body["skipped"]) == (True, 1, 1)
    assert body["errors"][0]["code"] == "duplicate_in_file"
    assert customers(crm_app) == []
    real = _upload(admin_api, text, map=MAPPING, allow_duplicates="true").get_json()
    assert real["imported"] == 2 and len(real["warnings"]) == 1
    assert len(customers(crm_app)) == 2


def test_upload_needs_an_admin(supervisor_api):
    assert _upload(supervisor_api, HEADER).status_code == 403


@pytest.mark.parametrize(("form", "field"), [
    ({"map": ["colour=色"]}, "map"),
    ({"dry_run": "maybe"}, "dry_run"),
])
def test_upload_names_bad_form_fields(admin_api, form, field):
    response = _upload(admin_api, HEADER, **form)
    assert response.status_code == 422
    assert list(response.get_json()["error"]["details"]["fields"]) == [field]


def test_upload_without_file(admin_api):
    response = admin_api.post("/api/crm/import", data={"dry_run": "true"},
                              content_type="multipart/form-data")
    assert response.status_code == 422
    assert list(response.get_json()["error"]["details"]["fields"]) == ["file"]
