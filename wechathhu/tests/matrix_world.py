"""One small world for the permission matrix: a user per role, and for each of them (and for a
stranger) the objects they own — built once per test module, through the apps' factories and
services.

``World.objs[owner]`` holds the ids and values the matrix's requests need, under the same keys
for every owner, so a row names "my X" and "someone else's X" the same way.
"""

import io
from dataclasses import dataclass, field
from datetime import time, timedelta

from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from accounts.models import User
from accounts.services.avatars import user_set_avatar
from accounts.services.tokens import token_issue
from accounts.tests.factories import (
    CampusGroupFactory,
    FriendshipFactory,
    GroupMembershipFactory,
    StudentFactory,
    UserFactory,
)
from activities.tests.factories import ActivityFactory, ClockinItemFactory, EnrollmentFactory
from guides import links
from guides.tests.factories import GuideFactory
from messaging import attachments
from messaging.models import Message, MessageTemplate
from messaging.tests.factories import MessageFactory, MessageRecipientFactory
from repairs import services as repair_services
from repairs.models import RepairStatus
from repairs.tests.factories import FaultCategoryFactory, RepairRequestFactory
from reservations import services as reservation_services
from reservations.tests.factories import MeetingroomFactory, ReservationFactory

ROLES = ("anonymous", "student", "teacher", "sender", "officer", "staff", "superuser")
STRANGER = "stranger"

# What staff need for the mini-program endpoints that treat them differently: repair photos
# of anyone's request, and the QR code of any clock-in item.
STAFF_PERMISSIONS = (
    "repairs.view_repairrequest",
    "repairs.change_repairrequest",
    "activities.view_clockinitem",
    "activities.change_clockinitem",
)


@dataclass
class World:
    users: dict[str, User] = field(default_factory=dict)  # role (or STRANGER) -> user
    tokens: dict[str, str] = field(default_factory=dict)  # role (or STRANGER) -> token key
    objs: dict[str, dict] = field(default_factory=dict)  # owner -> {key: id or value}
    shared: dict = field(default_factory=dict)  # objects nobody owns
    media: object = None  # MEDIA_ROOT the world's files were stored under


def png(name="photo.png", size=(32, 32)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def _grant(user: User, *perms: str) -> None:
    for perm in perms:
        app_label, codename = perm.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )


def _make_users(world: World) -> None:
    users = world.users
    users["student"] = StudentFactory()
    users["teacher"] = UserFactory()
    users["sender"] = UserFactory()
    _grant(users["sender"], "messaging.send")
    users["officer"] = StudentFactory()
    users["staff"] = UserFactory(is_staff=True, kind="staff")
    _grant(users["staff"], *STAFF_PERMISSIONS)
    users["superuser"] = UserFactory(is_staff=True, is_superuser=True, kind="staff")
    users[STRANGER] = StudentFactory(claimed_at=timezone.now())
    for user in users.values():
        user.wechat_openid = f"openid-{user.username}"
        user.save(update_fields=["wechat_openid"])
        user_set_avatar(user=user, upload=png("me.png"))


def _build_shared(world: World) -> None:
    postman = UserFactory(is_staff=True, kind="staff")
    world.shared.update(
        postman=postman.pk,
        member_to_add=StudentFactory().pk,
        inactive_user=UserFactory(is_active=False).pk,
        fresh_activity=ActivityFactory().pk,  # open to everyone, nobody enrolled
        category=FaultCategoryFactory().pk,
        published_guide=GuideFactory().pk,
        unpublished_guide=GuideFactory(is_published=False).pk,
    )
    imported = StudentFactory()  # imported, never claimed
    world.shared.update(unclaimed_imported=imported.username, unclaimed_name=imported.full_name)
    guide = GuideFactory()
    url, _ = links.guide_link_make(guide=guide)
    world.shared["guide_link_token"] = url.rstrip("/").rsplit("/", 1)[-1]


