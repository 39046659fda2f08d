"""Parametric QR codes (场景二维码), e.g. one per class for staff to print."""

from django.db import transaction

from wechathhu.core.errors import ApplicationError
from wechathhu.integrations import official

from ..errors import OfficialErrorCode as E
from ..models import QrScene
from .followers import CLASS_SCENE_PREFIX


def _create(scene: str) -> tuple[str, str]:
    try:
        return official.qrcode_create(scene=scene)
    except official.OfficialDisabled as exc:
        raise ApplicationError(str(exc), code=E.DISABLED) from exc
    except official.WeChatUnavailable as exc:
        raise ApplicationError(str(exc), status=503, code=E.WECHAT_UNAVAILABLE) from exc
    except official.WeChatError as exc:
        raise ApplicationError(f"微信未能生成二维码：{exc}（{exc.errcode}）", code=E.WECHAT_ERROR) from exc


@transaction.atomic
def qr_scene_for_classes(*, school_classes, by) -> list[QrScene]:
    """The permanent QR code of each class (made at WeChat the first time, then reused)."""
    scenes = []
    for school_class in school_classes:
        scene = QrScene.objects.filter(school_class=school_class).first()
        if scene is None or not scene.url:
            ticket, url = _create(f"{CLASS_SCENE_PREFIX}{school_class.pk}")
            scene, _ = QrScene.objects.update_or_create(
                school_class=school_class,
                defaults={
                    "scene": f"{CLASS_SCENE_PREFIX}{school_class.pk}",
                    "ticket": ticket,
                    "url": url,
                    "created_by": by,
                },
            )
        scenes.append(scene)
    return scenes


@transaction.atomic
def qr_scene_create(*, scene: str, by) -> QrScene:
    """A QR code for any other scene (a poster, an event): counted when scanned."""
    scene = (scene or "").strip()
    if not scene or len(scene) > 64:
        raise ApplicationError("场景值需为 1–64 个字符。", field="scene", code=E.INVALID_SCENE)
    if scene.startswith(CLASS_SCENE_PREFIX):
        raise ApplicationError("班级二维码请选择班级生成。", field="scene", code=E.INVALID_SCENE)
    if QrScene.objects.filter(scene=scene).exists():
        raise ApplicationError("该场景值已有二维码。", field="scene", code=E.INVALID_SCENE)
    ticket, url = _create(scene)
    qr = QrScene(scene=scene, ticket=ticket, url=url, created_by=by)
    qr.full_clean()
    qr.save()
    return qr
