"""Plain Django views (no DRF)."""

from django.conf import settings
from django.http import Http404, HttpResponse

CEILING_BODY = b'{"code":200,"message":"pong","data":null}'


def bench_ceiling(request):
    """The benchmark's ceiling (``BENCH_CEILING``, off by default): a Django view with no
    authentication, no DRF and no database, served by the same WSGI server and middleware as
    every request, so ``ping`` and the rest are measured against the limit of the framework."""
    if not settings.BENCH_CEILING:
        raise Http404
    return HttpResponse(CEILING_BODY, content_type="application/json")
