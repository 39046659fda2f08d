from django.urls import path

from . import views

app_name = "activities"

# `activities/clockins/...` comes before `activities/<pk>/`, as in the original.
urlpatterns = [
    path("activities/clockins/", views.ClockinScanView.as_view(), name="clockin-scan"),
    path("activities/clockins/<int:activity_id>/", views.ClockinListView.as_view(), name="clockin-list"),
    path("activities/", views.ActivityListView.as_view(), name="activity-list"),
    path("activities/<int:pk>/", views.ActivityDetailView.as_view(), name="activity-detail"),
    path("activities/<int:activity_id>/clockin-code/", views.ClockinCodeView.as_view(), name="clockin-code"),
    path("enrollments/", views.EnrollmentCreateView.as_view(), name="enrollment-create"),
    path("enrollments/<int:pk>/", views.EnrollmentDetailView.as_view(), name="enrollment-detail"),
]
