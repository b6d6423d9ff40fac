"""The "Verify a packet" page (issue 17 §5): upload a submission packet's zip, see the verifier's result file by file.

Any signed-in user may check a packet: it reads the upload, changes nothing and writes nothing that outlives the
request (the upload is streamed to a temporary file that is deleted before the answer goes out).

What is refused, with a message and status 400/413, before any member is decompressed:

* a body whose declared length is over :func:`max_upload_bytes` (refused in ``handle_raw_input``, before one
  byte of it is read), or that turns out longer while streaming (the temporary file is deleted at once);
* what is not a packet — not a zip, a zip bomb, unsafe names, links — judged from the central directory
  before anything is decompressed (``reports.services.packet_inspection.check_archive``).

Verification runs in the request: the verifier hashes each member once, streaming (measured on this machine:
a 50 MB packet hashes in ~0.1 s, see ``tests/portal/test_submit_verify.py::test_verifying_a_50_mb_packet_...``),
and the upload cap keeps that bounded; a run would only add a queue round-trip.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, SkipFile, StopFutureHandlers
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from portal.forms_submit import VerifyPacketForm
from portal.pages import page
from reports.services.packet_inspection import Refused, Verification, check_archive, verify_packet

FILE_FIELD = "packet"
DEFAULT_MAX_UPLOAD_BYTES = 64 * 1024 * 1024
FORM_ALLOWANCE_BYTES = 64 * 1024  # the CSRF token, the boundaries and the part headers


def max_upload_bytes() -> int:
    return int(getattr(settings, "CRUCIBLE_MAX_PACKET_UPLOAD_BYTES", DEFAULT_MAX_UPLOAD_BYTES))


def upload_dir() -> Path:
    """Where uploads wait while they are checked (emptied by every request; tests look that it is)."""
    path = Path(tempfile.gettempdir()) / "crucible-packet-verify"
    path.mkdir(mode=0o700, exist_ok=True)
    return path




def _too_large(limit: int) -> Refused:
    return Refused(f"The upload is larger than the limit of {limit:,} bytes ({limit // (1024 * 1024)} MiB); "
                   "nothing was kept.", status=413)


class PacketUpload(UploadedFile):
    def __init__(self, path: Path, name: str, size: int) -> None:
        super().__init__(open(path, "rb"), name=name, size=size)  # noqa: SIM115 - closed by the view
        self.path = path


class PacketUploadHandler(FileUploadHandler):
    """Streams the one file part to a temporary file under the byte cap; never holds it in memory."""

    chunk_size = 256 * 1024

    def __init__(self, request=None) -> None:
        super().__init__(request)
        self.limit = max_upload_bytes()
        self.received = 0
        self.paths: list[Path] = []
        self._out = None
        self._path: Path | None = None

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        # Before a byte of the body is read: a declared length over the cap is refused here.
        if content_length and content_length > self.limit + FORM_ALLOWANCE_BYTES:
            raise _too_large(self.limit)
        return None

    def new_file(self, field_name, file_name, content_type, content_length, charset=None, content_type_extra=None):
        super().new_file(field_name, file_name, content_type, content_length, charset, content_type_extra)
        if field_name != FILE_FIELD or self._path is not None or self.paths:
            raise SkipFile()
        fd, name = tempfile.mkstemp(prefix="upload-", suffix=".zip", dir=upload_dir())
        self._path = Path(name)
        self._out = os.fdopen(fd, "wb")
        raise StopFutureHandlers()

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.limit:
            self.discard()
            raise _too_large(self.limit)
        self._out.write(raw_data)
        return None

    def file_complete(self, file_size):
        if self._out is None:
            return None
        self._out.close()
        path, self._out, self._path = self._path, None, None
        self.paths.append(path)
        return PacketUpload(path, Path(self.file_name or "packet.zip").name, file_size)

    def upload_interrupted(self):
        self.discard()

    def discard(self) -> None:
        if self._out is not None:
            self._out.close()
            self._out = None
        for path in [*self.paths, *([self._path] if self._path else [])]:
            path.unlink(missing_ok=True)
        self.paths, self._path = [], None


@csrf_exempt  # the CSRF check reads the body: it runs in _verify, once our upload handler is in place
@page()
def packet_verify(request):
    if request.method == "POST":
        # Before anything reads the body (the CSRF check included): this request's only upload handler.
        handler = PacketUploadHandler(request)
        request.upload_handlers = [handler]
        try:
            return _verify(request, handler)
        except Refused as refusal:
            handler.discard()
            return _page(request, VerifyPacketForm(), refusal=refusal.message, status=refusal.status)
        finally:
            handler.discard()
    return _page(request, VerifyPacketForm())


def _page(request, form, *, refusal: str = "", result: Verification | None = None, name: str = "",
          status: int = 200):
    return render(request, "portal/submit/verify_packet.html",
                  {"form": form, "refusal": refusal, "result": result, "name": name,
                   "limit_mib": max_upload_bytes() // (1024 * 1024)}, status=status)


@csrf_protect
def _verify(request, handler: PacketUploadHandler):
    form = VerifyPacketForm(request.POST, request.FILES)
    if not form.is_valid():
        return _page(request, form, status=400)
    upload = form.cleaned_data["packet"]
    try:
        path = Path(upload.path)
        check_archive(path)
        result = verify_packet(path)
    finally:
        upload.close()
    return _page(request, VerifyPacketForm(), result=result, name=upload.name)
