"""Checks of the deployment's configuration (``manage.py check --deploy``; ``make deploy`` runs it)."""

from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Tags, Warning, register
from django.http.request import validate_host

LOOPBACK = {"127.0.0.1", "localhost", "::1", "0.0.0.0"}  # noqa: S104 - names compared, nothing bound


def site_url_problem() -> str | None:
    """What is wrong with SITE_URL for a deployment (None: nothing)."""
    parts = urlsplit(settings.SITE_URL)
    host = parts.hostname
    if parts.scheme not in ("http", "https") or not host:
        return f"SITE_URL={settings.SITE_URL!r} is not a URL such as https://portal.example.edu.cn."
    if host in LOOPBACK or host.endswith(".localhost"):
        return (
            f"SITE_URL is {settings.SITE_URL} (unset, its default is the development server): the links "
            "in mails and messages point at that machine, not at this site. Set SITE_URL to the public "
            "address, e.g. https://portal.example.edu.cn."
        )
    if not validate_host(host, settings.ALLOWED_HOSTS):
        return f"SITE_URL's host {host} is not in ALLOWED_HOSTS: the links in mails would be refused (400)."
    return None


@register(Tags.security, deploy=True)
def check_site_url(app_configs, **kwargs):
    problem = site_url_problem()
    if settings.DEBUG or problem is None:
        return []
    return [Warning(problem, id="wechathhu.W001")]
