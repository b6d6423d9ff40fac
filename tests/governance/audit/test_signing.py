"""The platform's Ed25519 key: where it comes from, signatures, fingerprints."""

from __future__ import annotations

import hashlib
import multiprocessing
import stat

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.exceptions import ImproperlyConfigured

from governance import signing
from tests.conftest import TEST_PUBLIC_KEY_HEX, TEST_SEED_HEX

# RFC 8032 section 7.1, test 1: the signature of the empty message by the test key.
RFC8032_EMPTY_SIGNATURE = (
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24"
    "655141438e7a100b"
)


def test_hex_seed_from_the_environment_matches_rfc8032():
    assert signing.platform_public_key_hex() == TEST_PUBLIC_KEY_HEX
    assert signing.sign_bytes(b"") == RFC8032_EMPTY_SIGNATURE
    assert signing.verify_signature(TEST_PUBLIC_KEY_HEX, b"", RFC8032_EMPTY_SIGNATURE)


def test_pem_from_the_environment_and_from_a_file(monkeypatch, tmp_path):
    key = Ed25519PrivateKey.generate()
    pem = signing.private_key_pem(key).decode()
    monkeypatch.setenv(signing.KEY_ENV, pem)
    assert signing.platform_public_key_hex() == signing.public_key_hex(key)

    path = tmp_path / "platform.pem"
    path.write_text(pem)
    monkeypatch.delenv(signing.KEY_ENV)
    monkeypatch.setenv(signing.KEY_FILE_ENV, str(path))
    assert signing.platform_public_key_hex() == signing.public_key_hex(key)


@pytest.mark.parametrize(
    "bad", ["not a key", "ab" * 31, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----"]
)
def test_a_bad_key_is_a_configuration_error_that_does_not_echo_it(monkeypatch, bad):
    monkeypatch.setenv(signing.KEY_ENV, bad)
    with pytest.raises(ImproperlyConfigured, match=signing.KEY_ENV) as excinfo:
        signing.platform_private_key()
    assert bad not in str(excinfo.value)


def test_a_missing_key_file_is_a_configuration_error(monkeypatch, tmp_path):
    monkeypatch.delenv(signing.KEY_ENV)
    monkeypatch.setenv(signing.KEY_FILE_ENV, str(tmp_path / "absent.pem"))
    with pytest.raises(ImproperlyConfigured, match="cannot be read"):
        signing.platform_private_key()


def test_without_configuration_a_key_is_generated_once_into_var(monkeypatch, settings, tmp_path):
    monkeypatch.delenv(signing.KEY_ENV)
    monkeypatch.delenv("DATABASE_URL", raising=False)  # the embedded default (production refuses: test_signing_policy)
    settings.VAR_DIR = tmp_path
    first = signing.platform_public_key_hex()
    path = tmp_path / "signing_key.pem"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    assert signing.platform_public_key_hex() == first
    assert [p.name for p in tmp_path.iterdir()] == ["signing_key.pem"]  # no temporary file left behind


def _generate_in(var_dir: str, queue) -> None:
    from django.conf import settings

    settings.VAR_DIR = var_dir
    queue.put(signing.platform_public_key_hex())


def test_processes_racing_to_generate_the_key_end_up_with_one(monkeypatch, tmp_path):
    monkeypatch.delenv(signing.KEY_ENV)
    monkeypatch.setenv(signing.GENERATE_ENV, "1")  # as the embedded default would allow
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    processes = [context.Process(target=_generate_in, args=(str(tmp_path), queue)) for _ in range(8)]
    for process in processes:
        process.start()
    keys = {queue.get(timeout=30) for _ in processes}
    for process in processes:
        process.join(timeout=30)
    assert len(keys) == 1
    assert list(tmp_path.iterdir()) == [tmp_path / "signing_key.pem"]


def test_signatures_verify_and_tampering_does_not():
    signature = signing.sign_bytes("héllo")
    assert signing.verify_signature(TEST_PUBLIC_KEY_HEX, "héllo".encode(), signature)
    assert not signing.verify_signature(TEST_PUBLIC_KEY_HEX, "hello", signature)
    other = signing.public_key_hex(Ed25519PrivateKey.generate())
    assert not signing.verify_signature(other, "héllo", signature)


@pytest.mark.parametrize(
    ("key", "sig"),
    [("zz" * 32, "00" * 64), (TEST_PUBLIC_KEY_HEX, "00"), ("00" * 31, "00" * 64), (None, "00" * 64),
     (TEST_PUBLIC_KEY_HEX, "gg" * 64)],
)
def test_malformed_keys_and_signatures_are_just_invalid(key, sig):
    assert signing.verify_signature(key, b"data", sig) is False


def test_fingerprint():
    expected = "sha256:" + hashlib.sha256(bytes.fromhex(TEST_PUBLIC_KEY_HEX)).hexdigest()
    assert signing.key_fingerprint(TEST_PUBLIC_KEY_HEX) == expected
    with pytest.raises(ValueError):
        signing.key_fingerprint("abc")


def test_trusted_keys(monkeypatch):
    other = signing.public_key_hex(Ed25519PrivateKey.generate())
    assert signing.trusted_public_keys() == {TEST_PUBLIC_KEY_HEX}
    monkeypatch.setenv(signing.TRUSTED_KEYS_ENV, f"{other.upper()},\n{TEST_SEED_HEX}")
    assert signing.trusted_public_keys() == {TEST_PUBLIC_KEY_HEX, other, TEST_SEED_HEX}
    monkeypatch.setenv(signing.TRUSTED_KEYS_ENV, "nope")
    with pytest.raises(ImproperlyConfigured):
        signing.trusted_public_keys()
