"""Checks of the deployment's configuration (``manage.py check --deploy``; ``make deploy`` runs it)."""

from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.http.request import validate_host

from wechathhu.env import RATE

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


@register()
def check_rates(app_configs, **kwargs):
    """Every throttle rate (DRF's, and each setting named *_RATE) reads as N/period now, not as a
    500 at the first throttled request. (Settings read with ``env.rate`` already stop start-up.)"""
    rates = {
        f"DEFAULT_THROTTLE_RATES[{k!r}]": v
        for k, v in settings.REST_FRAMEWORK.get("DEFAULT_THROTTLE_RATES", {}).items()
    }
    rates.update({name: getattr(settings, name) for name in dir(settings) if name.endswith("_RATE")})
    return [
        Error(
            f"{name} = {value!r} is not a rate such as 10/min (periods: s, min, hour, day).",
            id="wechathhu.E001",
        )
        for name, value in rates.items()
        if isinstance(value, str) and not RATE.match(value)
    ]
