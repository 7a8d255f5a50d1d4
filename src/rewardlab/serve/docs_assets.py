"""``GET /docs`` without internet: Swagger UI served from the ``swagger-ui-py`` package.

FastAPI's default ``/docs`` page loads Swagger UI's JavaScript and CSS from a CDN, so it is blank
on an offline cluster node. The ``serve`` extra installs ``swagger-ui-py``, whose wheel ships
Swagger UI 5's distribution files (5.x reads the OpenAPI 3.1 documents FastAPI writes; the
``swagger-ui-bundle`` wheel ships 4.15, which refuses them); this module serves those files
under :data:`ASSETS_PREFIX`. Without the package, ``/docs`` falls back to FastAPI's CDN page
(and says so in the log).
"""

from __future__ import annotations

import importlib.util
import logging
import mimetypes
from pathlib import Path

from fastapi import FastAPI, HTTPException
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse

log = logging.getLogger(__name__)

ASSETS_PREFIX = "/docs/assets/"
"""URL prefix of the Swagger UI files (public, like ``/docs``, when a token is set)."""

_ASSETS = ("swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png")


def swagger_ui_folder() -> Path | None:
    """The folder holding Swagger UI's files, from the ``swagger-ui-py`` package.

    Found without importing the package (its import wires up web-framework handlers we do not
    use).
    """
    spec = importlib.util.find_spec("swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "static"
    return folder if all((folder / name).is_file() for name in _ASSETS) else None


def install_docs(app: FastAPI) -> bool:
    """Add ``GET /docs`` (and its assets) to an app created with ``docs_url=None``.

    Returns:
        True when the page is served offline from the package, False for the CDN fallback.
    """
    folder = swagger_ui_folder()
    openapi_url = app.openapi_url or "/openapi.json"

    if folder is None:
        log.warning("swagger-ui-py is not installed: /docs loads Swagger UI from a CDN "
                    "(pip install 'rewardlab[serve]' to serve it offline)")

        @app.get("/docs", include_in_schema=False)
        async def cdn_docs() -> HTMLResponse:
            return get_swagger_ui_html(openapi_url=openapi_url, title=f"{app.title} - docs")

        return False

    @app.get("/docs", include_in_schema=False)
    async def offline_docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url, title=f"{app.title} - docs",
            swagger_js_url=ASSETS_PREFIX + "swagger-ui-bundle.js",
            swagger_css_url=ASSETS_PREFIX + "swagger-ui.css",
            swagger_favicon_url=ASSETS_PREFIX + "favicon-32x32.png")

    @app.get(ASSETS_PREFIX + "{name}", include_in_schema=False)
    async def docs_asset(name: str) -> FileResponse:
        if name not in _ASSETS:  # a fixed list: no path from the request reaches the disk
            raise HTTPException(status_code=404)
        media = mimetypes.guess_type(name)[0] or "application/octet-stream"
        return FileResponse(folder / name, media_type=media)

    return True
