"""scrapers/net.py against a real local server: retries with Retry-After, size cap, redirect checks."""

from __future__ import annotations

import asyncio
import time

from bot.fixture_portal import FixturePortal, Route
from scrapers.net import Fetcher, Politeness


def fetch(url: str, pol: Politeness, **kw: object):  # type: ignore[no-untyped-def]
    async def run():  # type: ignore[no-untyped-def]
        async with Fetcher(pol) as f:
            return await f.fetch(url, **kw), f.requests

    return asyncio.run(run())


def test_429_is_retried_after_retry_after_then_succeeds() -> None:
    with FixturePortal() as p:
        p.routes["/busy.html"] = Route(b"slow down", status=429, headers={"Retry-After": "1"})
        start = time.monotonic()

        def heal() -> None:
            time.sleep(0.3)
            p.routes["/busy.html"] = Route("<html><body>年报</body></html>".encode())

        import threading

        threading.Thread(target=heal).start()
        res, requests = fetch(f"{p.url}/busy.html", Politeness(allow_private=True, retries=2, backoff=0.1))
    assert res.ok and requests == 2 and time.monotonic() - start >= 1.0  # waited for Retry-After


def test_size_cap_and_wrong_content_type() -> None:
    with FixturePortal() as p:
        p.routes["/big.pdf"] = Route(b"%PDF-" + b"0" * 300_000, "application/pdf")
        p.routes["/err.pdf"] = Route(b"<html><body>404 not found</body></html>", "text/html")
        big, _ = fetch(f"{p.url}/big.pdf", Politeness(allow_private=True, max_bytes=100_000), expect="binary")
        err, _ = fetch(f"{p.url}/err.pdf", Politeness(allow_private=True), expect="binary")
    assert big.status == "too_large" and big.data == b""
    assert err.status == "wrong_content_type"


def test_every_redirect_hop_is_checked() -> None:
    with FixturePortal() as p:
        p.routes["/go"] = Route(b"", status=302, headers={"Location": "http://169.254.169.254/latest/meta-data/"})
        p.routes["/loop"] = Route(b"", status=302, headers={"Location": "/loop"})
        meta, _ = fetch(f"{p.url}/go", Politeness(allow_private=True))
        loop, requests = fetch(f"{p.url}/loop", Politeness(allow_private=True, max_redirects=3, retries=0))
    # allow_private admits loopback only (the demo's own portal): the metadata address is refused unsent
    assert meta.status == "blocked" and "169.254.169.254" in (meta.error or "")
    assert loop.status == "http_error" and loop.error == "too many redirects" and requests == 4
    res, _ = fetch("http://127.0.0.1:9/x", Politeness(allow_private=False))
    assert res.status == "blocked" and "内网" in (res.error or "")


def test_per_portal_ca_bundle_instead_of_turning_verification_off(tmp_path) -> None:
    import ssl

    from tests.helpers import self_signed

    cert, key = self_signed(tmp_path)
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert, key)
    with FixturePortal(tls=tls) as p:
        p.routes["/a.html"] = Route("<html><body>年报</body></html>".encode())
        plain, _ = fetch(f"{p.url}/a.html", Politeness(allow_private=True, retries=0))
        trusted, _ = fetch(f"{p.url}/a.html", Politeness(allow_private=True, retries=0, ca_bundle=str(cert)))
    assert p.url.startswith("https://")
    assert plain.status == "network_error" and "CERTIFICATE_VERIFY_FAILED" in (plain.error or "")
    assert trusted.ok


def test_list_pages_are_revalidated_and_an_unchanged_one_costs_a_304() -> None:
    pol = Politeness(allow_private=True, retries=0)
    page = "<html><body><ul><li>示例区2023年政府信息公开工作年度报告</li></ul></body></html>".encode()
    with FixturePortal() as portal:
        portal.routes["/nb/index.html"] = Route(page)
        url = portal.url + "/nb/index.html"
        first, second = fetch(url, pol, expect="page")[0], fetch(url, pol, expect="page")[0]
        assert first.ok and second.ok and second.data == page == first.data  # the page as last seen …
        assert [s for _, p, s in portal.hits if p == "/nb/index.html"] == [200, 304]  # … for a 304
        portal.routes["/nb/index.html"] = Route(page.replace(b"2023", b"2024"))
        third = fetch(url, pol, expect="page")[0]
        assert third.ok and b"2024" in third.data and portal.hits[-1][2] == 200  # changed: the new page
        doc = fetch(url, pol, expect="document")[0]  # reports keep their own validators (the store's)
        assert doc.ok and portal.hits[-1][2] == 200


