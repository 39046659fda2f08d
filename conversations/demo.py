"""Demo data for conversations: the demo teacher and student each have conversations with unread
messages, the demo student's class has a class group with its counsellor, and a file was sent.
Idempotent: conversations are found by their pair key or class, messages by their client_id."""

from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.demo import DEMO_STUDENT, DEMO_TEACHER
from accounts.models import User, UserKind

from . import services
from .models import Conversation

DEMO_PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def _say(conversation, sender, client_id, text=None, *, file=None):
    if file is not None:
        outgoing = services.message_prepare(message_type="file", upload=file)
    else:
        outgoing = services.message_prepare(message_type="text", text=text)
    services.message_send(conversation=conversation, sender=sender, outgoing=outgoing, client_id=client_id)


def seed(out) -> list[str]:
    teacher = User.objects.filter(username=DEMO_TEACHER).first()
    student = User.objects.filter(username=DEMO_STUDENT).first()
    if teacher is None or student is None or student.school_class is None:
        return []
    school_class = student.school_class
    counsellor = school_class.counsellors.order_by("pk").first() or school_class.head_teacher
    if counsellor is None:
        return []

    # The demo student and their counsellor: a question, an answer with a file, one unread each way.
    chat, _ = services.direct_get_or_create(user=student, other=counsellor)
    _say(chat, student, "demo-1", "老师您好，请问奖学金申请表在哪里下载？")
    _say(chat, counsellor, "demo-2", "附件就是申请表，填好后周五前交到学院办公室。")
    pdf = SimpleUploadedFile("奖学金申请表.pdf", DEMO_PDF, content_type="application/pdf")
    if not chat.messages.filter(client_id="demo-3").exists():
        _say(chat, counsellor, "demo-3", file=pdf)

    # The class group with its counsellor (and head teacher).
    group = Conversation.objects.filter(school_class=school_class).first()
    if group is None:
        group = services.group_create(
            owner=counsellor, name=f"{school_class.name} 班级群", member_ids=[], school_class=school_class
        )
    _say(group, counsellor, "demo-g1", "同学们好，下周一晚上七点在勤学楼 201 开班会，请准时参加。")
    classmate = school_class.students.exclude(pk=student.pk).order_by("pk").first()
    if classmate is not None:
        _say(group, classmate, "demo-g2", "收到！")

    # The demo teacher and a colleague of the same department: two unread messages for the teacher.
    colleague = (
        User.objects.filter(department_id=teacher.department_id, kind=UserKind.TEACHER, is_active=True)
        .exclude(pk=teacher.pk)
        .order_by("pk")
        .first()
    )
    if colleague is not None:
        chat, _ = services.direct_get_or_create(user=colleague, other=teacher)
        _say(chat, colleague, "demo-t1", "下午的教研室会议改到三点了。")
        _say(chat, colleague, "demo-t2", "会议室在勤学楼 402。")
    return [f"  会话：{DEMO_STUDENT} 与辅导员、班级群；{DEMO_TEACHER} 有未读会话消息。"]
