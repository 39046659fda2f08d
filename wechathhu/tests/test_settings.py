import subprocess
import sys

import pytest
from django.conf import settings


def test_language_and_time_zone():
    assert settings.LANGUAGE_CODE == "zh-hans"
    assert settings.TIME_ZONE == "Asia/Shanghai"
    assert settings.USE_TZ is True


def _check_deploy(env):
    return subprocess.run(  # noqa: S603 - our own manage.py with a fixed argument list
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env={"ENV_FILE": "/dev/null", **env},  # whatever a local .env says
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize("debug", ["false"])
def test_production_settings_pass_check_deploy(debug, tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "DEBUG": debug,
        "SECRET_KEY": "x" * 10 + "production-secret-from-the-environment-0123456789",
        "ALLOWED_HOSTS": "portal.example.edu.cn",
        "SITE_URL": "https://portal.example.edu.cn",
        "VAR_DIR": str(tmp_path),
    }
    result = _check_deploy(env)
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    result = _check_deploy({"PATH": "/usr/bin:/bin", "DEBUG": "false", "VAR_DIR": str(tmp_path)})
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_a_slot_step_off_the_booking_grid_is_refused_at_start(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "DEBUG": "true", "VAR_DIR": str(tmp_path)}
    result = _check_deploy({**env, "RESERVATION_GRID_MINUTES": "30", "RESERVATION_SLOT_STEP_MINUTES": "45"})
    assert result.returncode != 0
    assert "RESERVATION_SLOT_STEP_MINUTES must be a multiple of RESERVATION_GRID_MINUTES" in result.stderr
    fine = subprocess.run(  # noqa: S603 - our own manage.py with a fixed argument list
        [sys.executable, "manage.py", "check"],
        env={
            **env,
            "ENV_FILE": "/dev/null",
            "RESERVATION_GRID_MINUTES": "15",
            "RESERVATION_SLOT_STEP_MINUTES": "45",
        },
        capture_output=True,
        text=True,
        check=False,
    )
    assert fine.returncode == 0, fine.stderr
