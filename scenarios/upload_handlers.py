"""The dataset upload's body handling: authorise first, then stream to disk under a byte limit.

Django parses a multipart body through the request's upload handlers
(https://docs.djangoproject.com/en/5.2/topics/http/file-uploads/#upload-handlers).
``DatasetUploadHandler`` is the only handler on the dataset endpoint. Its ``handle_raw_input`` runs
before a single byte of the body is read, so it is where the importer's role is checked — also on
the path where the body is parsed during authentication (the CSRF check of a session reads
``request.POST``) — and where a declared ``Content-Length`` over the limit is refused. It then writes
the file part to the upload directory while counting and hashing, and aborts with 413 as soon as
the count passes ``CRUCIBLE_MAX_DATASET_BYTES`` (a body without or with a lying length included).
The file is never held in memory and never parsed here; a worker does that (``dataset_imports``).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, SkipFile, StopFutureHandlers

from governance.errors import InvalidInput
from scenarios.services.dataset_imports import StagedFile, max_upload_bytes, new_staging_file, too_large
from scenarios.services.datasets import require_importer

FILE_FIELD = "file"
# Room for the form's other fields and the multipart boundaries on top of the file itself.
FORM_ALLOWANCE_BYTES = 1024 * 1024


class StagedUpload(UploadedFile):
    """The received file, already on disk in the upload directory (``staged``)."""

    def __init__(self, staged: StagedFile, content_type: str | None, charset: str | None) -> None:
        super().__init__(open(staged.path, "rb"), name=staged.filename, content_type=content_type,  # noqa: SIM115
                         size=staged.size, charset=charset)
        self.staged = staged


class DatasetUploadHandler(FileUploadHandler):
    chunk_size = 256 * 1024

    def __init__(self, request=None) -> None:
        super().__init__(request)
        self.limit = max_upload_bytes()
        self.received = 0
        self.staged_paths: list[Path] = []
        self._out = None
        self._path: Path | None = None
        self._digest = None

    # Called before any of the body is read.
    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        require_importer(getattr(self.request, "user", None))
        if content_length and content_length > self.limit + FORM_ALLOWANCE_BYTES:
            raise too_large("the upload", content_length)
        return None  # go on with Django's multipart parsing, through this handler

    def new_file(self, field_name, file_name, content_type, content_length, charset=None,
                 content_type_extra=None):
        super().new_file(field_name, file_name, content_type, content_length, charset, content_type_extra)
        if field_name != FILE_FIELD:
            raise SkipFile()
        if self._path is not None or self.staged_paths:
            raise InvalidInput("send one file per upload", details={FILE_FIELD: ["one file"]})
        fd, self._path = new_staging_file(file_name or "upload")
        self._out = os.fdopen(fd, "wb")
        self._digest = hashlib.sha256()
        raise StopFutureHandlers()

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.limit:
            self.discard()
            raise too_large(self.file_name or "the upload")
        self._digest.update(raw_data)
        self._out.write(raw_data)
        return None

    def file_complete(self, file_size):
        self._out.close()
        staged = StagedFile(path=self._path, filename=Path(self.file_name or "upload").name, size=file_size,
                            sha256=self._digest.hexdigest())
        self.staged_paths.append(self._path)
        self._out = self._path = None
        return StagedUpload(staged, self.content_type, self.charset)

    def upload_interrupted(self):
        self.discard()

    def discard(self) -> None:
        """Delete what this request received and nobody took (an import renames what it owns)."""
        if self._out is not None:
            self._out.close()
            self._out = None
        for path in [*self.staged_paths, *([self._path] if self._path else [])]:
            path.unlink(missing_ok=True)
        self._path = None
        self.staged_paths = []
