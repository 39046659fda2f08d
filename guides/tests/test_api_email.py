import pytest
from django.core import mail
from django.urls import reverse

from accounts.tests.factories import UserFactory
from guides.models import GuideMailRequest, MailDelivery
from guides.tests.factories import GuideFactory
from wechathhu.core.outbox import DeliveryStatus

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def email_url(guide_id):
    return reverse("guides:guide-email", kwargs={"pk": guide_id})


@pytest.mark.django_db
def test_email_answers_at_once_and_the_mail_goes_out_after_commit(
    api_client, user, guide, pdf_bytes, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        response = api_client.post(email_url(guide.pk))
        assert response.status_code == 200
        assert response.content == b""
        assert mail.outbox == []  # queued, not sent inside the request's transaction
        record = GuideMailRequest.objects.get()
        assert (record.user, record.guide, record.email, record.status) == (
            user, guide, user.email, DeliveryStatus.QUEUED,
        )  # fmt: skip
    for callback in callbacks:
        callback()

    [message] = mail.outbox
    assert message.to == [user.email]
    assert message.subject == "教职工请假审批流程 - 服务指南文件传送"
    assert "您通过微服务APP向邮箱发送了服务指南：教职工请假审批流程 【请假流程.pdf】" in message.body
    assert message.attachments == [("请假流程.pdf", pdf_bytes, "application/pdf")]
    record.refresh_from_db()
    assert record.status == DeliveryStatus.SENT
    assert record.delivery == MailDelivery.ATTACHMENT
    assert record.sent_at is not None
    assert record.attempts == 1


@pytest.mark.django_db
@pytest.mark.parametrize(("fixture", "mime"), [("docx_guide", DOCX), ("xlsx_guide", XLSX)])
def test_office_files_are_attached_with_their_own_mime_type(
    api_client, request, fixture, mime, django_capture_on_commit_callbacks
):
    guide = request.getfixturevalue(fixture)
    with django_capture_on_commit_callbacks(execute=True):
        assert api_client.post(email_url(guide.pk)).status_code == 200
    [(name, content, mimetype)] = mail.outbox[0].attachments
    assert (name, mimetype) == (guide.file_name, mime)
    assert content == guide.file.open("rb").read()


@pytest.mark.django_db
@pytest.mark.parametrize("address", ["", "   "])
def test_no_email_on_the_account_is_400_before_the_guide_is_looked_up(make_client, address):
    client = make_client(UserFactory(email=address))
    for guide_id in (999999, GuideFactory().pk):
        response = client.post(email_url(guide_id))
        assert response.status_code == 400
        assert response.json() == {"detail": "您的账户尚未绑定邮箱。", "error_code": "no_email"}
    assert not GuideMailRequest.objects.exists()


@pytest.mark.django_db
def test_missing_or_unpublished_guide_is_404(api_client):
    draft = GuideFactory(is_published=False)
    for guide_id in (draft.pk, draft.pk + 1000):
        response = api_client.post(email_url(guide_id))
        assert response.status_code == 404
        assert response.json() == {"detail": "该指南不存在或尚未发布。", "error_code": "not_found"}
    assert not GuideMailRequest.objects.exists()


@pytest.mark.django_db
def test_a_double_tap_while_pending_queues_one_mail(api_client, guide, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        api_client.post(email_url(guide.pk))
        api_client.post(email_url(guide.pk))
    assert GuideMailRequest.objects.count() == 1
    assert len(callbacks) == 1


@pytest.mark.django_db
def test_asking_again_after_it_was_sent_sends_again(api_client, guide, django_capture_on_commit_callbacks):
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            assert api_client.post(email_url(guide.pk)).status_code == 200
    assert len(mail.outbox) == 2
    assert list(GuideMailRequest.objects.values_list("status", flat=True)) == [DeliveryStatus.SENT] * 2


@pytest.mark.django_db
def test_mail_is_throttled_per_user_with_a_chinese_429(settings, make_client, user, guide):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "mail": "2/hour"},
    }
    client = make_client(user)
    assert [client.post(email_url(guide.pk)).status_code for _ in range(2)] == [200, 200]
    response = client.post(email_url(guide.pk))
    assert response.status_code == 429
    assert response.json()["detail"].startswith("发送邮件过于频繁，请稍后再试。")
    assert int(response["Retry-After"]) > 0
    # Another user has an allowance of their own.
    assert make_client(UserFactory()).post(email_url(guide.pk)).status_code == 200


@pytest.mark.django_db
def test_email_needs_a_login(anon_client, guide):
    assert anon_client.post(email_url(guide.pk)).status_code == 401
