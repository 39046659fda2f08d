from urllib.parse import quote

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils.http import http_date

from guides.tests.factories import GuideFactory


def url(guide):
    return reverse("guides:guide-detail", kwargs={"pk": guide.pk})


def body(response) -> bytes:
    return b"".join(response.streaming_content)


@pytest.mark.django_db
def test_download_streams_the_file_with_type_and_chinese_file_name(api_client, guide, pdf_bytes):
    response = api_client.get(url(guide))

    assert response.status_code == 200
    assert response.streaming
    assert body(response) == pdf_bytes
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Length"] == str(len(pdf_bytes))
    assert response["Content-Disposition"] == (
        f"attachment; filename=\"guide.pdf\"; filename*=UTF-8''{quote('请假流程.pdf')}"
    )
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Accept-Ranges"] == "bytes"
    assert response["ETag"] == f'"{guide.file_sha256}"'
    assert response["Last-Modified"] == http_date(int(guide.updated_at.timestamp()))


@pytest.mark.django_db
def test_ascii_fallback_keeps_the_latin_part_of_a_mixed_name(api_client):
    from django.core.files.base import ContentFile

    from guides.samples import build_docx

    mixed = GuideFactory(file=ContentFile(build_docx(["x"]), name="2026年 Form A（教师）.docx"))
    response = api_client.get(url(mixed))
    assert response["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    )
    disposition = response["Content-Disposition"]
    assert disposition.startswith('attachment; filename="2026 Form A.docx"; ')
    assert disposition.endswith("filename*=UTF-8''" + quote("2026年 Form A（教师）.docx", safe=""))


@pytest.mark.django_db
def test_matching_etag_answers_304_without_a_body(api_client, guide):
    response = api_client.get(url(guide), HTTP_IF_NONE_MATCH=f'"{guide.file_sha256}"')
    assert response.status_code == 304
    assert response.content == b""
    assert response["ETag"] == f'"{guide.file_sha256}"'


@pytest.mark.django_db
def test_if_modified_since_answers_304_and_a_stale_etag_gets_the_file(api_client, guide, pdf_bytes):
    last_modified = http_date(int(guide.updated_at.timestamp()))
    assert api_client.get(url(guide), HTTP_IF_MODIFIED_SINCE=last_modified).status_code == 304
    response = api_client.get(url(guide), HTTP_IF_NONE_MATCH='"something-else"')
    assert response.status_code == 200
    assert body(response) == pdf_bytes


@pytest.mark.django_db
def test_if_match_with_another_etag_answers_412(api_client, guide):
    assert api_client.get(url(guide), HTTP_IF_MATCH='"old"').status_code == 412


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("header", "first", "last"),
    [("bytes=0-9", 0, 9), ("bytes=10-", 10, None), ("bytes=-7", -7, None), ("bytes=5-999999", 5, None)],
)
def test_range_answers_206_with_that_part(api_client, guide, pdf_bytes, header, first, last):
    response = api_client.get(url(guide), HTTP_RANGE=header)

    expected = pdf_bytes[first : None if last is None else last + 1]
    size = len(pdf_bytes)
    start = first if first >= 0 else size + first
    assert response.status_code == 206
    assert body(response) == expected
    assert response["Content-Length"] == str(len(expected))
    assert response["Content-Range"] == f"bytes {start}-{start + len(expected) - 1}/{size}"
    assert response["Content-Type"] == "application/pdf"


@pytest.mark.django_db
@pytest.mark.parametrize("header", ["bytes=100000-", "bytes=100000-100010", "bytes=-0"])
def test_unsatisfiable_range_answers_416_with_the_size(api_client, guide, pdf_bytes, header):
    response = api_client.get(url(guide), HTTP_RANGE=header)
    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{len(pdf_bytes)}"


@pytest.mark.django_db
@pytest.mark.parametrize("header", ["bytes=9-3", "items=0-5", "bytes=0-1,4-5", "bytes=abc"])
def test_malformed_or_multi_range_is_ignored_and_the_whole_file_sent(api_client, guide, pdf_bytes, header):
    response = api_client.get(url(guide), HTTP_RANGE=header)
    assert response.status_code == 200
    assert body(response) == pdf_bytes


@pytest.mark.django_db
def test_if_range_with_a_stale_etag_sends_the_whole_file(api_client, guide, pdf_bytes):
    fresh = api_client.get(url(guide), HTTP_RANGE="bytes=0-3", HTTP_IF_RANGE=f'"{guide.file_sha256}"')
    assert fresh.status_code == 206
    stale = api_client.get(url(guide), HTTP_RANGE="bytes=0-3", HTTP_IF_RANGE='"old-version"')
    assert stale.status_code == 200
    assert body(stale) == pdf_bytes


@pytest.mark.django_db
def test_unpublished_guide_is_404_for_users_but_staff_may_fetch_it(api_client, staff_client):
    draft = GuideFactory(is_published=False)
    response = api_client.get(url(draft))
    assert response.status_code == 404
    assert response.json() == {"detail": "该指南不存在或尚未发布。", "error_code": "not_found"}
    assert staff_client.get(url(draft)).status_code == 200


@pytest.mark.django_db
def test_missing_guide_and_missing_file_are_404(api_client, guide):
    assert api_client.get(reverse("guides:guide-detail", kwargs={"pk": guide.pk + 100})).status_code == 404
    default_storage.delete(guide.file.name)
    response = api_client.get(url(guide))
    assert response.status_code == 404
    assert response.json() == {"detail": "指南文件不存在。", "error_code": "not_found"}


@pytest.mark.django_db
def test_download_needs_a_login(anon_client, guide):
    assert anon_client.get(url(guide)).status_code == 401


@pytest.mark.django_db
def test_download_works_with_a_bearer_token_too(make_client, user, guide, pdf_bytes):
    response = make_client(user, keyword="Bearer").get(url(guide))
    assert response.status_code == 200
    assert body(response) == pdf_bytes


@pytest.mark.django_db
def test_head_gives_the_headers_without_the_file(api_client, guide, pdf_bytes):
    response = api_client.head(url(guide))
    assert response.status_code == 200
    assert response.content == b""
    assert response["Content-Length"] == str(len(pdf_bytes))
    assert response["Content-Type"] == "application/pdf"
    assert response["ETag"] == f'"{guide.file_sha256}"'
    partial = api_client.head(url(guide), HTTP_RANGE="bytes=0-9")
    assert (partial.status_code, partial["Content-Length"]) == (206, "10")


LONG = "9" * 4301


@pytest.mark.django_db
@pytest.mark.parametrize(
    "header", [f"bytes={LONG}-", f"bytes=0-{LONG}", f"bytes=-{LONG}", f"bytes={LONG}-{LONG}"]
)
def test_range_with_thousands_of_digits_answers_416_not_500(api_client, guide, pdf_bytes, header):
    """Issue 16 item 17: numbers past Python's int-conversion limit are refused before converting."""
    response = api_client.get(url(guide), HTTP_RANGE=header)
    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{len(pdf_bytes)}"
