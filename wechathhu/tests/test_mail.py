"""Outgoing mail goes through a real SMTP conversation (aiosmtpd on loopback)."""

from email.header import decode_header, make_header

from django.core.mail import EmailMessage


def test_mail_reaches_a_real_smtp_server_with_chinese_subject_and_attachment(smtp_server):
    message = EmailMessage("服务指南文件传送", "您好，附件是您要的文件。", to=["t1001@example.edu.cn"])
    message.attach("办事指南.pdf", b"%PDF-1.4 test", "application/pdf")
    assert message.send() == 1
    [received] = smtp_server.messages
    assert str(make_header(decode_header(received["Subject"]))) == "服务指南文件传送"
    attachment = next(part for part in received.walk() if part.get_filename())
    assert attachment.get_filename() == "办事指南.pdf"
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_payload(decode=True) == b"%PDF-1.4 test"