def test_revalidated_pages_and_redirects_keep_their_connection() -> None:
    """A 304 or a redirect read through to its end leaves the connection reusable: hourly cycles of
    revalidated list pages must not open a TCP connection per page (they did, and it cost more than the page)."""
    with FixturePortal() as p:
        p.routes["/list.html"] = Route("<html><body>年报目录</body></html>".encode())
        p.routes["/old.html"] = Route(b"", status=302, headers={"Location": "/list.html"})

        async def run() -> list[str]:
            async with Fetcher(Politeness(allow_private=True, concurrency=1, delay=0)) as f:
                got = [(await f.fetch(f"{p.url}/list.html")).status for _ in range(4)]
                return got + [(await f.fetch(f"{p.url}/old.html")).status for _ in range(3)]

        statuses = asyncio.run(run())
    assert statuses == ["ok"] * 7
    assert [h[2] for h in p.hits] == [200, 304, 304, 304, 302, 200, 302, 304, 302, 304]
    assert len(p.peers) == 1, p.peers  # one connection for ten requests


def test_a_portal_session_cookie_is_sent_back_and_gzip_is_decoded() -> None:
    import gzip

    page = "<html><body>年报目录 第二页</body></html>".encode()
    with FixturePortal() as p:
        cookie = {"Set-Cookie": "JSESSIONID=abc123; Path=/"}
        p.routes["/a.html"] = Route(b"<html><body>one</body></html>", headers=cookie)
        p.routes["/b.html"] = Route(gzip.compress(page), headers={"Content-Encoding": "gzip"})

        async def run() -> tuple[bytes, bytes]:
            async with Fetcher(Politeness(allow_private=True, retries=0)) as f:
                return (await f.fetch(f"{p.url}/a.html")).data, (await f.fetch(f"{p.url}/b.html")).data

        first, second = asyncio.run(run())
    assert first == b"<html><body>one</body></html>" and second == page  # decoded, as the client decoded it
    sent = dict(p.seen)
    assert "Cookie" not in sent["/a.html"] and sent["/b.html"]["Cookie"] == "JSESSIONID=abc123"
    assert "gzip" in sent["/a.html"]["Accept-Encoding"] and sent["/a.html"]["User-Agent"].startswith("nianbao/")


def test_the_environment_proxy_is_used_unless_no_proxy_names_the_host(monkeypatch) -> None:
    with FixturePortal() as portal, FixturePortal() as proxy:
        portal.routes["/a.html"] = Route(b"<html><body>direct</body></html>")
        proxy.routes["/a.html"] = Route(b"<html><body>via the proxy</body></html>")  # absolute-form target
        for var in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"):
            monkeypatch.delenv(var, raising=False)
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        proxied, _ = fetch(f"{portal.url}/a.html", Politeness(allow_private=True, retries=0))
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        direct, _ = fetch(f"{portal.url}/a.html", Politeness(allow_private=True, retries=0))
    assert proxied.data == b"<html><body>via the proxy</body></html>"
    assert direct.data == b"<html><body>direct</body></html>"
    assert [h[1] for h in proxy.hits] == ["/a.html"] and [h[1] for h in portal.hits] == ["/a.html"]


def test_a_kept_alive_connection_the_portal_closed_meanwhile_is_replaced_not_failed() -> None:
    with FixturePortal(idle_timeout=0.2) as p:
        p.routes["/list.html"] = Route(b"<html><body>list</body></html>", etag=False)

        async def run() -> list[str]:
            async with Fetcher(Politeness(allow_private=True, retries=0)) as f:
                first = await f.fetch(f"{p.url}/list.html")
                await asyncio.sleep(0.6)  # the server drops the idle connection
                return [first.status, (await f.fetch(f"{p.url}/list.html")).status]

        statuses = asyncio.run(run())
    assert statuses == ["ok", "ok"] and len(p.peers) == 2  # no retry needed: a fresh connection at once


