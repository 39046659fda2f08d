"""Response headers every portal page needs, whichever view answered (one owner, no view forgets).

* ``Vary: HX-Request``: one URL serves a whole page to a browser and a fragment to htmx, so a cache
  (the browser's, WeChat's, a proxy's) must keep them apart — or the back button shows a bare
  fragment (htmx #724, #2517).
* ``Cache-Control: no-cache`` on HTML and redirects: WeChat's in-app browser keeps HTML
  stubbornly; every page is revalidated, so a deploy or a sign-out shows at once. Pages of a
  signed-in user are also ``private`` (no shared cache keeps them).
"""

from django.middleware.gzip import GZipMiddleware
from django.utils.cache import patch_cache_control, patch_vary_headers

PORTAL_PREFIX = "/m/"


def is_portal_path(path: str) -> bool:
    return path.startswith(PORTAL_PREFIX) or path == PORTAL_PREFIX.rstrip("/")


class PortalHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if is_portal_path(request.path):
            patch_vary_headers(response, ("HX-Request",))
            is_html = response.get("Content-Type", "").startswith("text/html")
            if is_html or response.status_code in (301, 302, 303, 307, 308):
                user = getattr(request, "user", None)
                if user is not None and user.is_authenticated:
                    patch_cache_control(response, no_cache=True, private=True)
                else:
                    patch_cache_control(response, no_cache=True)
        return response


class PortalGZipMiddleware(GZipMiddleware):
    """Pages are compressed (a phone on a slow network pays for every byte); the API keeps its
    answers as they are. Django's GZipMiddleware pads each response against BREACH-style
    attacks, and the CSRF token in a page is masked anew on every response."""

    def process_response(self, request, response):
        if not is_portal_path(request.path):
            return response
        return super().process_response(request, response)
