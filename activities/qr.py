"""The rotating clock-in QR code: a time-step token, nothing stored.

The QR text is ``HHUCK1.<item id>.<time step>.<signature>`` where the time step is
``floor(unix time / ACTIVITIES_CLOCKIN_STEP_SECONDS)`` and the signature is the first 128 bits
of an HMAC-SHA256 (keyed by the server secret) over the item and the step, base64url-encoded.

* Every screen computes the same code for the same item and step, and a new item works from
  its first second: there is no key to generate or store.
* A scan is accepted for the current step and the previous one (RFC 6238's one-step grace), so
  a code that rotates while the phone is sending still counts. Older codes are refused as expired;
  a code that does not verify (forged, altered, another item's signature) is refused as invalid.
* Time is the server's only; the client's clock is never consulted.
"""

from __future__ import annotations

import base64
import hmac
import re
import time
from dataclasses import dataclass

from django.conf import settings
from django.utils.crypto import salted_hmac

PREFIX = "HHUCK1"
KEY_RE = re.compile(r"^HHUCK1\.(\d{1,12})\.(\d{1,12})\.([A-Za-z0-9_-]{22})$")
SALT = "activities.clockin.qr"


def step_seconds() -> int:
    return max(int(settings.ACTIVITIES_CLOCKIN_STEP_SECONDS), 1)


def current_step(now: float | None = None) -> int:
    return int((time.time() if now is None else now) // step_seconds())


def seconds_left(now: float | None = None) -> int:
    """Whole seconds until the code on screen rotates (1 … step)."""
    now = time.time() if now is None else now
    step = step_seconds()
    return max(1, int(step - (now % step) + 0.999))


def _signature(item_id: int, step: int) -> str:
    digest = salted_hmac(
        SALT, f"{item_id}:{step}", secret=settings.ACTIVITIES_CLOCKIN_SECRET or None, algorithm="sha256"
    ).digest()
    return base64.urlsafe_b64encode(digest[:16]).decode().rstrip("=")


def make_key(item_id: int, *, step: int | None = None) -> str:
    step = current_step() if step is None else step
    return f"{PREFIX}.{item_id}.{step}.{_signature(item_id, step)}"


@dataclass(frozen=True)
class Verdict:
    item_id: int | None
    valid: bool  # the signature verifies
    fresh: bool  # the step is the current or the previous one


def check_key(key: object, *, now: float | None = None) -> Verdict:
    """Verify a scanned QR text. Never raises, whatever the input."""
    if not isinstance(key, str):
        return Verdict(None, False, False)
    match = KEY_RE.fullmatch(key.strip())
    if not match:
        return Verdict(None, False, False)
    item_id, step, signature = int(match[1]), int(match[2]), match[3]
    if not hmac.compare_digest(signature, _signature(item_id, step)):
        return Verdict(None, False, False)
    now_step = current_step(now)
    # A step from the future cannot come from our own screens: treat it like a forged code.
    if step > now_step:
        return Verdict(None, False, False)
    return Verdict(item_id, True, step >= now_step - 1)
