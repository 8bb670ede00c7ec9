"""The chat's and desk's static files (HTML, CSS, JS), read once from the package and served from memory."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from adapters.web.security import protect

STATIC_DIR = Path(__file__).with_name("static")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*\.(css|js|html|svg)$")
_TYPES = {
    "css": "text/css",
    "js": "text/javascript",
    "html": "text/html",
    "svg": "image/svg+xml",
}


@dataclass(frozen=True, slots=True)
class StaticFiles:
    """File name → bytes; only plain names from the package's ``static`` folder, nothing else."""

    files: dict[str, bytes]

    @classmethod
    def load(cls, folder: Path = STATIC_DIR) -> StaticFiles:
        """Read every servable file in ``folder``."""
        return cls({p.name: p.read_bytes() for p in sorted(folder.iterdir()) if _NAME.match(p.name)})

    def response(self, name: str, *, frameable: bool = False, cache: bool = True) -> web.Response:
        """The file as an HTTP response with its type and our security headers; 404 if unknown."""
        match = _NAME.match(name)
        if match is None or name not in self.files:
            raise web.HTTPNotFound(text="Not found")
        response = web.Response(body=self.files[name], content_type=_TYPES[match.group(1)], charset="utf-8")
        response.headers["Cache-Control"] = "public, max-age=300" if cache else "no-store"
        protect(response, frameable=frameable)
        return response

    async def handle(self, request: web.Request) -> web.Response:
        """``GET /static/{name}``."""
        return self.response(request.match_info["name"])
