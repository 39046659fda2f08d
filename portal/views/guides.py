"""服务指南: guides by category, search, download (the API's download, signed in by the session),
and e-mail to me."""

from django.contrib import messages as flash
from django.shortcuts import redirect

from guides import selectors, services
from guides.api.throttles import MAIL_THROTTLED, MailRateThrottle
from guides.filters import GuideFilter

from ..forms import SearchForm
from ..throttling import throttle_wait, wait_text
from .base import Page, PortalError, not_found_as_404, service_errors

GUIDES_LIMIT = 200


class GuidesPage(Page):
    template_name = "portal/guides/list.html"
    fragment_template = "portal/guides/_results.html"
    title = "服务指南"
    tab = "services"

    def get(self, request):
        form = SearchForm(request.GET or None)
        search = form.cleaned_data["q"] if form.is_valid() else ""
        filterset = GuideFilter({"search": search}, queryset=selectors.guide_list_published())
        guides = list(filterset.qs[: GUIDES_LIMIT + 1])
        groups: dict = {}
        for guide in guides[:GUIDES_LIMIT]:
            groups.setdefault(guide.category_id, {"category": guide.category, "guides": []})["guides"].append(
                guide
            )
        return self.render(
            {
                "form": form,
                "search": search,
                "groups": list(groups.values()),
                "truncated": len(guides) > GUIDES_LIMIT,
                "back": "/m/services/",
            }
        )


class GuidePage(Page):
    template_name = "portal/guides/detail.html"
    title = "服务指南"
    tab = "services"

    def get(self, request, pk: int):
        with not_found_as_404():
            guide = selectors.guide_get_published(guide_id=pk)
        return self.render({"guide": guide, "back": "/m/guides/", "form": SearchForm()})

    def post(self, request, pk: int):
        """E-mail the guide to my address (queued: the answer means "on its way")."""
        with not_found_as_404():
            guide = selectors.guide_get_published(guide_id=pk)
        form = SearchForm()
        context = {"guide": guide, "back": "/m/guides/", "form": form}
        wait = throttle_wait(request, MailRateThrottle)
        if wait is not None:
            form.add_error(None, f"{MAIL_THROTTLED}请{wait_text(wait)}再试。")
            return self.render(context, status=429)
        try:
            with service_errors(form):
                services.guide_mail_request_create(user=request.user, guide_id=guide.pk)
        except PortalError:
            return self.invalid(context)
        flash.success(request, f"已提交发送，指南将发到 {request.user.email}，请稍后查收。")
        return redirect("portal:guide", pk=guide.pk)
