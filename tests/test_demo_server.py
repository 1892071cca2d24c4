"""The demo shop server, without a browser: what `collector demo` relies on."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest

from collector.demo.server import DemoServer, static_dir


def _get(url: str) -> tuple[int, str, bytes]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.headers["Content-Type"], response.read()


def _pay(base: str) -> tuple[int, Any]:
    request = urllib.request.Request(
        base + "api/pay",
        data=json.dumps({"email": "ana@example.com", "card": "visa"}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, json.loads(exc.read())


def test_static_files_are_packaged() -> None:
    with static_dir() as root:
        names = {p.name for p in root.iterdir()}
    assert {"index.html", "checkout.html", "shop.css", "shop.js"} <= names


def test_serves_the_shop_on_a_free_local_port() -> None:
    with DemoServer() as shop:
        assert shop.url.startswith("http://127.0.0.1:")
        assert shop.url.endswith("/")
        assert not shop.url.endswith(":0/")

        status, ctype, body = _get(shop.url)
        assert status == 200
        assert ctype.startswith("text/html")
        assert b"Go to checkout" in body

        status, _, body = _get(shop.url + "checkout.html")
        assert status == 200
        for marker in (b'id="email"', b'id="password"', b'type="password"', b'id="card"'):
            assert marker in body
        assert b'id="pay"' in body and b"Pay now" in body

        status, ctype, body = _get(shop.url + "shop.js")
        assert status == 200
        assert "javascript" in ctype
        assert b"/api/pay" in body

        status, ctype, body = _get(shop.url + "api/health")
        assert status == 200
        assert ctype == "application/json"
        assert json.loads(body)["status"] == "ok"


def test_pages_use_no_external_resources() -> None:
    with static_dir() as root:
        for path in root.iterdir():
            text = path.read_text(encoding="utf-8")
            assert "http://" not in text.replace("http://www.w3.org/2000/svg", ""), path.name
            assert "https://" not in text, path.name


def test_buggy_variant_fails_payment_with_500() -> None:
    with DemoServer() as shop:
        assert shop.variant == "buggy"
        assert _pay(shop.url) == (500, {"error": "card processor unavailable"})
        assert shop.payments == 1


def test_fixed_variant_pays() -> None:
    with DemoServer(variant="fixed") as shop:
        status, body = _pay(shop.url)
        assert status == 200
        assert body == {"data": {"card": "visa", "receipt": "R-1"}}


def test_unknown_paths_are_404() -> None:
    with DemoServer() as shop:
        with pytest.raises(urllib.error.HTTPError) as info:
            _get(shop.url + "no-such-page.html")
        assert info.value.code == 404
        info.value.close()


def test_stop_releases_the_server_and_can_be_called_twice() -> None:
    shop = DemoServer().start()
    url = shop.url
    shop.stop()
    shop.stop()
    with pytest.raises(RuntimeError):
        _ = shop.url
    with pytest.raises(urllib.error.URLError):
        _get(url)


def test_rejects_unknown_variant() -> None:
    with pytest.raises(ValueError, match="variant"):
        DemoServer(variant="broken")  # type: ignore[arg-type]


def test_main_reports_a_busy_port(capsys: pytest.CaptureFixture[str]) -> None:
    from collector.demo.server import main

    with DemoServer() as shop:
        port = int(shop.url.rsplit(":", 1)[1].rstrip("/"))
        assert main(["--port", str(port)]) == 3
    assert "cannot serve" in capsys.readouterr().out
