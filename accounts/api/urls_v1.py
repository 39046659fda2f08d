"""accounts endpoints under /api/v1/ (message-center style, enveloped)."""

from django.urls import path

from .views import current_user

app_name = "accounts-v1"

urlpatterns = [
    path("me", current_user.MeView.as_view(), name="me"),
]
