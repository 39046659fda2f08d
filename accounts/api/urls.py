"""The mini-program contract's accounts paths (at the site root); each view lives in
``accounts/api/views/<concern>.py``."""

from django.urls import path

from .views import (
    avatars,
    claims,
    current_user,
    directory,
    friends,
    groups,
    login,
    registration,
    tokens,
    wechat,
)

app_name = "accounts"

urlpatterns = [
    path("auth/get-token/", login.GetTokenView.as_view(), name="get-token"),
    path("auth/wechat-code2token/", login.WeChatCodeToTokenView.as_view(), name="wechat-code2token"),
    path("auth/wechat-auth/", wechat.WeChatAuthView.as_view(), name="wechat-auth"),
    path("auth/claim/", claims.ClaimView.as_view(), name="claim"),
    path("auth/register/", registration.RegisterView.as_view(), name="register"),
    path("auth/logout/", tokens.LogoutView.as_view(), name="logout"),
    path("auth/tokens/", tokens.TokenListView.as_view(), name="token-list"),
    path("auth/tokens/<int:pk>/", tokens.TokenDetailView.as_view(), name="token-detail"),
    path("current-user/", current_user.CurrentUserView.as_view(), name="current-user"),
    path("current-user/meta/", current_user.CurrentUserMetaView.as_view(), name="current-user-meta"),
    path("current-user/avatar/", avatars.CurrentUserAvatarView.as_view(), name="current-user-avatar"),
    path("avatars/<int:user_id>/<str:key>.jpg", avatars.AvatarView.as_view(), name="avatar"),
    path("users/search/", directory.UserSearchView.as_view(), name="user-search"),
    path("contacts/", directory.ContactListView.as_view(), name="contact-list"),
    path("friends/<int:user_id>/", friends.FriendView.as_view(), name="friend"),
    path("groups/", groups.GroupListView.as_view(), name="group-list"),
    path("groups/<int:group_id>/members/", groups.GroupMemberListView.as_view(), name="group-member-list"),
    path(
        "groups/<int:group_id>/members/<int:user_id>/",
        groups.GroupMemberDetailView.as_view(),
        name="group-member-detail",
    ),
    path("classes/", groups.SchoolClassListView.as_view(), name="class-list"),
    path("departments/", directory.DepartmentListView.as_view(), name="department-list"),
]
