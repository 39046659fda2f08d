"""通讯录: search the directory, my colleagues and friends, a person's card (with call and mail
links, as their privacy allows), add or remove a friend."""

from django.contrib import messages as flash
from django.http import Http404

from accounts import selectors
from accounts.privacy import ContactVisibility
from accounts.services import friends as friend_services

from ..forms import ContactSearchForm
from .base import Page, PortalError, paginate, redirect_back, service_errors

CONTACTS_PER_PAGE = 50


def _entry(row, visibility: ContactVisibility) -> dict:
    """A directory row as the page shows it: the fields the viewer may see, others None."""
    return {
        "row": row,
        "full_name": f"{row.last_name}{row.first_name}",
        "card": visibility.card(row),
        "is_friend": visibility.is_friend(row),
    }


class ContactsPage(Page):
    template_name = "portal/contacts/list.html"
    fragment_template = "portal/contacts/_results.html"
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
        page_obj = paginate(request, selectors.contact_rows(queryset), per_page=CONTACTS_PER_PAGE)
        entries = [_entry(row, visibility) for row in page_obj.object_list]
        return self.render(
            {"form": form, "page_obj": page_obj, "entries": entries, "scope": scope, "search": search}
        )


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
