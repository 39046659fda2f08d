"""Checks of the ``/api/v1/`` error envelope shared by the message-center API tests."""

ERROR_KEYS = {"code", "error_code", "message", "data", "timestamp"}


def assert_error(response, status, error_code=None):
    """An error answer in seed 001's envelope (plus ``error_code``); returns the body."""
    body = response.json()
    assert response.status_code == status, body
    assert body["code"] == status and body["message"]
    assert set(body) == ERROR_KEYS
    assert isinstance(body["error_code"], str) and body["error_code"]
    if error_code is not None:
        assert body["error_code"] == error_code, body
    return body
