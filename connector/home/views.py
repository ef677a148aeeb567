"""The landing page (``GET /``) and the guides (``GET /docs/``, ``/docs/<name>``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, current_app, render_template, request, send_from_directory

from ..errors import APIError
from ..voice.runtime import get_runtime
from . import docs

bp = Blueprint("home", __name__, template_folder="templates", static_folder="static",
               static_url_path="/home-static")

LANGUAGES = ("ja", "en")

#: The landing page's words; Japanese first, the product's default language.
TEXT: dict[str, dict[str, str]] = {
    "ja": {
        "lead": "Twilio のブラウザ電話を Salesforce・kintone・内蔵CRM の中で使うための"
                "バックエンドです。",
        "softphone": "ソフトフォン", "softphone_about": "オペレーターが電話を受け、かけ、"
                     "通話後処理をする画面です。",
        "crm": "内蔵CRM（顧客管理）", "crm_about": "顧客の検索・登録・通話履歴・CSV取り込み。",
        "docs": "ドキュメント", "docs_about": "設定・番号・Salesforce・kintone・シミュレーターの"
                "手引き（英語）。",
        "health": "稼働状況", "health_about": "データベースと Redis の状態（JSON、監視用）。",
        "simulated": "模擬モード",
        "simulated_about": "Twilio アカウントなしで動いています。"
                           "ソフトフォンに agent1 でサインインし"
                           "「模擬着信を発生」を押してください"
                           "（パスワードは make run の表示と var/demo-credentials.txt）。",
        "guides": "ガイド一覧", "other_language": "English", "home": "トップ",
        "skip": "本文へ移動", "menu": "メニュー",
    },
    "en": {
        "lead": "The backend that puts a Twilio browser softphone inside Salesforce, kintone and "
                "a built-in CRM.",
        "softphone": "Softphone", "softphone_about": "Where agents take and place calls and "
                     "finish them with a result and notes.",
        "crm": "Built-in CRM", "crm_about": "Find and register customers, call history, "
                "CSV import.",
        "docs": "Documentation", "docs_about": "Guides: configuration, numbers, Salesforce, "
                "kintone, the simulator.",
        "health": "Health", "health_about": "Database and Redis status (JSON, for monitoring).",
        "simulated": "Simulated mode",
        "simulated_about": "Running without a Twilio account. Sign in to the softphone as "
                           "agent1 and press 模擬着信を発生 (the password is printed by make run "
                           "and kept in var/demo-credentials.txt).",
        "guides": "Guides", "other_language": "日本語", "home": "Home",
        "skip": "Skip to content", "menu": "Menu",
    },
}


@bp.record_once
def _register(state: Any) -> None:
    state.app.extensions.setdefault("cti.docs_dir", docs.docs_dir())


def _lang() -> str:
    lang = request.args.get("lang", "ja")
    return lang if lang in LANGUAGES else "ja"


def _docs_root() -> Path:
    root: Path = current_app.extensions["cti.docs_dir"]
    if not root.is_dir():
        raise APIError(404, "docs_not_installed",
                       f"The guides are not installed here: {root} does not exist.")
    return root


def _page(template: str, **context: Any) -> Any:
    lang = _lang()
    html = render_template(template, lang=lang, t=TEXT[lang],
                           other_lang="en" if lang == "ja" else "ja", **context)
    return html, 200, {"Cache-Control": "no-cache"}


@bp.get("/")
def index() -> Any:
    return _page("home/index.html", simulated=get_runtime().mode == "simulator")


@bp.get("/docs/")
def docs_index() -> Any:
    return _page("home/docs_index.html", guides=docs.guides(_docs_root()))


@bp.get("/docs/<name>")
def guide(name: str) -> Any:
    root = _docs_root()
    path = docs.guide_path(root, name.removesuffix(".md"))
    if path is None:
        raise APIError(404, "not_found", f"There is no guide named {name!r}.")
    title, html = docs.render(path.read_text(encoding="utf-8"))
    return _page("home/guide.html", title=title or name, body=html, guides=docs.guides(root),
                 current=path.stem)


@bp.get("/docs/images/<path:filename>")
def guide_image(filename: str) -> Any:
    return send_from_directory(_docs_root() / "images", filename, max_age=3600)
