"""通讯录: search the directory, my colleagues and friends, a person's card (with call and mail
links, as their privacy allows), add or remove a friend; my groups and their members (managed by
the groups' managers)."""

from django import forms
from django.contrib import messages as flash
from django.http import Http404

from accounts import selectors
from accounts.api.serializers import avatar_url
from accounts.privacy import ContactVisibility
from accounts.services import friends as friend_services
from accounts.services import groups as group_services

from ..forms import ContactSearchForm
from .base import (
    Page,
    PortalError,
    not_found_as_404,
    page_without_count,
    paginate,
    redirect_back,
    service_errors,
    wants_fragment,
)

CONTACTS_PER_PAGE = 50
MORE_TARGET = "contacts-more"  # the 加载更多 link's place: an htmx request for it gets the next rows


def _entry(row, visibility: ContactVisibility) -> dict:
    """A directory row as the page shows it: the fields the viewer may see, others None."""
    return {
        "row": row,
        "full_name": f"{row.last_name}{row.first_name}",
        "avatar_url": avatar_url(row.pk, row.avatar),
        "card": visibility.card(row),
        "is_friend": visibility.is_friend(row),
    }


class ContactsPage(Page):
    template_name = "portal/contacts/list.html"
    fragment_template = "portal/contacts/_results.html"
    more_template = "portal/contacts/_more.html"
    title = "通讯录"
    tab = "contacts"

    def get(self, request):
        form = ContactSearchForm(request.GET or None)
        search, scope = "", "mine"
        if form.is_bound:
            if not form.is_valid():
                return self.invalid({"form": form, "page_obj": None, "entries": []})
            search, scope = form.cleaned_data["q"], form.cleaned_data["scope"] or "mine"
        if search and not request.GET.get("scope"):
            scope = "all"  # a search looks in the whole directory unless narrowed
        visibility = ContactVisibility(request.user)
        queryset = selectors.contact_list(
            visibility=visibility, colleagues_only=scope == "mine", search=search
        )
        # No count: the whole directory is tens of thousands of people, read a page at a time
        # (下一页 links; with htmx, 加载更多 appends the next page in place).
        page_obj = page_without_count(request, selectors.contact_rows(queryset), per_page=CONTACTS_PER_PAGE)
        entries = [_entry(row, visibility) for row in page_obj.object_list]
        context = {"form": form, "page_obj": page_obj, "entries": entries, "scope": scope, "search": search}
        if wants_fragment(request) and request.htmx.target == MORE_TARGET:
            return self.render(context, template=self.more_template)
        return self.render(context)


def _person(request, user_id: int):
    visibility = ContactVisibility(request.user)
    row = selectors.contact_rows(selectors.contact_list(visibility=visibility).filter(pk=user_id)).first()
    if row is None:
        raise Http404("该用户不存在。")
    return _entry(row, visibility)


class PersonPage(Page):
    template_name = "portal/contacts/person.html"
    title = "名片"
    tab = "contacts"

    def get(self, request, user_id: int):
        return self.render({"person": _person(request, user_id), "back": "/m/contacts/"})


class FriendPage(Page):
    """POST adds the person to my friends, POST with ``remove`` removes them."""

    template_name = "portal/contacts/person.html"
    title = "名片"
    tab = "contacts"

    def post(self, request, user_id: int):
        person = _person(request, user_id)
        friend = selectors.user_get_active(user_id=user_id)
        form = ContactSearchForm()
        try:
            with service_errors(form):
                if request.POST.get("remove"):
                    friend_services.friendship_delete(user=request.user, friend=friend)
                    flash.success(request, f"已将{person['full_name']}移出好友。")
                else:
                    friend_services.friendship_create(user=request.user, friend=friend)
                    flash.success(request, f"已添加{person['full_name']}为好友。")
        except PortalError:
            return self.invalid({"person": person, "form": form, "back": "/m/contacts/"})
        return redirect_back(request, f"/m/contacts/{user_id}/")


# --- 分组 (groups): mine, their members; managers add, retitle and remove members --------------


class MemberForm(forms.Form):
    action = forms.ChoiceField(choices=[("add", "add"), ("title", "title"), ("remove", "remove")])
    user_id = forms.IntegerField(min_value=1, max_value=2**62)
    title = forms.CharField(label="职务", required=False, max_length=50)


class GroupsPage(Page):
    template_name = "portal/contacts/groups.html"
    title = "我的分组"
    tab = "contacts"

    def get(self, request):
        page_obj = paginate(request, selectors.group_list_for_user(user=request.user))
        return self.render({"page_obj": page_obj, "back": "/m/contacts/"})


class GroupPage(Page):
    """A group's members (members and staff may look). Its managers (and staff) find people to
    add by number, name or pinyin, change a member's title and remove members — the API's
    services and their rules."""

    template_name = "portal/contacts/group.html"
    title = "分组成员"
    tab = "contacts"

    def _context(self, request, group_id: int, form=None) -> dict:
        with not_found_as_404():
            group = selectors.group_get_for_user(user=request.user, group_id=group_id)
        can_manage = selectors.group_can_manage(group=group, user=request.user)
        page_obj = paginate(request, selectors.group_member_list(group=group), per_page=CONTACTS_PER_PAGE)
        search_form = ContactSearchForm(request.GET or None)
        found = []
        if can_manage and search_form.is_bound and search_form.is_valid() and search_form.cleaned_data["q"]:
            people = list(
                selectors.user_search(query=search_form.cleaned_data["q"]).select_related("department")[
                    :FOUND_LIMIT
                ]
            )
            present = set(
                selectors.group_member_list(group=group)
                .filter(user_id__in=[person.pk for person in people])
                .values_list("user_id", flat=True)
            )
            found = [{"user": person, "member": person.pk in present} for person in people]
        return {
            "group": group,
            "can_manage": can_manage,
            "page_obj": page_obj,
            "search_form": search_form,
            "found": found,
            "form": form or MemberForm(),
            "back": "/m/groups/",
        }

    def get(self, request, group_id: int):
        return self.render(self._context(request, group_id))

    def post(self, request, group_id: int):
        form = MemberForm(request.POST)
        context = self._context(request, group_id, form)
        group = context["group"]
        if not form.is_valid():
            return self.invalid(context)
        data = form.cleaned_data
        try:
            with service_errors(form):
                if data["action"] == "add":
                    with not_found_as_404():
                        user = selectors.user_get_active(user_id=data["user_id"])
                    group_services.group_member_add(
                        group=group, user=user, by=request.user, title=data["title"]
                    )
                    flash.success(request, f"已将{user.last_name}{user.first_name}加入{group.name}。")
                else:
                    with not_found_as_404():
                        membership = selectors.group_membership_get(group=group, user_id=data["user_id"])
                    name = f"{membership.user.last_name}{membership.user.first_name}"
                    if data["action"] == "title":
                        group_services.group_member_update(
                            membership=membership, by=request.user, title=data["title"]
                        )
                        flash.success(request, f"已更新{name}的职务。")
                    else:
                        group_services.group_member_remove(membership=membership, by=request.user)
                        flash.success(request, f"已将{name}移出{group.name}。")
        except PortalError:
            return self.invalid(context)
        return redirect_back(request, f"/m/groups/{group.pk}/")


FOUND_LIMIT = 20
