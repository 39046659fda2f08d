"""The portal's pages, mounted at ``/m/``."""

from django.urls import path

from .views import (
    activities,
    auth,
    claim,
    contacts,
    conversations,
    guides,
    home,
    me,
    messages,
    repairs,
    rooms,
    sending,
)

app_name = "portal"

urlpatterns = [
    path("", home.HomePage.as_view(), name="home"),
    path("services/", home.ServicesPage.as_view(), name="services"),
    # Signing in and out
    path("login/", auth.LoginPage.as_view(), name="login"),
    path("logout/", auth.LogoutPage.as_view(), name="logout"),
    path("claim/", claim.ClaimPage.as_view(), name="claim"),
    # 我的
    path("me/", me.MePage.as_view(), name="me"),
    path("me/profile/", me.ProfilePage.as_view(), name="profile"),
    path("me/card/", me.CardPage.as_view(), name="my-card"),
    path("me/avatar/", me.AvatarPage.as_view(), name="avatar"),
    path("me/devices/", me.DevicesPage.as_view(), name="devices"),
    # 消息
    path("messages/", messages.InboxPage.as_view(), name="inbox"),
    path("messages/preferences/", messages.PreferencesPage.as_view(), name="preferences"),
    path("messages/hot/", messages.HotPage.as_view(), name="hot"),
    path("messages/<int:pk>/", messages.MessagePage.as_view(), name="message"),
    path("messages/<int:pk>/archive/", messages.MessageArchivePage.as_view(), name="message-archive"),
    path("compose/", sending.ComposePage.as_view(), name="compose"),
    path("sent/", sending.SentPage.as_view(), name="sent"),
    path("sent/<int:pk>/", sending.SentMessagePage.as_view(), name="sent-message"),
    # 会话
    path("conversations/", conversations.ConversationsPage.as_view(), name="conversations"),
    path(
        "conversations/<int:conversation_id>/", conversations.ConversationPage.as_view(), name="conversation"
    ),
    path(
        "conversations/start/<int:user_id>/",
        conversations.StartConversationPage.as_view(),
        name="conversation-start",
    ),
    # 通讯录
    path("contacts/", contacts.ContactsPage.as_view(), name="contacts"),
    path("contacts/<int:user_id>/", contacts.PersonPage.as_view(), name="person"),
    path("contacts/<int:user_id>/friend/", contacts.FriendPage.as_view(), name="friend"),
    path("groups/", contacts.GroupsPage.as_view(), name="groups"),
    path("groups/<int:group_id>/", contacts.GroupPage.as_view(), name="group"),
    # 会议室
    path("rooms/", rooms.RoomsDayPage.as_view(), name="rooms"),
    path("rooms/search/", rooms.RoomsSearchPage.as_view(), name="rooms-search"),
    path("rooms/book/", rooms.RoomBookPage.as_view(), name="room-book"),
    path("rooms/mine/", rooms.MyBookingsPage.as_view(), name="my-bookings"),
    path("rooms/mine/<int:pk>/cancel/", rooms.BookingCancelPage.as_view(), name="booking-cancel"),
    path("rooms/series/", rooms.SeriesListPage.as_view(), name="series-list"),
    path("rooms/series/new/", rooms.SeriesNewPage.as_view(), name="series-new"),
    path("rooms/series/<int:pk>/", rooms.SeriesPage.as_view(), name="series"),
    # 活动
    path("activities/", activities.ActivitiesPage.as_view(), name="activities"),
    path("activities/<int:pk>/", activities.ActivityPage.as_view(), name="activity"),
    path("activities/<int:pk>/enroll/", activities.EnrollPage.as_view(), name="enroll"),
    path("activities/<int:pk>/code/", activities.CodeClockinPage.as_view(), name="activity-code"),
    path("enrollments/<int:pk>/cancel/", activities.EnrollmentCancelPage.as_view(), name="enrollment-cancel"),
    path("clockin/", activities.ClockinCodeEntryPage.as_view(), name="clockin-code"),
    path("c/<str:key>/", activities.ScanPage.as_view(), name="scan"),
    path("officer/", activities.OfficerPage.as_view(), name="officer"),
    path("officer/<int:item_id>/", activities.OfficerCodePage.as_view(), name="officer-code"),
    # 报修
    path("repairs/", repairs.RepairsPage.as_view(), name="repairs"),
    path("repairs/new/", repairs.RepairNewPage.as_view(), name="repair-new"),
    path("repairs/<int:pk>/", repairs.RepairPage.as_view(), name="repair"),
    # 服务指南
    path("guides/", guides.GuidesPage.as_view(), name="guides"),
    path("guides/<int:pk>/", guides.GuidePage.as_view(), name="guide"),
]
