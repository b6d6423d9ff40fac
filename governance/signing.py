"""The platform's Ed25519 signing key: audit checkpoints today, submission packets tomorrow.

Where the private key comes from, first match wins:

1. ``CRUCIBLE_SIGNING_KEY``: the key itself, either PEM text (unencrypted PKCS#8, as written by
   ``openssl genpkey -algorithm ed25519``) or the 32-byte raw seed as 64 hexadecimal characters;
2. ``CRUCIBLE_SIGNING_KEY_FILE``: a path to such a PEM file (or a file holding the hex seed);
3. otherwise ``settings.VAR_DIR / "signing_key.pem"``, generated on first use (mode 0600) —
   **only in the embedded default** (no ``DATABASE_URL``), with ``DJANGO_DEBUG`` on, or when
   ``CRUCIBLE_SIGNING_KEY_GENERATE=1`` says so explicitly. In production (a configured database,
   DEBUG off) a key beside the data it protects would let whoever can rewrite the database re-sign
   the checkpoints too, so the platform refuses to sign (``ImproperlyConfigured`` naming
   ``CRUCIBLE_SIGNING_KEY_FILE``) until the key is configured, and also refuses a key file that
   lies inside ``VAR_DIR``. Mount the key read-only (a container secret) and point
   ``CRUCIBLE_SIGNING_KEY_FILE`` at it.
   The generated file appears atomically and exactly once: the key is written to a private
   temporary file (``O_CREAT | O_EXCL``) and hard-linked into place, which fails if another process
   got there first, in which case that process's key is used. So two processes starting together
   can never sign with two different keys, and nobody ever reads a half-written file.

Public keys and signatures travel as lowercase hex (32 and 64 bytes raw). A signature made here
verifies with any Ed25519 implementation (RFC 8032), e.g. ``cryptography`` or PyNaCl offline.

Rotating the key: configure the new one in every process, list the old public key in
``CRUCIBLE_TRUSTED_KEYS`` (comma- or whitespace-separated hex) so what it signed earlier is still
trusted, and restart. The first checkpoint signed with the new key appends it to the key history
(``AuditSigningKey``, valid from the seq that checkpoint signs): from that seq on only the new key
may sign, and verification checks each checkpoint against the key active at its seq. A key
once retired is never taken back (a process still holding it refuses to sign).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
import os
import re
import tempfile
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

logger = logging.getLogger(__name__)

ALGORITHM = "Ed25519"
KEY_ENV = "CRUCIBLE_SIGNING_KEY"
KEY_FILE_ENV = "CRUCIBLE_SIGNING_KEY_FILE"
GENERATE_ENV = "CRUCIBLE_SIGNING_KEY_GENERATE"
TRUSTED_KEYS_ENV = "CRUCIBLE_TRUSTED_KEYS"
DEFAULT_KEY_FILENAME = "signing_key.pem"

_HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")
_HEX128 = re.compile(r"^[0-9a-fA-F]{128}$")


# --- loading -------------------------------------------------------------------------------


def load_private_key(text: str | bytes, *, source: str = "the signing key") -> Ed25519PrivateKey:
    """An Ed25519 private key from PEM text or a 64-hex-character raw seed.

    Raises ``ImproperlyConfigured`` naming ``source`` (never echoing key material).
    """
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    stripped = text.strip()
    if _HEX64.match(stripped):
        return Ed25519PrivateKey.from_private_bytes(bytes.fromhex(stripped))
    if "-----BEGIN" in stripped:
        try:
            key = serialization.load_pem_private_key(stripped.encode("ascii"), password=None)
        except (ValueError, TypeError) as exc:
            raise ImproperlyConfigured(f"{source} is not a readable unencrypted PEM private key") from exc
        if not isinstance(key, Ed25519PrivateKey):
            raise ImproperlyConfigured(f"{source} is a {type(key).__name__}, not an Ed25519 private key")
        return key
    raise ImproperlyConfigured(f"{source} must be an Ed25519 PEM private key or a 64-hex-character seed")


def private_key_pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def default_key_path() -> Path:
    return Path(settings.VAR_DIR) / DEFAULT_KEY_FILENAME


def _create_key_file_once(path: Path) -> None:
    """Write a fresh key to ``path`` unless it exists; atomic and race-free (see module doc)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = private_key_pem(Ed25519PrivateKey.generate())
    # mkstemp opens with O_CREAT | O_EXCL and mode 0600.
    fd, tmp_name = tempfile.mkstemp(prefix=".signing_key.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(tmp_name, path)  # fails with FileExistsError if another process won
        except FileExistsError:
            return
        except OSError:
            # A filesystem without hard links: O_EXCL on the final name still admits one writer.
            try:
                out = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                return
            with os.fdopen(out, "wb") as handle:
                handle.write(pem)
        logger.warning("generated a new platform signing key in %s", path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)


@functools.lru_cache(maxsize=8)
def _key_from_text(text: str, source: str) -> Ed25519PrivateKey:
    return load_private_key(text, source=source)


def _read_key_file(path: Path, source: str) -> Ed25519PrivateKey:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ImproperlyConfigured(f"{source} ({path}) cannot be read: {exc.strerror}") from exc
    try:
        mode = path.stat().st_mode
        if mode & 0o077:
            logger.warning("the signing key file %s is readable by other users (mode %o)", path, mode & 0o777)
    except OSError:
        pass
    return _key_from_text(text, source)


def is_embedded_default() -> bool:
    """The embedded default: SQLite under var/ (no ``DATABASE_URL``)."""
    return not os.environ.get("DATABASE_URL", "").strip()


def key_generation_allowed() -> bool:
    """May a key be generated into (and read from) ``var/``? See the module docstring, item 3."""
    explicit = os.environ.get(GENERATE_ENV, "").strip().lower()
    if explicit:
        return explicit in {"1", "true", "yes", "on"}
    return bool(settings.DEBUG) or is_embedded_default()


def _production_refusal(detail: str) -> ImproperlyConfigured:
    return ImproperlyConfigured(
        f"{detail}: in production (DATABASE_URL set, DJANGO_DEBUG off) the audit signing key must live "
        f"outside {settings.VAR_DIR}, beside which the database it protects lies. Mount an Ed25519 PEM key "
        f"read-only and set {KEY_FILE_ENV}=/path/to/key.pem (or {KEY_ENV}); "
        f"'openssl genpkey -algorithm ed25519 -out key.pem' makes one. "
        f"{GENERATE_ENV}=1 allows a generated key in var/ for a throwaway deployment."
    )


def _inside_var_dir(path: Path) -> bool:
    try:
        path.resolve().relative_to(Path(settings.VAR_DIR).resolve())
    except ValueError:
        return False
    return True


def platform_private_key() -> Ed25519PrivateKey:
    """The platform's private key (see the module docstring for where it comes from)."""
    inline = os.environ.get(KEY_ENV, "").strip()
    if inline:
        return _key_from_text(inline, KEY_ENV)
    key_file = os.environ.get(KEY_FILE_ENV, "").strip()
    if key_file:
        path = Path(key_file).expanduser()
        if not key_generation_allowed() and _inside_var_dir(path):
            raise _production_refusal(f"{KEY_FILE_ENV} ({path}) lies inside the data directory")
        return _read_key_file(path, KEY_FILE_ENV)
    if not key_generation_allowed():
        raise _production_refusal(f"no signing key is configured ({KEY_FILE_ENV} and {KEY_ENV} are unset)")
    path = default_key_path()
    if not path.exists():
        _create_key_file_once(path)
    return _read_key_file(path, "the generated signing key")


def signing_key_problem() -> str | None:
    """Why the platform cannot sign now (a message for a system check), or None.

    Never generates a key: where one would be generated on first use, that is not a problem.
    """
    configured = os.environ.get(KEY_ENV, "").strip() or os.environ.get(KEY_FILE_ENV, "").strip()
    if not configured and key_generation_allowed():
        return None
    try:
        platform_private_key()
    except ImproperlyConfigured as exc:
        return str(exc)
    return None


# --- public keys and signatures ------------------------------------------------------------


def public_key_hex(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()


def platform_public_key_hex() -> str:
    return public_key_hex(platform_private_key())


def _as_bytes(data: bytes | str) -> bytes:
    return data.encode("utf-8") if isinstance(data, str) else bytes(data)


def sign_bytes(data: bytes | str, *, key: Ed25519PrivateKey | None = None) -> str:
    """Ed25519 signature (hex) of ``data`` (a str is signed as its UTF-8 bytes)."""
    return (key or platform_private_key()).sign(_as_bytes(data)).hex()


def verify_signature(public_key_hex: str, data: bytes | str, signature_hex: str) -> bool:
    """True when ``signature_hex`` is a valid Ed25519 signature of ``data`` by that key.

    Malformed keys or signatures are simply not valid: this never raises on bad input.
    """
    if not isinstance(public_key_hex, str) or not isinstance(signature_hex, str):
        return False
    if not _HEX64.match(public_key_hex) or not _HEX128.match(signature_hex):
        return False
    try:
        public = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key_hex))
        public.verify(bytes.fromhex(signature_hex), _as_bytes(data))
    except (InvalidSignature, ValueError):
        return False
    return True


def key_fingerprint(public_key_hex: str) -> str:
    """``"sha256:" + SHA-256 hex of the 32 raw public-key bytes`` (lowercase)."""
    try:
        raw = bytes.fromhex(public_key_hex)
    except (ValueError, TypeError) as exc:
        raise ValueError("a public key is 64 hexadecimal characters") from exc
    if len(raw) != 32:
        raise ValueError("a public key is 64 hexadecimal characters")
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def trusted_public_keys() -> frozenset[str]:
    """The platform's current public key plus any listed in ``CRUCIBLE_TRUSTED_KEYS`` (lowercase hex)."""
    extra = os.environ.get(TRUSTED_KEYS_ENV, "")
    listed = {item.lower() for item in re.split(r"[\s,;]+", extra) if item}
    bad = [item for item in listed if not _HEX64.match(item)]
    if bad:
        raise ImproperlyConfigured(f"{TRUSTED_KEYS_ENV} holds entries that are not 64-hex-character public keys")
    return frozenset(listed | {platform_public_key_hex()})
