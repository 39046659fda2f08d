"""What one guide mail request sends (the outbox sends it): the file attached, or a link."""

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.defaultfilters import filesizeformat
from django.utils import timezone

from wechathhu.core import outbox

from .links import guide_link_make
from .models import Guide, GuideMailRequest, MailDelivery

MAIL_SUBJECT = "{name} - 服务指南文件传送"


def _build_message(*, guide: Guide, mail_request: GuideMailRequest) -> tuple[EmailMessage, str]:
    body = [
        "您好：",
        "",
        f"您通过微服务APP向邮箱发送了服务指南：{guide.name} 【{guide.file_name}】",
    ]
    if guide.file_size <= settings.GUIDES_MAIL_ATTACHMENT_MAX_SIZE:
        delivery = MailDelivery.ATTACHMENT
        body.append("文件见附件。")
    else:
        delivery = MailDelivery.LINK
        url, expires = guide_link_make(guide=guide)
        body += [
            f"文件较大（{filesizeformat(guide.file_size)}），请通过以下链接下载：",
            url,
            f"链接有效期至 {timezone.localtime(expires):%Y-%m-%d %H:%M}（北京时间）。",
        ]
    body += ["", "此邮件由系统自动发送，请勿回复。"]
    message = EmailMessage(
        subject=MAIL_SUBJECT.format(name=guide.name), body="\n".join(body), to=[mail_request.email]
    )
    if delivery == MailDelivery.ATTACHMENT:
        with guide.file.open("rb") as fh:
            message.attach(guide.file_name, fh.read(), guide.content_type)
    return message, delivery


def mail_request_send(mail_request: GuideMailRequest) -> dict:
    """The outbox's send of one request; returns how it went out (attachment or link)."""
    guide = Guide.objects.filter(pk=mail_request.guide_id).first() if mail_request.guide_id else None
    if guide is None or not guide.is_published:
        raise outbox.Permanent("该指南已删除或已下架。", reason="unpublished")
    try:
        message, delivery = _build_message(guide=guide, mail_request=mail_request)
    except FileNotFoundError:
        raise outbox.Permanent("指南文件在存储中不存在。", reason="missing_file")
    message.send()
    return {"delivery": delivery}
