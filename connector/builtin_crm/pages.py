"""``/crm``: the built-in CRM's pages — the customer page is the screen-pop target.

The pages are shells without any customer data: the softphone keeps its bearer token in
``sessionStorage`` (cookies are blocked in third-party iframes), so the page's script reads the
token — copied into a window the softphone opens — and fetches ``/api/crm``. Without a token the
page asks its opener for one, then falls back to a sign-in form. No inline scripts or styles, so
the strict CSP of ``connector/security.py`` applies unchanged.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for

from voice.numbering import NumberError, normalize

from . import store
from .model import MAX_NUMBER

bp = Blueprint("builtin_crm", __name__, url_prefix="/crm", template_folder="templates",
               static_folder="static", static_url_path="/static")


def _page(template: str, page: str, customer_id: int | None = None,
          call_sid: str = "", **extra: Any) -> Any:
    response = render_template(f"crm/{template}", page=page, customer_id=customer_id,
                               call_sid=call_sid, **extra)
    return response, 200, {"Cache-Control": "no-cache"}


@bp.get("/")
def index() -> Any:
    return redirect(url_for(".customer_list"))


@bp.get("/customers")
def customer_list() -> Any:
    return _page("list.html", "list")


@bp.get("/customers/new")
def new_customer() -> Any:
    """The empty form; ``?phone=`` (the softphone's unknown caller) fills in the first number."""
    phone, problem = prefilled_phone(request.args.get("phone", ""))
    return _page("form.html", "form", prefill_phone=phone, phone_problem=problem)


def prefilled_phone(raw: str) -> tuple[str, str]:
    """The number for the form, shown as people write it, and why it cannot be stored ("" if
    it can). A bad number is kept as it was given, so the agent can correct it."""
    raw = raw.strip()[:MAX_NUMBER]
    if not raw:
        return "", ""
    try:
        return store.display(normalize(raw)), ""
    except NumberError as error:
        return raw, f"着信番号「{raw}」はこのままでは登録できません: {error.message_ja}"


@bp.get("/customers/<int:customer_id>")
def customer(customer_id: int) -> Any:
    return _page("customer.html", "customer", customer_id)


@bp.get("/customers/<int:customer_id>/edit")
def edit_customer(customer_id: int) -> Any:
    return _page("form.html", "form", customer_id)


@bp.get("/import")
def import_page() -> Any:
    return _page("import.html", "import")


@bp.get("/recordings/<call_sid>")
def recording(call_sid: str) -> Any:
    """The link CRM call logs carry: plays a call's recording after the agent signs in
    (SPEC CF-10: playable only by authorised users, never through Twilio's media URL)."""
    return _page("recording.html", "recording", call_sid=call_sid)
