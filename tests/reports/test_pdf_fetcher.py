"""The report's URL fetcher serves only its own figures and static files; weasyprint goes through it."""

from __future__ import annotations

import base64
import http.server
import threading

import pytest

from reports.pdf.render import (
    TEMPLATE_ROOT,
    Limits,
    RefusedURL,
    RenderError,
    RestrictedFetcher,
    render_pdf,
)

PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9aw"
                       "AAAABJRU5ErkJggg==")


@pytest.fixture
def fetcher(tmp_path):
    return RestrictedFetcher(roots=[TEMPLATE_ROOT], images={"fig.png": (PNG, "image/png")})


def test_serves_its_figures_and_static_files(fetcher):
    figure = fetcher.fetch("crucible-figure:fig.png")
    assert figure.read() == PNG and figure.content_type == "image/png"
    css = fetcher.fetch((TEMPLATE_ROOT / "report.css").as_uri())
    assert b"@page" in css.read()
    assert fetcher.refused == []


def test_refuses_a_figure_it_does_not_hold(fetcher):
    with pytest.raises(RefusedURL, match="no figure"):
        fetcher.fetch("crucible-figure:other.png")


def test_refuses_file_urls_outside_its_roots(fetcher, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("s3cret")
    for url in ("file:///etc/passwd", secret.as_uri(), "file://otherhost/etc/passwd"):
        with pytest.raises(RefusedURL):
            fetcher.fetch(url)
    assert [u for u, _ in fetcher.refused] == ["file:///etc/passwd", secret.as_uri(), "file://otherhost/etc/passwd"]


def test_refuses_path_traversal_and_symlinks_out_of_the_root(fetcher, tmp_path):
    traversal = TEMPLATE_ROOT.as_uri() + "/../../../../../../etc/passwd"
    with pytest.raises(RefusedURL, match="outside"):
        fetcher.fetch(traversal)
    encoded = TEMPLATE_ROOT.as_uri() + "/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd"
    with pytest.raises(RefusedURL, match="outside"):
        fetcher.fetch(encoded)
    root = tmp_path / "root"
    root.mkdir()
    (root / "link.css").symlink_to("/etc/passwd")
    linked = RestrictedFetcher(roots=[root], images={})
    with pytest.raises(RefusedURL, match="outside"):
        linked.fetch((root / "link.css").as_uri())


@pytest.mark.parametrize("url", ["http://example.com/x.css", "https://example.com/x.png", "ftp://example.com/f",
                                 "javascript:alert(1)", "HTTP://EXAMPLE.COM/"])
def test_refuses_every_network_scheme(fetcher, url):
    with pytest.raises(RefusedURL, match="not served"):
        fetcher.fetch(url)


def test_never_contacts_a_server_so_never_follows_its_redirect(fetcher):
    hits = []

    class Redirect(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's naming
            hits.append(self.path)
            self.send_response(302)
            self.send_header("Location", (TEMPLATE_ROOT / "report.css").as_uri())
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Redirect)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with pytest.raises(RefusedURL):
            fetcher.fetch(f"http://127.0.0.1:{server.server_port}/redirect.css")
        html = f'<link rel="stylesheet" href="http://127.0.0.1:{server.server_port}/r.css"><p>x</p>'
        rendered = render_pdf(html, images={}, fetcher=fetcher)
        assert rendered.pages == 1
    finally:
        server.shutdown()
        server.server_close()
    assert hits == []  # the redirecting server was never asked anything


def test_data_urls_only_for_images(fetcher):
    image = fetcher.fetch("data:image/png;base64," + base64.b64encode(PNG).decode())
    assert image.read() == PNG
    for url in ("data:text/css,body{background:url(http://example.com/x)}", "data:text/html,<p>x</p>",
                "data:,plain", "data:image/svg+xml"):
        with pytest.raises(RefusedURL):
            fetcher.fetch(url)


def test_weasyprint_asks_only_through_the_fetcher(tmp_path):
    fetcher = RestrictedFetcher(images={"fig.png": (PNG, "image/png")})
    html = ('<link rel="stylesheet" href="report.css"><img src="crucible-figure:fig.png">'
            '<img src="file:///etc/passwd"><img src="../../../etc/hostname"><p>body</p>')
    rendered = render_pdf(html, images={}, fetcher=fetcher)
    assert rendered.pdf.startswith(b"%PDF-")
    assert fetcher.requests[0].endswith("/templates/reports/pdf/report.css")
    assert "crucible-figure:fig.png" in fetcher.requests
    refused = [u for u, _ in rendered.refused]
    assert "file:///etc/passwd" in refused and any(u.endswith("/etc/hostname") for u in refused)


def test_page_size_and_html_limits():
    long = "".join(f"<p style='break-after: page'>page {i}</p>" for i in range(6))
    with pytest.raises(RenderError, match="pages"):
        render_pdf(long, images={}, limits=Limits(max_pages=5))
    with pytest.raises(RenderError, match="HTML"):
        render_pdf("<p>" + "x" * 2000 + "</p>", images={}, limits=Limits(max_html_bytes=1000))
    with pytest.raises(RenderError, match="bytes"):
        render_pdf("<p>x</p>", images={}, limits=Limits(max_pdf_bytes=100))


def test_time_limit_stops_a_long_render():
    long = "<table>" + "".join(f"<tr><td>{i}</td><td>{'word ' * 40}</td></tr>" for i in range(600)) + "</table>"
    with pytest.raises(RenderError, match="time limit of 0.05 s"):
        render_pdf(long, images={}, limits=Limits(seconds=0.05))
