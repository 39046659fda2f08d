from django.urls import path

from . import views

app_name = "guides"

urlpatterns = [
    path("guides/", views.GuideListView.as_view(), name="guide-list"),
    path("guides/<int:pk>/", views.GuideDownloadView.as_view(), name="guide-detail"),
    path("guides/<int:pk>/email/", views.GuideEmailView.as_view(), name="guide-email"),
    path("guides/links/<str:token>/", views.GuideLinkDownloadView.as_view(), name="guide-link"),
]
