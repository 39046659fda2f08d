from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("auth/get-token/", views.GetTokenView.as_view(), name="get-token"),
    path("auth/wechat-code2token/", views.WeChatCodeToTokenView.as_view(), name="wechat-code2token"),
    path("auth/wechat-auth/", views.WeChatAuthView.as_view(), name="wechat-auth"),
    path("auth/claim/", views.ClaimView.as_view(), name="claim"),
    path("auth/register/", views.RegisterView.as_view(), name="register"),
    path("auth/logout/", views.LogoutView.as_view(), name="logout"),
    path("auth/tokens/", views.TokenListView.as_view(), name="token-list"),
    path("auth/tokens/<int:pk>/", views.TokenDetailView.as_view(), name="token-detail"),
    path("current-user/", views.CurrentUserView.as_view(), name="current-user"),
    path("current-user/meta/", views.CurrentUserMetaView.as_view(), name="current-user-meta"),
    path("current-user/avatar/", views.CurrentUserAvatarView.as_view(), name="current-user-avatar"),
    path("avatars/<int:user_id>/<str:key>.jpg", views.AvatarView.as_view(), name="avatar"),
    path("users/search/", views.UserSearchView.as_view(), name="user-search"),
    path("contacts/", views.ContactListView.as_view(), name="contact-list"),
    path("friends/<int:user_id>/", views.FriendView.as_view(), name="friend"),
    path("groups/", views.GroupListView.as_view(), name="group-list"),
    path("groups/<int:group_id>/members/", views.GroupMemberListView.as_view(), name="group-member-list"),
    path(
        "groups/<int:group_id>/members/<int:user_id>/",
        views.GroupMemberDetailView.as_view(),
        name="group-member-detail",
    ),
    path("classes/", views.SchoolClassListView.as_view(), name="class-list"),
    path("departments/", views.DepartmentListView.as_view(), name="department-list"),
]
