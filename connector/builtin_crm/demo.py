"""Demo customers for a fresh embedded install, so a newcomer has someone to pop at once.

``cti serve`` on embedded defaults calls :func:`create_demo_data`; it only writes when the built-in
CRM has never held a customer, so it is safe to call on every start. The numbers are written in
the mixed ways real spreadsheets hold them. 山田 太郎's mobile, 090-1234-5678, is the caller the
Twilio simulator's examples use (docs/simulator.md).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, insert

from ..schema import customer_call_logs
from . import store
from .model import parse_customer

#: The demo company's own number (the "To" of inbound calls).
OUR_NUMBER = "+815012345678"

DEMO_CUSTOMERS: tuple[dict[str, Any], ...] = (
    {"name": "山田 太郎", "name_kana": "ヤマダ タロウ", "company": "山田商事株式会社",
     "phones": [{"number": "03-1234-5678", "label": "会社"},
                {"number": "090-1234-5678", "label": "携帯"}],
     "tags": ["VIP", "法人"], "notes": "請求書は月末締め。急ぎの用件は携帯へ。"},
    {"name": "佐藤 花子", "name_kana": "さとう はなこ",
     "phones": [{"number": "０８０－２３４５－６７８９", "label": "携帯"}],
     "tags": ["定期購入"], "notes": "定期便は毎月10日発送。"},
    {"name": "鈴木 一郎", "name_kana": "スズキ イチロウ", "company": "鈴木工務店",
     "phones": [{"number": "(06)6123-4567", "label": "会社"}], "tags": ["法人"]},
    {"name": "高橋 美咲", "name_kana": "タカハシ ミサキ", "company": "株式会社タカハシデザイン",
     "phones": [{"number": "+81 45-222-3333", "label": "会社"}], "tags": ["新規"]},
    {"name": "田中 健", "name_kana": "ﾀﾅｶ ｹﾝ", "company": "田中クリニック",
     "phones": [{"number": "052 123 4567", "label": "受付"}], "tags": ["法人", "要折り返し"],
     "notes": "午前中は診療のため、折り返しは13時以降に。"},
    {"name": "伊藤 さくら", "name_kana": "イトウ サクラ",
     "phones": [{"number": "070.3456.7890", "label": "携帯"}]},
    {"name": "渡辺 大輔", "name_kana": "ワタナベ ダイスケ", "company": "渡辺運輸株式会社",
     "phones": [{"number": "0120-123-456", "label": "代表"},
                {"number": "011-234-5678", "label": "札幌営業所"}], "tags": ["法人"]},
    {"name": "中村 由美", "name_kana": "ナカムラ ユミ", "company": "中村法律事務所",
     "phones": [{"number": "092-345-6789", "label": "事務所"}], "tags": ["VIP"]},
    {"name": "小林 翔太", "name_kana": "コバヤシ ショウタ",
     "phones": [{"number": "09098765432", "label": "携帯"}],
     "notes": "配送先の変更について相談あり。"},
    {"name": "加藤 直子", "name_kana": "カトウ ナオコ", "company": "加藤不動産",
     "phones": [{"number": "048-123-4567", "label": "店舗"}], "tags": ["新規"]},
)

# (customer index, direction, status, days ago, talk seconds, disposition, notes)
_DEMO_CALLS: tuple[tuple[int, str, str, int, int, str, str], ...] = (
    (0, "inbound", "completed", 1, 312, "解決", "請求書の再発行を依頼された。本日発送済み。"),
    (0, "outbound", "no-answer", 3, 0, "不在", ""),
    (0, "inbound", "completed", 14, 95, "案内", "新商品のカタログを送付。"),
    (1, "inbound", "completed", 2, 184, "解決", "定期便の数量を2個に変更。"),
    (2, "inbound", "busy", 5, 0, "", ""),
    (4, "outbound", "completed", 1, 240, "折り返し完了", "予約の日程を確認。"),
    (6, "inbound", "completed", 7, 420, "要対応", "配送遅延の問い合わせ。調査して連絡する。"),
)


def create_demo_data(conn: Connection, now: datetime, *,
                     agent: tuple[str, str] = ("agent1", "オペレーター 1")) -> int:
    """Add the demo customers and a few calls to their history, if the CRM never had any.

    Returns:
        How many customers were created (0 when the CRM was not empty).
    """
    if store.count_customers(conn, include_deleted=True):
        return 0
    ids = [store.create_customer(conn, parse_customer(customer), now)
           for customer in DEMO_CUSTOMERS]
    rows = [_call_row(index, call, ids, now, agent) for index, call in enumerate(_DEMO_CALLS)]
    conn.execute(insert(customer_call_logs), rows)
    return len(ids)


def _call_row(index: int, call: tuple[int, str, str, int, int, str, str], ids: list[int],
              now: datetime, agent: tuple[str, str]) -> dict[str, Any]:
    customer, direction, status, days_ago, talk, disposition, notes = call
    number = parse_customer(DEMO_CUSTOMERS[customer]).phones[0].e164
    started = (now - timedelta(days=days_ago)).replace(microsecond=0)
    answered = started + timedelta(seconds=8) if talk else None
    ended = (answered or started) + timedelta(seconds=talk or 25)
    caller, called = (number, OUR_NUMBER) if direction == "inbound" else (OUR_NUMBER, number)
    return {
        "call_sid": f"CA{0xDE40 + index:032x}", "customer_id": ids[customer],
        "direction": direction, "status": status, "from_number": caller, "to_number": called,
        "customer_number": number, "started_at": started, "answered_at": answered,
        "ended_at": ended, "duration_seconds": int((ended - started).total_seconds()),
        "talk_seconds": talk, "agent_username": agent[0], "agent_name": agent[1],
        "disposition": disposition, "notes": notes, "recording_url": "",
        "created_at": now, "updated_at": now,
    }
