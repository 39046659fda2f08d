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

What the QR code shows is a URL, ``<SITE_URL>/m/c/<key>/``: any phone camera or WeChat's own
scanner opens the portal's clock-in page with it. The mini-program scans the same code unchanged
and sends the URL as its ``key``; ``check_key`` accepts the bare key and that URL alike.

Where no camera is available, the screen also shows a six-digit short code (an HMAC over the same
item and step, under another salt) that a person types on the activity's page.
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
# The key inside a scanned URL: the path segment after /m/c/ (any host: the signature decides).
URL_KEY_RE = re.compile(r"^https?://[^/?#\s]{1,255}/m/c/(HHUCK1\.[0-9A-Za-z_.-]{1,80})/?(?:[?#].*)?$")
SALT = "activities.clockin.qr"
SHORT_SALT = "activities.clockin.short"
SHORT_DIGITS = 6


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


def scan_url(key: str) -> str:
    """What the QR code encodes: the portal's clock-in page for ``key``."""
    return f"{settings.SITE_URL}/m/c/{key}/"


def key_from_scan(text: object) -> object:
    """The key inside a scanned text: a URL made by ``scan_url`` gives its key, anything else is
    returned as it came (a bare key, or something ``check_key`` will refuse)."""
    if isinstance(text, str):
        match = URL_KEY_RE.fullmatch(text.strip())
        if match:
            return match[1]
    return text


def short_code(item_id: int, *, step: int | None = None) -> str:
    """The six-digit code typed where no camera is available (rotates with the QR code)."""
    step = current_step() if step is None else step
    digest = salted_hmac(
        SHORT_SALT,
        f"{item_id}:{step}",
        secret=settings.ACTIVITIES_CLOCKIN_SECRET or None,
        algorithm="sha256",
    ).digest()
    return str(int.from_bytes(digest[:8], "big") % 10**SHORT_DIGITS).zfill(SHORT_DIGITS)


def check_short_code(item_ids, code: object, *, now: float | None = None) -> int | None:
    """The item among ``item_ids`` whose code for the current or the previous step is ``code``
    (spaces ignored), or ``None``. Never raises."""
    if not isinstance(code, str):
        return None
    code = "".join(code.split())
    if len(code) != SHORT_DIGITS or not code.isdigit():
        return None
    now_step = current_step(now)
    for item_id in item_ids:
        for step in (now_step, now_step - 1):
            if hmac.compare_digest(code, short_code(item_id, step=step)):
                return item_id
    return None


@dataclass(frozen=True)
class Verdict:
    item_id: int | None
    valid: bool  # the signature verifies
    fresh: bool  # the step is the current or the previous one


def check_key(key: object, *, now: float | None = None) -> Verdict:
    """Verify a scanned QR text (the bare key, or the URL the QR code shows). Never raises,
    whatever the input."""
    key = key_from_scan(key)
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
