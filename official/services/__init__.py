"""Writes of the official account, one module per concern; the names other apps use are
re-exported here (``official.services.follower_bind_user``)."""

from .followers import (
    follower_bind_user,
    follower_get_or_create,
    follower_link_unionid,
    follower_unbind,
    locations_purge,
    oauth_login_user,
)
from .inbox import inbox_reply, inbox_reply_template, service_message_queue
from .mass import mass_send_queue, mass_send_save, tag_sync
from .menus import menu_publish
from .qrcodes import qr_scene_create, qr_scene_for_classes
from .robot import keyword_rule_save, keyword_rules_delete
from .webhook import webhook_receive

__all__ = [
    "follower_bind_user",
    "follower_get_or_create",
    "follower_link_unionid",
    "follower_unbind",
    "inbox_reply",
    "inbox_reply_template",
    "keyword_rule_save",
    "keyword_rules_delete",
    "locations_purge",
    "mass_send_queue",
    "mass_send_save",
    "oauth_login_user",
    "menu_publish",
    "qr_scene_create",
    "qr_scene_for_classes",
    "service_message_queue",
    "tag_sync",
    "webhook_receive",
]
