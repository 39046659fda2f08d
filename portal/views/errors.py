"""Error pages: the portal's own under ``/m/``, JSON in the envelope under ``/api/``, Django's (or
DRF's) everywhere else."""

from django.http import JsonResponse
from django.template.response import TemplateResponse
from django.views import defaults
from django.views.csrf import csrf_failure as django_csrf_failure
from rest_framework.exceptions import NotFound

from wechathhu.api.renderers import envelope

from ..middleware import is_portal_path


def page_not_found(request, exception):
    if request.path.startswith("/api/"):
        # The message-center's clients read JSON in the envelope, for a path that does not exist too.
        body = envelope({"detail": NotFound.default_detail}, status_code=404)
        return JsonResponse(body, status=404, json_dumps_params={"ensure_ascii": False})
    if is_portal_path(request.path):
        return TemplateResponse(
            request, "portal/errors/404.html", {"title": "页面不存在"}, status=404
        ).render()
    return defaults.page_not_found(request, exception)


def permission_denied(request, exception):
    if is_portal_path(request.path):
        message = str(exception) if exception and str(exception) else ""
        return TemplateResponse(
            request, "portal/errors/403.html", {"title": "无权访问", "message": message}, status=403
        ).render()
    return defaults.permission_denied(request, exception)


def csrf_failure(request, reason=""):
    if is_portal_path(request.path):
        return TemplateResponse(
            request, "portal/errors/csrf.html", {"title": "页面已过期"}, status=403
        ).render()
    return django_csrf_failure(request, reason=reason)
