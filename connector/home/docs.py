"""The guides of ``docs/`` as HTML pages: found, listed and rendered (markdown-it-py).

Rendering is CommonMark with tables and no raw HTML, so a guide can never inject markup. Links
are rewritten for the app: ``voice.md#x`` → ``/docs/voice#x``, ``images/a.png`` →
``/docs/images/a.png``; links to other files of the source tree (``../README.md``,
``../config/cti.example.toml``) cannot be served and are shown as plain text with the path.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml

from .. import assets

#: A guide's name: the file name without ``.md`` (``voice``, ``builtin-crm``).
PAGE_NAME = re.compile(r"[a-z0-9][a-z0-9-]*")
_H1 = re.compile(r"^# (.+)$", re.MULTILINE)
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)


def docs_dir() -> Path:
    """Where the guides are: the checkout's ``docs/``, or the installed wheel's copy."""
    return assets.directory(assets.DOCS)


@dataclass(frozen=True)
class Guide:
    name: str
    title: str


def guides(root: Path) -> list[Guide]:
    """The guides in ``root``, by name; the title is the file's first ``# heading``."""
    found = []
    for path in sorted(root.glob("*.md")):
        if PAGE_NAME.fullmatch(path.stem):
            match = _H1.search(path.read_text(encoding="utf-8"))
            found.append(Guide(path.stem, match.group(1).strip() if match else path.stem))
    return found


def guide_path(root: Path, name: str) -> Path | None:
    """The file of the guide ``name``, or ``None`` when there is no such guide."""
    if not PAGE_NAME.fullmatch(name):
        return None
    path = root / f"{name}.md"
    return path if path.is_file() else None


def render(text: str, *, prefix: str = "/docs") -> tuple[str, str]:
    """``(title, html)`` of one guide; links rewritten as the module docstring says."""
    md = MarkdownIt("commonmark", {"html": False}).enable("table")
    md.add_render_rule("link_open", _link_open)
    md.add_render_rule("link_close", _link_close)
    md.add_render_rule("image", _image)
    md.add_render_rule("heading_open", _heading_open)
    env: dict[str, Any] = {"prefix": prefix, "links": []}
    html = md.render(text, env)
    match = _H1.search(text)
    return (match.group(1).strip() if match else ""), html


def app_href(href: str, prefix: str) -> str | None:
    """Where a guide's link goes in the app: unchanged for absolute URLs and anchors, the
    rewritten URL for another guide or an image, ``None`` for a file the app does not serve."""
    if not href or href.startswith(("#", "/")) or _SCHEME.match(href):
        return href
    path, sep, anchor = href.partition("#")
    if path.endswith(".md") and "/" not in path and PAGE_NAME.fullmatch(path[:-3]):
        return f"{prefix}/{path[:-3]}" + (sep + anchor)
    if path.startswith("images/") and ".." not in path:
        return f"{prefix}/{path}"
    return None


def _link_open(self: Any, tokens: list[Any], idx: int, options: Any, env: dict[str, Any]) -> str:
    token = tokens[idx]
    href = app_href(str(token.attrGet("href") or ""), env["prefix"])
    env["links"].append(href is not None)
    if href is None:
        return f'<span class="source-path" title="{escapeHtml(str(token.attrGet("href")))}">'
    token.attrSet("href", href)
    return self.renderToken(tokens, idx, options, env)


def _link_close(self: Any, tokens: list[Any], idx: int, options: Any, env: dict[str, Any]) -> str:
    served = env["links"].pop() if env["links"] else True
    return self.renderToken(tokens, idx, options, env) if served else "</span>"


def _image(self: Any, tokens: list[Any], idx: int, options: Any, env: dict[str, Any]) -> str:
    token = tokens[idx]
    href = app_href(str(token.attrGet("src") or ""), env["prefix"])
    if href:
        token.attrSet("src", href)
    return self.image(tokens, idx, options, env)


def _heading_open(self: Any, tokens: list[Any], idx: int, options: Any,
                  env: dict[str, Any]) -> str:
    """Headings get ids (``## Speed`` → ``id="speed"``), so a guide's sections can be linked."""
    inline = tokens[idx + 1]
    slug = re.sub(r"[^\w\- ]", "", inline.content).strip().lower().replace(" ", "-")
    if slug:
        tokens[idx].attrSet("id", slug)
    return self.renderToken(tokens, idx, options, env)

