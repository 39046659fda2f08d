from django.urls import path

from . import views

app_name = "official"

urlpatterns = [
    path("wechat/official/", views.WebhookView.as_view(), name="webhook"),
    path("wechat/oauth/", views.OAuthCallbackView.as_view(), name="oauth-callback"),
    path("wechat/oauth/start/", views.OAuthStartView.as_view(), name="oauth-start"),
]
