"""HTML → PDF with weasyprint, behind a URL fetcher that can only reach what this render owns.

weasyprint (70) asks its ``url_fetcher`` — a ``weasyprint.urls.URLFetcher`` whose ``fetch(url, headers)``
returns a ``URLFetcherResponse`` — for every stylesheet, image, font and SVG reference. Ours answers:

* ``crucible-figure:<name>``: the charts generated in memory for this render, nothing else;
* ``file://`` only inside the allowed roots (the report's own template/static folder), after resolving
  symlinks and ``..`` — anything else, including a path-traversal attempt, is refused;
* ``data:`` only for images (``data:image/png`` etc.), never stylesheets or HTML;
* every network scheme (http, https, ftp, …) is refused before any connection, so there is no redirect to
  follow either.

A refused URL raises ``RefusedURL`` (a ``ValueError``): weasyprint logs it and renders without the resource.
Each request is recorded in ``requests``/``refused`` so tests and the report can show what was asked.
Limits: HTML size, number of fetches, pages, PDF bytes, and wall time (SIGALRM in the main thread — a
Celery prefork worker runs tasks there — plus a deadline checked at every fetch and between stages).
"""

from __future__ import annotations

import base64
import contextlib
import mimetypes
import signal
import threading
import time
import urllib.parse
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

FIGURE_SCHEME = "crucible-figure"
IMAGE_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp", "image/svg+xml"}
TEMPLATE_ROOT = Path(__file__).resolve().parent.parent.parent / "templates" / "reports" / "pdf"


class RenderError(Exception):
    """The document could not be rendered within its limits; the message says which."""


class RefusedURL(ValueError):
    """A URL the report's fetcher does not serve."""


@dataclass(frozen=True)
class Limits:
    max_html_bytes: int = 8 * 1024 * 1024
    max_pages: int = 400
    max_pdf_bytes: int = 64 * 1024 * 1024
    max_fetches: int = 2000
    max_file_bytes: int = 16 * 1024 * 1024
    seconds: float = 120.0


class RestrictedFetcher(URLFetcher):
    """See the module docstring. ``images`` maps a figure name to ``(bytes, mime type)``."""

    def __init__(self, *, roots: Sequence[Path] = (TEMPLATE_ROOT,), images: Mapping[str, tuple[bytes, str]] = (),
                 limits: Limits | None = None, deadline: float | None = None) -> None:
        super().__init__(timeout=1, allowed_protocols=("file", "data", FIGURE_SCHEME), allow_redirects=False,
                         fail_on_errors=False)
        self.roots = tuple(Path(r).resolve() for r in roots)
        self.images = dict(images or {})
        self.limits = limits or Limits()
        self.deadline = deadline
        self.requests: list[str] = []
        self.refused: list[tuple[str, str]] = []

    def fetch(self, url: str, headers=None) -> URLFetcherResponse:
        self.requests.append(url)
        try:
            return self._serve(url)
        except RefusedURL as refusal:
            self.refused.append((url, str(refusal)))
            raise

    def _serve(self, url: str) -> URLFetcherResponse:
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise RenderTimeout("the render ran past its time limit while fetching resources")
        if len(self.requests) > self.limits.max_fetches:
            raise RefusedURL(f"more than {self.limits.max_fetches} resources requested")
        scheme, _, rest = url.partition(":")
        scheme = scheme.lower()
        if scheme == FIGURE_SCHEME:
            name = urllib.parse.unquote(rest)
            if name not in self.images:
                raise RefusedURL(f"no figure named {name!r} in this render")
            blob, mime = self.images[name]
            return URLFetcherResponse(url, body=blob, headers={"Content-Type": mime})
        if scheme == "data":
            return self._data(url, rest)
        if scheme == "file":
            return self._file(url)
        raise RefusedURL(f"scheme {scheme!r} is not served (no network access from reports)")

    def _data(self, url: str, rest: str) -> URLFetcherResponse:
        header, comma, payload = rest.partition(",")
        if not comma:
            raise RefusedURL("malformed data: URL")
        parts = [p.strip().lower() for p in header.split(";")]
        mime = parts[0] or "text/plain"
        if mime not in IMAGE_TYPES:
            raise RefusedURL(f"data: URLs are served for images only, not {mime!r}")
        if len(payload) > self.limits.max_file_bytes * 2:
            raise RefusedURL("data: URL too large")
        try:
            body = base64.b64decode(payload, validate=False) if "base64" in parts[1:] else \
                urllib.parse.unquote_to_bytes(payload)
        except ValueError as error:
            raise RefusedURL(f"undecodable data: URL ({error})") from None
        return URLFetcherResponse(url, body=body, headers={"Content-Type": mime})

    def _file(self, url: str) -> URLFetcherResponse:
        parsed = urllib.parse.urlsplit(url)
        if parsed.netloc not in ("", "localhost"):
            raise RefusedURL(f"file URL on another host {parsed.netloc!r}")
        path = Path(urllib.parse.unquote(parsed.path))
        try:
            real = path.resolve(strict=True)
        except (OSError, RuntimeError):
            raise RefusedURL(f"no such file {path}") from None
        if not any(real.is_relative_to(root) for root in self.roots):
            raise RefusedURL(f"{path} is outside the report's static roots")
        if not real.is_file():
            raise RefusedURL(f"{path} is not a file")
        if real.stat().st_size > self.limits.max_file_bytes:
            raise RefusedURL(f"{path} is larger than {self.limits.max_file_bytes} bytes")
        mime = mimetypes.guess_type(real.name)[0] or "application/octet-stream"
        return URLFetcherResponse(real.as_uri(), body=real.read_bytes(), headers={"Content-Type": mime})


