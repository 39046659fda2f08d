from django.urls import path

from . import views

app_name = "reservations"

urlpatterns = [
    path("meetingrooms/available/", views.AvailableMeetingroomsView.as_view(), name="meetingroom-available"),
    path("reservations/", views.ReservationListView.as_view(), name="reservation-list"),
    path("reservations/series/", views.SeriesListView.as_view(), name="series-list"),
    path("reservations/series/<int:pk>/", views.SeriesDetailView.as_view(), name="series-detail"),
    path("reservations/<int:pk>/", views.ReservationDetailView.as_view(), name="reservation-detail"),
]
