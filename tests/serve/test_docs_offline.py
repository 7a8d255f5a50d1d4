"""``/docs`` works without internet: Swagger UI comes from the swagger-ui-py wheel.

A real ``rewardlab serve`` on 127.0.0.1 (with a token set, so the guard is on), then headless
Chromium with every other host unresolvable renders the page.
"""

from __future__ import annotations

import re
import shutil
import subprocess

import httpx
import pytest
from serve_helpers import ServerProcess

pytest.importorskip("swagger_ui")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
TOKEN = "t" * 24


@pytest.fixture(scope="module")
def docs_server():
    with ServerProcess({"rewards": {"exact": {"name": "exact_match"}}},
                       env={"REWARDLAB_SERVE_TOKEN": TOKEN}) as server:
        yield server


def test_docs_page_and_assets_are_served_locally(docs_server):
    page = httpx.get(docs_server.url + "/docs", timeout=10)
    assert page.status_code == 200
    assert "cdn" not in page.text.lower() and "https://" not in page.text
    assets = re.findall(r"""(?:src|href)=['"](/docs/assets/[^'"]+)""", page.text)
    assert {a.rsplit("/", 1)[1] for a in assets} >= {"swagger-ui-bundle.js", "swagger-ui.css"}
    for asset in assets:  # public like /docs, although a token guards the API
        reply = httpx.get(docs_server.url + asset, timeout=10)
        assert reply.status_code == 200 and len(reply.content) > 500, asset
    js = httpx.get(docs_server.url + "/docs/assets/swagger-ui-bundle.js", timeout=10)
    assert "javascript" in js.headers["content-type"]
    assert httpx.get(docs_server.url + "/docs/assets/..%2Fserver.log", timeout=10).status_code \
        == 404
    assert httpx.post(docs_server.url + "/v1/score", json={}, timeout=10).status_code == 401


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (scripts/test.sh installs it)")
def test_docs_render_in_chromium_with_no_other_host_reachable(docs_server, tmp_path):
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
             f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=15000",
             "--dump-dom", docs_server.url + "/docs"]
    result = subprocess.run([CHROMIUM, *flags], capture_output=True, text=True, timeout=120)
    dom = result.stdout
    assert "swagger-ui" in dom, result.stderr[-2000:]
    # the operations come from /openapi.json, so Swagger UI's script really ran
    assert "/v1/score" in dom and "/get_reward" in dom, dom[-3000:]
