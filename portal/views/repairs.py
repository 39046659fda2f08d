"""报修: my requests with their status history, a new request with photos, and the reporter's
follow-ups (confirm, reopen, rate, cancel) — each the API's service."""

from django import forms
from django.conf import settings
from django.contrib import messages as flash
from django.shortcuts import redirect

from repairs import selectors, services
from repairs.api.throttles import RepairCreateThrottle
from repairs.models import RepairStatus

from ..throttling import throttle_wait, wait_text
from .base import Page, PortalError, not_found_as_404, paginate, service_errors


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault(
            "widget", MultipleFileInput(attrs={"accept": "image/jpeg,image/png,image/gif,image/webp"})
        )
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, list | tuple):
            return [super(MultipleFileField, self).clean(item, initial) for item in data if item]
        return [super().clean(data, initial)] if data else []


class RepairForm(forms.Form):
    category = forms.ChoiceField(label="故障分类", required=False)
    location = forms.CharField(label="地点", max_length=255, help_text="如 勤学楼 201")
    description = forms.CharField(label="故障描述", max_length=2000, widget=forms.Textarea(attrs={"rows": 4}))
    photos = MultipleFileField(label="照片", required=False)

    def __init__(self, *args, categories=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.categories = {str(c.pk): c for c in categories}
        self.fields["category"].choices = [("", "不确定 / 其他"), *((str(c.pk), c.name) for c in categories)]
        self.fields["photos"].help_text = (
            f"可选，最多 {settings.REPAIRS_PHOTO_MAX_COUNT} 张，JPEG、PNG、GIF 或 WebP，"
            f"每张不超过 {settings.REPAIRS_PHOTO_MAX_BYTES // (1024 * 1024)} MB"
        )

    def clean_category(self):
        value = self.cleaned_data["category"]
        return self.categories.get(value) if value else None


class RateForm(forms.Form):
    rating = forms.TypedChoiceField(
        label="评分",
        coerce=int,
        choices=[(str(n), f"{n} 星") for n in range(5, 0, -1)],
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label="评价（可选）", max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class ReopenForm(forms.Form):
    reason = forms.CharField(
        label="仍未解决的问题", max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )


class RepairsPage(Page):
    template_name = "portal/repairs/list.html"
    title = "我的报修"
    tab = "services"

    def get(self, request):
        page_obj = paginate(request, selectors.repair_request_list_for_user(user=request.user))
        return self.render({"page_obj": page_obj, "back": "/m/services/"})


class RepairNewPage(Page):
    template_name = "portal/repairs/new.html"
    title = "新的报修"
    tab = "services"

    def _form(self, *args, **kwargs):
        return RepairForm(*args, categories=list(selectors.category_list_active()), **kwargs)

    def get(self, request):
        return self.render({"form": self._form(), "back": "/m/repairs/"})

    def post(self, request):
        form = self._form(request.POST, request.FILES)
        context = {"form": form, "back": "/m/repairs/"}
        if not form.is_valid():
            return self.invalid(context)
        wait = throttle_wait(request, RepairCreateThrottle)
        if wait is not None:
            form.add_error(None, f"报修提交过于频繁，请{wait_text(wait)}再试。")
            return self.render(context, status=429)
        data = form.cleaned_data
        try:
            with service_errors(form):
                repair = services.repair_request_create(
                    user=request.user,
                    location=data["location"],
                    description=data["description"],
                    category=data["category"],
                    photos=data["photos"],
                )
        except PortalError:
            return self.invalid(context)
        flash.success(request, "报修已提交，我们会尽快处理。")
        return redirect("portal:repair", pk=repair.pk)


class RepairPage(Page):
    template_name = "portal/repairs/detail.html"
    title = "报修详情"
    tab = "services"

    def _context(self, request, pk: int, **extra) -> dict:
        with not_found_as_404():
            repair = selectors.repair_request_get_for_user(user=request.user, request_id=pk)
        return {
            "repair": repair,
            "actions": services.reporter_actions(repair=repair),
            "rate_form": RateForm(),
            "reopen_form": ReopenForm(),
            "back": "/m/repairs/",
            **extra,
        }

    def get(self, request, pk: int):
        return self.render(self._context(request, pk))

    def post(self, request, pk: int):
        context = self._context(request, pk)
        repair = context["repair"]
        action = request.POST.get("action")
        forms_by_action = {"rate": RateForm, "confirm": RateForm, "reopen": ReopenForm, "cancel": forms.Form}
        form_class = forms_by_action.get(action)
        if form_class is None:
            return redirect("portal:repair", pk=pk)
        form = form_class(request.POST)
        if action == "confirm":
            form.fields["rating"].required = False
        context["rate_form" if form_class is RateForm else "reopen_form"] = form
        context["form"] = form
        if not form.is_valid():
            return self.invalid(context)
        data = form.cleaned_data
        try:
            with service_errors(form):
                if action == "confirm":
                    services.repair_request_confirm(
                        repair=repair,
                        by=request.user,
                        rating=data.get("rating") or None,
                        comment=data["comment"],
                    )
                    flash.success(request, "已确认解决，谢谢！")
                elif action == "rate":
                    services.repair_request_rate(
                        repair=repair, by=request.user, rating=data["rating"], comment=data["comment"]
                    )
                    flash.success(request, "评价已提交，谢谢！")
                elif action == "reopen":
                    services.repair_request_change_status(
                        repair=repair,
                        to_status=RepairStatus.PROCESSING,
                        by=request.user,
                        comment=data["reason"],
                    )
                    flash.success(request, "已重新打开，工作人员会继续处理。")
                else:
                    services.repair_request_change_status(
                        repair=repair, to_status=RepairStatus.CLOSED, by=request.user, comment="报修人撤销"
                    )
                    flash.success(request, "报修已撤销。")
        except PortalError:
            return self.invalid(context)
        return redirect("portal:repair", pk=pk)