def _build_owned(world: World, owner: str) -> dict:
    """Everything ``owner`` owns, or is addressed to them, or is theirs to manage."""
    user = world.users[owner]
    postman = User.objects.get(pk=world.shared["postman"])
    token, _ = token_issue(user=user, device="matrix")
    world.tokens[owner] = token.key
    objs = {"user": user.pk, "username": user.username, "name": user.full_name, "token": token.pk}
    objs["avatar_key"] = user.avatar.name.rsplit("/", 1)[-1].removesuffix(".jpg")

    # Directory and groups: a friend, and a group they manage with an ordinary member.
    objs["friend"] = FriendshipFactory(user=user).friend_id
    group = CampusGroupFactory()
    GroupMembershipFactory(group=group, user=user, is_manager=True, title="组长")
    objs["group"] = group.pk
    objs["group_member"] = GroupMembershipFactory(group=group).user_id

    # Conversations: a direct one with their friend (a text and a file message each way), and a
    # group they own with the member of their managed group.
    _build_conversations(objs, user)

    # Messages: one addressed to them, one they sent.
    objs["inbox_message"] = MessageRecipientFactory(
        recipient=user, message=MessageFactory(sender=postman)
    ).message_id
    sent = MessageFactory(sender=user)
    MessageRecipientFactory(message=sent, recipient=postman)
    objs["sent_message"] = sent.pk
    # Attachments and templates (issue 20 items 4, 8): a file on each message, a template of theirs.
    inbox = Message.objects.get(pk=objs["inbox_message"])
    objs["inbox_attachment"] = attachments.attachments_add(message=inbox, uploads=[png()], user=postman)[0].pk
    objs["sent_attachment"] = attachments.attachments_add(message=sent, uploads=[png()], user=user)[0].pk
    objs["template"] = MessageTemplate.objects.create(owner=user, name="矩阵模板", title="{姓名}：通知").pk

    # Meeting rooms: their own room (so nobody's bookings clash), a booking and a series.
    room = MeetingroomFactory()
    objs["room"] = room.pk
    objs["reservation"] = ReservationFactory(user=user, meetingroom=room).pk
    start = timezone.localdate() + timedelta(days=3)
    plan = reservation_services.series_create(
        user=user,
        meetingroom=room,
        description="例会",
        frequency="daily",
        weekdays=[],
        start_date=start,
        until=None,
        count=2,
        start_time=time(14, 0),
        end_time=time(15, 0),
    )
    objs["series"] = plan.series.pk

    # Activities: one they enrolled in, with a clock-in item open now; only the officer is its
    # officer. The activity is for their own department only, so nobody else can see it.
    activity = ActivityFactory(audience_everyone=False)
    activity.audience_departments.add(user.department)
    objs["activity"] = activity.pk
    objs["enrollment"] = EnrollmentFactory(activity=activity, user=user).pk
    item = ClockinItemFactory(activity=activity, label="签到")
    if owner == "officer":
        item.officers.add(user)
    objs["clockin_item"] = item.pk
    objs["clockin_label"] = item.label

    # Repairs: a new request with a photo, and a solved one.
    new = repair_services.repair_request_create(
        user=user, location="勤学楼 101", description="投影仪不亮", photos=[png()]
    )
    objs["repair_new"] = new.pk
    objs["repair_photo"] = new.photos.get().pk
    objs["repair_solved"] = RepairRequestFactory(
        user=user, status=RepairStatus.SOLVED, solved_at=timezone.now()
    ).pk
    return objs


def _build_conversations(objs: dict, user: User) -> None:
    from conversations import services as conversation_services
    from conversations.tests.factories import direct, group, pdf_upload, send

    friend = User.objects.get(pk=objs["friend"])
    conversation = direct(user, friend)
    objs["conversation"] = conversation.pk
    objs["conv_their_message"] = send(conversation, friend, "你好").pk
    objs["conv_my_message"] = send(conversation, user, "收到").pk
    outgoing = conversation_services.message_prepare(message_type="file", upload=pdf_upload())
    objs["conv_file_message"] = conversation_services.message_send(
        conversation=conversation, sender=user, outgoing=outgoing
    )[0].pk
    chat = group(user, [friend], name="矩阵群")
    objs["conv_group"] = chat.pk
    objs["conv_group_friend"] = friend.pk


def build_world() -> World:
    world = World()
    _make_users(world)
    _build_shared(world)
    for owner in world.users:
        world.objs[owner] = _build_owned(world, owner)
    return world
