"""Messages for people, in Japanese and English, and which of the two a reader gets.

The policy (CONTRIBUTING.md, "Messages"): a message is a :class:`Text` — both languages side
by side, defined next to the code that uses it. Machines read stable codes (``error.code``,
``details.codes``); people read the text, in one language chosen like this:

* **API responses** — :func:`request_language`: the request's ``Accept-Language`` when it names
  Japanese or English (the softphone and the built-in CRM pages send their display language),
  else the signed-in agent's language, else ``[softphone] default_language``. Errors raised
  with a :class:`Text` also carry both texts in ``details.message_ja`` / ``details.message_en``,
  so a screen that switches language can choose itself.
* **The ``cti`` command** — ``cti --lang ja|en``, else ``[cli] language``, else Japanese.

``voice/`` cannot import this (it is Flask-free); its errors keep ``message_ja`` and
``message_en`` attributes, which :meth:`Text.of` turns into a :class:`Text`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flask import current_app, g, has_request_context, request

LANGUAGES = ("ja", "en")
DEFAULT_LANGUAGE = "ja"


@dataclass(frozen=True)
class Text:
    """One message in both languages; ``{name}`` fields are filled by :meth:`format`."""

    ja: str
    en: str

    def format(self, **values: Any) -> Text:
        """Fill the fields; a :class:`Text` value fills each language with its own text."""
        return Text(self.ja.format(**_in("ja", values)), self.en.format(**_in("en", values)))

    def get(self, language: str) -> str:
        return self.en if language == "en" else self.ja

    def both(self) -> dict[str, str]:
        """The ``details`` keys a screen chooses from."""
        return {"message_ja": self.ja, "message_en": self.en}

    @classmethod
    def of(cls, source: Any) -> Text:
        """The text of anything with ``message_ja`` and ``message_en`` (``voice`` errors)."""
        return cls(source.message_ja, source.message_en)

    @classmethod
    def join(cls, texts: Iterable[Text], ja_separator: str = "",
             en_separator: str = " ") -> Text:
        items = list(texts)
        return cls(ja_separator.join(t.ja for t in items),
                   en_separator.join(t.en for t in items))


def _in(language: str, values: dict[str, Any]) -> dict[str, Any]:
    return {k: v.get(language) if isinstance(v, Text) else v for k, v in values.items()}


def request_language() -> str:
    """The language of the current request's reader (see the module docstring)."""
    if not has_request_context():
        return DEFAULT_LANGUAGE
    asked = request.accept_languages.best_match(LANGUAGES)
    if asked:
        return asked
    agent = g.get("agent")
    if agent is not None and agent.language in LANGUAGES:
        return agent.language
    settings = current_app.config.get("CTI_SETTINGS")
    return settings.softphone.default_language if settings is not None else DEFAULT_LANGUAGE


def localized(text: Text | str) -> str:
    """``text`` for the current request's reader (plain strings pass through)."""
    return text.get(request_language()) if isinstance(text, Text) else text
