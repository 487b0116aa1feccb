"""How embedlab trusts a saved model folder before it unpickles anything in it.

Word vectors are saved in formats that hold only numbers and words (word2vec binary, Facebook
fastText binary, .npy without pickle, JSON), so reading them cannot run code. Only doc2vec keeps
gensim's own pickle-based save, because `infer` needs the full training state. That file is signed
when embedlab writes it: HMAC-SHA256 under a secret key that embedlab creates once per user in
`$EMBEDLAB_CONFIG_DIR` or `$XDG_CONFIG_HOME/embedlab` (default `~/.config/embedlab/signing.key`,
mode 0600). Before unpickling, the signature is checked; a file without a valid signature (made by
someone else, copied from another machine, or changed since) is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from embedlab.errors import EmbedlabError

KEY_FILE = "signing.key"
KEY_BYTES = 32


def config_dir() -> Path:
    """The user's embedlab config folder."""
    explicit = os.environ.get("EMBEDLAB_CONFIG_DIR")
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base).expanduser() / "embedlab"


def signing_key(create: bool) -> bytes | None:
    """This user's secret key; made (0600, atomically) on first use when `create`."""
    path = config_dir() / KEY_FILE
    if path.is_file():
        key = path.read_bytes()
        if len(key) != KEY_BYTES:
            raise EmbedlabError(
                f"the signing key {path} is damaged ({len(key)} bytes, expected {KEY_BYTES}).",
                "delete it to make a new one; doc2vec models signed with the old key must then be retrained.",
            )
        return key
    if not create:
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{KEY_FILE}.{secrets.token_hex(4)}")
    descriptor = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(secrets.token_bytes(KEY_BYTES))
    try:
        os.link(temp, path)  # fails if another process made the key first: then use theirs
    except FileExistsError:
        pass
    except OSError:  # a file system without hard links
        if not path.exists():
            os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)
    return path.read_bytes()


def file_hmac(path: Path, key: bytes) -> str:
    """Hex HMAC-SHA256 of a file's bytes."""
    mac = hmac.new(key, digestmod=hashlib.sha256)
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            mac.update(block)
    return mac.hexdigest()


def sign(path: Path) -> str:
    """The signature to store next to a file embedlab just wrote."""
    key = signing_key(create=True)
    assert key is not None
    return file_hmac(path, key)


def verify(path: Path, signature: str | None) -> None:
    """Refuse (EmbedlabError) unless `signature` is this user's valid signature of `path`."""
    hint = (
        "embedlab only unpickles doc2vec models that it trained for you on this account. "
        "Retrain with `embedlab train doc2vec`; the word and document vectors of this folder still load without it."
    )
    key = signing_key(create=False)
    if key is None or not signature:
        raise EmbedlabError(f"{path} is not signed by embedlab for this user, so it is not loaded.", hint)
    if not hmac.compare_digest(file_hmac(path, key), signature):
        raise EmbedlabError(f"the signature of {path} does not match: it was changed or made elsewhere.", hint)
