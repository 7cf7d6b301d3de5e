"""The secret key behind every pseudonym, UID and date shift.

Everything derived here is a pure function of the key and the input value
(HMAC-SHA256), so workers, runs and machines agree without shared state. The
key itself is never written to an output, a log or a ``repr``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from pathlib import Path

from medscrub.errors import ProfileError

__all__ = ["KEY_ENV", "SecretKey"]

#: Environment variable read for the key when no option gives one.
KEY_ENV = "MEDSCRUB_KEY"
_MIN_KEY_BYTES = 16
_MAX_SHIFT_DAYS = 3652


class SecretKey:
    """An HMAC key and the values derived from it.

    Parameters
    ----------
    secret : bytes
        At least 16 bytes of key material.
    generated : bool
        True when the key was made up for this run (results not linkable).
    """

    __slots__ = ("_secret", "_uids", "generated")

    def __init__(self, secret: bytes, *, generated: bool = False) -> None:
        if len(secret) < _MIN_KEY_BYTES:
            raise ProfileError(f"the key must hold at least {_MIN_KEY_BYTES} bytes")
        self._secret = secret
        self._uids: dict[str, str] = {}
        self.generated = generated

    def __repr__(self) -> str:
        return f"SecretKey(<hidden>, generated={self.generated})"

    def __reduce__(self) -> tuple[type[SecretKey], tuple[bytes, bool]]:
        # Pickled only to reach worker processes of the same run.
        return (_rebuild, (self._secret, self.generated))  # type: ignore[return-value]

    @classmethod
    def random(cls) -> SecretKey:
        """A fresh key for one run; its outputs cannot be linked to other runs."""
        return cls(secrets.token_bytes(32), generated=True)

    @classmethod
    def from_text(cls, text: str) -> SecretKey:
        """A key from a passphrase or a hex/base64 string given by the user."""
        return cls(text.strip().encode("utf-8"))

    @classmethod
    def resolve(cls, key: str | None = None, key_file: str | Path | None = None) -> SecretKey:
        """The key from an option, else a key file, else ``$MEDSCRUB_KEY``, else random."""
        if key:
            return cls.from_text(key)
        if key_file is not None:
            try:
                return cls.from_text(Path(key_file).read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError) as exc:
                raise ProfileError(
                    f"{key_file}: cannot read key file ({exc.__class__.__name__})"
                ) from None
        env = os.environ.get(KEY_ENV)
        if env:
            return cls.from_text(env)
        return cls.random()

    def digest(self, purpose: str, value: str) -> bytes:
        """HMAC-SHA256 of `value` for one `purpose` (domain separation)."""
        msg = purpose.encode("ascii") + b"\x00" + value.encode("utf-8", "surrogateescape")
        return hmac.new(self._secret, msg, hashlib.sha256).digest()

    def uid(self, uid: str) -> str:
        """The ``2.25.`` UID that replaces `uid`; the same for the same key."""
        new = self._uids.get(uid)
        if new is None:
            new = f"2.25.{int.from_bytes(self.digest('uid', uid)[:16], 'big')}"
            if len(self._uids) > 1_000_000:
                self._uids.clear()
            self._uids[uid] = new
        return new

    def day_shift(self, patient: str) -> int:
        """Days (negative, never 0) by which the dates of `patient` move."""
        n = int.from_bytes(self.digest("days", patient)[:8], "big")
        return -(1 + n % _MAX_SHIFT_DAYS)

    def token(self, purpose: str, value: str, length: int = 10) -> str:
        """An upper-case base32 pseudonym of `value`, `length` characters long."""
        raw = base64.b32encode(self.digest(purpose, value)).decode("ascii")
        return raw[:length]


def _rebuild(secret: bytes, generated: bool) -> SecretKey:
    return SecretKey(secret, generated=generated)
