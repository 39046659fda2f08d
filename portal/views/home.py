"""首页 and 服务: where a signed-in user starts, and the list of everything the portal offers."""

from django.shortcuts import redirect

from messaging.selectors import message_inbox, message_unread_count
from reservations.selectors import reservation_list_upcoming

from .base import Page

HOME_MESSAGES = 3
HOME_BOOKINGS = 3


class HomePage(Page):
    template_name = "portal/home.html"
    title = "计信院微服务"
    tab = "home"

    def get(self, request):
        user = request.user
        return self.render(
            {
                "unread_count": message_unread_count(user=user),
                "latest_messages": message_inbox(user=user)[:HOME_MESSAGES],
                "bookings": list(reservation_list_upcoming(user=user)[:HOME_BOOKINGS]),
            }
        )


class ServicesPage(Page):
    template_name = "portal/services.html"
    title = "服务"
    tab = "services"

    def get(self, request):
        from messaging.selectors import user_can_send

        return self.render({"can_send": user_can_send(user=request.user)})


def root_redirect(request):
    """``/m`` without its slash."""
    return redirect("portal:home")
