"""accounts endpoints under /api/v1/ (message-center style, enveloped)."""

from django.urls import path

from . import views

app_name = "accounts-v1"

urlpatterns = [
    path("me", views.MeView.as_view(), name="me"),
]