class RenderTimeout(BaseException):
    """Raised inside weasyprint when the time limit passes; BaseException so weasyprint's own
    ``except Exception`` around resource loading cannot swallow it."""


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """SIGALRM-based limit in the main thread; elsewhere only the deadline checks apply."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def expire(signum, frame):
        # Raised wherever the main thread is; if that is a finaliser (__del__) Python swallows it, so the
        # timer repeats every 0.1 s after expiry and render_pdf also checks the deadline after every stage.
        raise RenderTimeout(f"the render ran past its time limit of {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds, 0.1)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@dataclass
class Rendered:
    pdf: bytes
    pages: int
    fetched: list[str] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)


def render_pdf(html: str, *, images: Mapping[str, tuple[bytes, str]], limits: Limits | None = None,
               fetcher: RestrictedFetcher | None = None, base_dir: Path = TEMPLATE_ROOT) -> Rendered:
    """Render ``html`` (already escaped by the template engine) to PDF bytes within ``limits``."""
    limits = limits or Limits()
    encoded = html.encode("utf-8")
    if len(encoded) > limits.max_html_bytes:
        raise RenderError(f"the report HTML is {len(encoded)} bytes, over the limit of {limits.max_html_bytes}")
    start = time.monotonic()
    deadline = start + limits.seconds
    if fetcher is None:
        fetcher = RestrictedFetcher(images=images, limits=limits, deadline=deadline)
    else:
        fetcher.deadline = deadline
    seconds: dict[str, float] = {}
    try:
        with time_limit(limits.seconds):
            document = HTML(string=html, base_url=base_dir.as_uri() + "/", url_fetcher=fetcher).render()
            seconds["layout"] = time.monotonic() - start
            if time.monotonic() > deadline:
                raise RenderTimeout(f"the render ran past its time limit of {limits.seconds:g} s")
            pages = len(document.pages)
            if pages > limits.max_pages:
                raise RenderError(f"the report has {pages} pages, over the limit of {limits.max_pages}")
            mark = time.monotonic()
            pdf = document.write_pdf()
            seconds["write_pdf"] = time.monotonic() - mark
            if time.monotonic() > deadline:
                raise RenderTimeout(f"the render ran past its time limit of {limits.seconds:g} s")
    except RenderTimeout as timeout:
        raise RenderError(str(timeout)) from None
    if len(pdf) > limits.max_pdf_bytes:
        raise RenderError(f"the PDF is {len(pdf)} bytes, over the limit of {limits.max_pdf_bytes}")
    return Rendered(pdf=pdf, pages=pages, fetched=list(fetcher.requests), refused=list(fetcher.refused),
                    seconds=seconds)
