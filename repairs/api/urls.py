from django.urls import path

from . import views

app_name = "repairs"

urlpatterns = [
    path("repairs/categories/", views.CategoryListView.as_view(), name="category-list"),
    path("repairs/", views.RepairListCreateView.as_view(), name="repair-list"),
    path("repairs/<int:pk>/", views.RepairDetailView.as_view(), name="repair-detail"),
    path("repairs/<int:pk>/confirm/", views.RepairConfirmView.as_view(), name="repair-confirm"),
    path("repairs/<int:pk>/reopen/", views.RepairReopenView.as_view(), name="repair-reopen"),
    path("repairs/<int:pk>/cancel/", views.RepairCancelView.as_view(), name="repair-cancel"),
    path("repairs/<int:pk>/rate/", views.RepairRateView.as_view(), name="repair-rate"),
    path("repairs/<int:pk>/photos/<int:photo_pk>/", views.RepairPhotoView.as_view(), name="repair-photo"),
]