def test_report_urls_with_chinese_names_and_spaces_are_sent_percent_encoded_once() -> None:
    """List pages link reports by raw names (年报 全文.html); the request must carry them UTF-8 percent-encoded,
    as browsers send them — and an already encoded link, or a bare %, must not be encoded twice."""
    with FixturePortal() as p:
        for path in (
            "/2023/%E5%B9%B4%E6%8A%A5%20%E5%85%A8%E6%96%87.html",
            "/a%25b.html",
            "/q.html",
            "/%7Bx%7D.html",
        ):
            p.routes[path] = Route(b"<html><body>" + path.encode() + b"</body></html>")
        pol = Politeness(allow_private=True, retries=0)
        raw, _ = fetch(f"{p.url}/2023/年报 全文.html#p2", pol)
        encoded, _ = fetch(f"{p.url}/2023/%E5%B9%B4%E6%8A%A5%20%E5%85%A8%E6%96%87.html", pol)
        percent, _ = fetch(f"{p.url}/a%b.html", pol)
        query, _ = fetch(f"{p.url}/q.html?title=年报&y=2023", pol)
        odd, _ = fetch(
            f"{p.url}/{{x}}\n.html", pol
        )  # braces, and a newline copied out of an href (dropped, as browsers do)
    assert raw.ok and encoded.ok and raw.data == encoded.data, (raw.status, encoded.status)
    assert percent.ok and query.ok and odd.ok, (percent.status, query.status, odd.status, odd.error)
    assert [h[1] for h in p.hits] == [
        "/2023/%E5%B9%B4%E6%8A%A5%20%E5%85%A8%E6%96%87.html",
        "/2023/%E5%B9%B4%E6%8A%A5%20%E5%85%A8%E6%96%87.html",
        "/a%25b.html",
        "/q.html",
        "/%7Bx%7D.html",
    ]


def test_a_server_that_does_not_speak_http_is_a_network_error_not_an_exception() -> None:
    """Garbage for a status line, a header block cut short, a bare close: each is classified, none escapes."""
    import socket
    import threading

    answers = [b"SSH-2.0-OpenSSH_9.6\r\n\r\n", b"HTTP/1.1 200 OK\r\nContent-Le", b""]
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)

    def serve() -> None:
        for answer in answers:
            conn, _ = srv.accept()
            conn.recv(65536)
            conn.sendall(answer)
            conn.close()

    threading.Thread(target=serve, daemon=True).start()
    url = f"http://127.0.0.1:{srv.getsockname()[1]}/a.html"
    got = [fetch(url, Politeness(allow_private=True, retries=0, timeout=2))[0] for _ in answers]
    srv.close()
    assert [r.status for r in got] == ["network_error"] * 3, [(r.status, r.error) for r in got]
    assert all("ProtocolError" in (r.error or "") or "ReadError" in (r.error or "") for r in got), [
        r.error for r in got
    ]


def test_tls_connections_are_kept_alive_and_closed_cleanly(tmp_path) -> None:
    """Over https (a portal certificate from an extra CA bundle), four pages share one connection, a gzip page
    among them, and closing the Fetcher ends the TLS session at once (close_notify answered, no 1 s wait)."""
    import gzip
    import ssl

    from tests.helpers import self_signed

    cert, key = self_signed(tmp_path)
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert, key)
    with FixturePortal(tls=tls) as p:
        for i in range(3):
            p.routes[f"/{i}.html"] = Route(f"<html><body>第{i}页</body></html>".encode())
        p.routes["/z.html"] = Route(
            gzip.compress("<html><body>压缩</body></html>".encode()), headers={"Content-Encoding": "gzip"}
        )

        async def run() -> tuple[list[bytes], float]:
            f = Fetcher(Politeness(allow_private=True, retries=0, ca_bundle=str(cert)))
            got = [(await f.fetch(f"{p.url}/{n}.html")).data for n in ("0", "1", "z", "2")]
            start = time.monotonic()
            await f.close()
            return got, time.monotonic() - start

        pages, closing = asyncio.run(run())
    assert pages == [
        "<html><body>第0页</body></html>".encode(),
        "<html><body>第1页</body></html>".encode(),
        "<html><body>压缩</body></html>".encode(),
        "<html><body>第2页</body></html>".encode(),
    ]
    assert len(p.peers) == 1, p.peers
    assert closing < 0.9, closing
