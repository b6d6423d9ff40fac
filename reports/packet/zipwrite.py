"""A deterministic zip: the same members give the same bytes, whoever builds it and whenever.

What varies between two ordinary ``zipfile`` writes, and how it is pinned here:
- member order → sorted by name;
- timestamps → 1980-01-01 00:00:00 (the earliest a zip can record);
- permissions and creating system → regular file, mode 0644, "Unix" (3);
- extra fields (extended timestamps, uid/gid) and comments → none;
- compression → DEFLATE at level 6 (zlib output is stable for one zlib version; the manifest
  hashes the *uncompressed* bytes, so a verifier never depends on it).

Member names are checked on the way in (``check_member_name``) so an archive written here can
never unpack outside its folder ("zip slip").
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping

# One definition of a safe name, shared with the verifier shipped in the packet.
from reports.packet.verify import UnsafeMemberName, check_member_name

__all__ = ["UnsafeMemberName", "check_member_name", "deterministic_zip", "member_info"]

FIXED_DATE_TIME = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o100644  # S_IFREG | rw-r--r--
CREATE_SYSTEM_UNIX = 3
COMPRESS_LEVEL = 6


def member_info(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(check_member_name(name), date_time=FIXED_DATE_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = CREATE_SYSTEM_UNIX
    info.external_attr = FILE_MODE << 16
    info.extra = b""
    info.comment = b""
    return info


def deterministic_zip(members: Mapping[str, bytes]) -> bytes:
    """The zip of ``{name: bytes}``, members in sorted name order; raises ``UnsafeMemberName``."""
    names = sorted(members)
    for name in names:
        check_member_name(name)
    lowered = [name.lower() for name in names]
    if len(set(lowered)) != len(lowered):
        # Two names equal but for case would overwrite each other when unpacked on macOS/Windows.
        raise UnsafeMemberName("two member names differ only in case")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=COMPRESS_LEVEL) as archive:
        archive.comment = b""
        for name in names:
            archive.writestr(member_info(name), members[name], compress_type=zipfile.ZIP_DEFLATED,
                             compresslevel=COMPRESS_LEVEL)
    return buffer.getvalue()
