"""Thin Celery tasks of the official account: load by id, call the service."""

from celery import shared_task

from wechathhu.integrations.official import WeChatUnavailable

from .services import followers, mass, robot, webhook


@shared_task(name="official.robot_followup", soft_time_limit=50, time_limit=60, acks_late=True)
def robot_followup_task(*, inbound_id: int) -> bool:
    """The slow part of a robot command (e.g. 报修); exactly once per message."""
    return robot.robot_followup_run(inbound_id=inbound_id)


@shared_task(name="official.robot_followups_requeue", soft_time_limit=50, time_limit=60)
def robot_followups_requeue_task() -> int:
    """Queue again the robot follow-ups still undone (broker was down, a worker died)."""
    return webhook.robot_followups_requeue()


@shared_task(name="official.tag_sync", soft_time_limit=540, time_limit=600)
def tag_sync_task() -> dict:
    """Mirror departments, grades and groups onto the account's tags (staff start it)."""
    return mass.tag_sync()


@shared_task(name="official.purge", soft_time_limit=240, time_limit=300)
def purge_task() -> dict:
    """Delete positions and received events past their retention (daily)."""
    return {
        "locations": followers.locations_purge(),
        "events": webhook.events_purge(),
    }


@shared_task(
    name="official.follower_fetch_unionid",
    autoretry_for=(WeChatUnavailable,),
    retry_backoff=30,
    max_retries=3,
    soft_time_limit=30,
    time_limit=40,
)
def follower_fetch_unionid_task(*, follower_id: int) -> str | None:
    """A new follower's unionid from WeChat (WECHAT_OFFICIAL_FETCH_UNIONID)."""
    return followers.follower_fetch_unionid(follower_id=follower_id)
