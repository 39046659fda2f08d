"""What every portal page shares: sign-in, the page/fragment choice, and turning a service's
refusal into a form error (never a 500).

Pages hold no rule of their own: they parse the request with a form (types and sizes only), call
the same service or selector as the API, and show what it decided.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlencode

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.paginator import EmptyPage, Paginator
from django.db import DatabaseError
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse_lazy
from django.views import View

from wechathhu.api.exceptions import SERVICE_BUSY, is_cache_outage, is_transient_database_error
from wechathhu.core.errors import ApplicationError

logger = logging.getLogger(__name__)

LOGIN_URL = reverse_lazy("portal:login")
PAGE_SIZE = 20


class PortalError(Exception):
    """A refusal that was recorded on a form: the view re-renders the form (status 400)."""


def wants_fragment(request) -> bool:
    """An htmx request for a piece of the page (not a boosted navigation, not a history restore):
    those get the whole page, so every pushed URL can be rebuilt from the server alone."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def add_error(form, exc: Exception) -> None:
    """Put a service's refusal on ``form``: on the field it names when the form has that field,
    otherwise at the top of the form."""
    if not hasattr(form, "cleaned_data"):  # a form used only to carry the refusal
        form.cleaned_data = {}
    if isinstance(exc, ApplicationError):
        field = exc.field if exc.field in form.fields else None
        form.add_error(field, exc.message)
        return
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            for field, errors in exc.error_dict.items():
                target = field if field in form.fields else None
                for error in errors:
                    form.add_error(target, error.messages[0] if error.messages else str(error))
        else:
            for message in exc.messages:
                form.add_error(None, message)
        return
    form.add_error(None, SERVICE_BUSY)


@contextmanager
def service_errors(form):
    """Run a service call; its refusal becomes a form error and ``PortalError`` is raised.

    404 and 403 refusals are not form errors: they are the page's own answer (someone else's
    object is a 404). A deadlock or an unreachable Redis asks the user to retry.
    """
    try:
        yield
    except ApplicationError as exc:
        if exc.status == 404:
            raise Http404(exc.message)
        if exc.status == 403:
            raise DjangoPermissionDenied(exc.message)
        add_error(form, exc)
        raise PortalError from exc
    except DjangoValidationError as exc:
        add_error(form, exc)
        raise PortalError from exc
    except (DatabaseError, OverflowError) as exc:
        if isinstance(exc, DatabaseError) and not is_transient_database_error(exc):
            raise
        logger.warning("Page answered a transient failure as a form error: %r", exc)
        form.add_error(None, "请求中的数值超出范围。" if isinstance(exc, OverflowError) else SERVICE_BUSY)
        raise PortalError from exc
    except Exception as exc:
        if not is_cache_outage(exc):
            raise
        form.add_error(None, SERVICE_BUSY)
        raise PortalError from exc


@contextmanager
def not_found_as_404():
    """A selector's ``NotFoundError`` (someone else's object, or none) is the page's 404."""
    try:
        yield
    except ApplicationError as exc:
        if exc.status == 404:
            raise Http404(exc.message)
        if exc.status == 403:
            raise DjangoPermissionDenied(exc.message)
        raise


class Page(LoginRequiredMixin, View):
    """A page of a signed-in user. ``render`` gives the whole page, or only ``fragment_template``
    to an htmx request for a fragment."""

    login_url = LOGIN_URL
    template_name: str = ""
    fragment_template: str | None = None
    title: str = ""
    tab: str = ""  # which tab-bar entry is current

    def render(self, context: dict | None = None, *, status: int = 200, template: str | None = None):
        context = {"title": self.title, "tab": self.tab, **(context or {})}
        name = template or self.template_name
        if template is None and self.fragment_template and wants_fragment(self.request):
            name = self.fragment_template
        return TemplateResponse(self.request, name, context, status=status)

    def invalid(self, context: dict):
        """A form with errors, answered 400 (htmx swaps it too: see the base layout's config)."""
        return self.render(context, status=400)


def paginate(request, queryset, *, per_page: int = PAGE_SIZE):
    """A page of ``queryset`` (``?page=N``, out-of-range numbers give the last page): two queries,
    whatever the page size."""
    paginator = Paginator(queryset, per_page)
    raw = request.GET.get("page", "1")
    number = int(raw) if raw.isdigit() and len(raw) < 7 else 1
    try:
        return paginator.page(number)
    except EmptyPage:
        return paginator.page(paginator.num_pages)


@dataclass
class MorePage:
    """A page of a list read without counting it (``page_without_count``): what the pager needs to
    link to the previous and the next page, not how many pages there are."""

    object_list: list
    number: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_other_pages(self) -> bool:
        return self.has_next or self.has_previous

    def next_page_number(self) -> int:
        return self.number + 1

    def previous_page_number(self) -> int:
        return self.number - 1


def page_without_count(request, queryset, *, per_page: int = PAGE_SIZE) -> MorePage:
    """A page of ``queryset`` (``?page=N``) as one query of ``per_page + 1`` rows: the extra row
    only says whether there is a next page. For long lists (the whole directory) where a
    ``COUNT(*)`` would cost as much as the page; a page past the end is empty."""
    raw = request.GET.get("page", "1")
    number = int(raw) if raw.isdigit() and 0 < len(raw) < 7 and int(raw) > 0 else 1
    start = (number - 1) * per_page
    rows = list(queryset[start : start + per_page + 1])
    return MorePage(object_list=rows[:per_page], number=number, has_next=len(rows) > per_page)


def page_url(request, **changes) -> str:
    """The current URL with some query parameters changed (``None`` removes one)."""
    params = request.GET.copy()
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = value
    query = urlencode(sorted((k, v) for k in params for v in params.getlist(k)))
    return f"{request.path}?{query}" if query else request.path


def back_to(request, default: str) -> str:
    """Where to go after a form: ``next`` when it is a portal path, else ``default``."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target.startswith("/m/") and "//" not in target and "\\" not in target:
        return target
    return str(default)


def redirect_back(request, default: str):
    return redirect(back_to(request, default))
