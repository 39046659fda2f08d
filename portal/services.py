"""Writes of the portal itself: signing a browser in and out (a Django session plus its
``PageSession`` row). Every account rule is the accounts app's; these only open and close the
session that follows a successful check."""

from django.apps import apps
from django.contrib.auth import login, logout
from django.contrib.sessions.backends.base import SessionBase
from django.db import transaction
from django.utils.module_loading import import_string

from .models import PageSession

OFFICIAL_OPENID_KEY = "official_openid"


def _client_ip(request) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


@transaction.atomic
def page_session_start(*, request, user) -> PageSession:
    """Sign ``user`` in on this browser (a new session key) and record the session. A WeChat
    follower waiting in the session (the official account's OAuth found no account for it) is
    bound to ``user`` now that they have proved who they are."""
    openid = request.session.get(OFFICIAL_OPENID_KEY)
    login(request, user)
    if request.session.session_key is None:  # login() flushed another user's session
        request.session.save()
    if openid:
        _bind_official_follower(openid=openid, user=user)
        request.session.pop(OFFICIAL_OPENID_KEY, None)
    return PageSession.objects.create(
        session_key=request.session.session_key,
        user=user,
        device=(request.META.get("HTTP_USER_AGENT") or "")[:255],
        ip=_client_ip(request),
    )


def _bind_official_follower(*, openid: str, user) -> None:
    """The official account's binding (issue 19), when that app is installed."""
    if not apps.is_installed("official"):
        return
    follower_bind_user = import_string("official.services.follower_bind_user")
    follower_bind_user(openid=openid, user=user)


def page_session_end(*, request) -> None:
    """Sign this browser out."""
    key = request.session.session_key
    logout(request)
    if key:
        PageSession.objects.filter(session_key=key).delete()


@transaction.atomic
def page_session_revoke(*, user, session_id: int) -> bool:
    """Sign one of ``user``'s other browsers out; ``False`` when it is not theirs (or gone)."""
    row = PageSession.objects.select_for_update().filter(pk=session_id, user=user).first()
    if row is None:
        return False
    store_class = import_string(_session_engine() + ".SessionStore")
    store: SessionBase = store_class(session_key=row.session_key)
    store.delete(row.session_key)
    row.delete()
    return True


@transaction.atomic
def page_session_revoke_others(*, user, keep_key: str | None) -> int:
    """Sign every browser of ``user`` out except this one (``keep_key``); returns how many."""
    rows = list(PageSession.objects.select_for_update().filter(user=user).exclude(session_key=keep_key or ""))
    store_class = import_string(_session_engine() + ".SessionStore")
    for row in rows:
        store_class(session_key=row.session_key).delete(row.session_key)
    PageSession.objects.filter(pk__in=[row.pk for row in rows]).delete()
    return len(rows)


def _session_engine() -> str:
    from django.conf import settings

    return settings.SESSION_ENGINE
