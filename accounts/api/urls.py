from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("auth/get-token/", views.GetTokenView.as_view(), name="get-token"),
    path("auth/wechat-code2token/", views.WeChatCodeToTokenView.as_view(), name="wechat-code2token"),
    path("auth/wechat-auth/", views.WeChatAuthView.as_view(), name="wechat-auth"),
    path("auth/logout/", views.LogoutView.as_view(), name="logout"),
    path("auth/tokens/", views.TokenListView.as_view(), name="token-list"),
    path("auth/tokens/<int:pk>/", views.TokenDetailView.as_view(), name="token-detail"),
    path("current-user/", views.CurrentUserView.as_view(), name="current-user"),
    path("current-user/meta/", views.CurrentUserMetaView.as_view(), name="current-user-meta"),
    path("contacts/", views.ContactListView.as_view(), name="contact-list"),
    path("friends/<int:user_id>/", views.FriendView.as_view(), name="friend"),
    path("departments/", views.DepartmentListView.as_view(), name="department-list"),
]
