"""The built-in CRM (SPEC CR-1): customer pages, their JSON API, CSV import and demo data.

The adapter that the CRM layer uses to look customers up and write call logs is
``crm_adapters.builtin``; this package is what people use to see and edit the customers:

* ``/crm/...`` — pages (:mod:`.pages`), the customer page being the screen-pop target;
* ``/api/crm/...`` — the JSON API (:mod:`.api`);
* :mod:`.csv_import` — CSV import (API and ``cti crm import``);
* :mod:`.demo` — the demo customers ``cti serve`` creates on a fresh embedded install.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from . import api, pages

    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
