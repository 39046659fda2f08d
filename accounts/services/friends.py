"""Friends: the people a user adds to their contacts (they see the fields kept for friends)."""

from django.db import IntegrityError, transaction

from wechathhu.core.errors import ApplicationError, NotFoundError

from ..errors import AccountsErrorCode as Code
from ..models import Friendship, User

FRIEND_SELF = "不能添加自己为好友。"
FRIEND_EXISTS = "已存在该好友关系。"


def friendship_create(*, user: User, friend: User) -> Friendship:
    """``user`` adds ``friend`` to their contacts. Adding oneself or adding twice is refused."""
    if user.pk == friend.pk:
        raise ApplicationError(FRIEND_SELF, code=Code.FRIEND_SELF)
    friendship = Friendship(user=user, friend=friend)
    friendship.full_clean(validate_unique=False, validate_constraints=False)
    try:
        # The unique constraint decides, so two simultaneous adds cannot both succeed.
        with transaction.atomic():
            friendship.save()
    except IntegrityError:
        raise ApplicationError(FRIEND_EXISTS, code=Code.FRIEND_EXISTS)
    return friendship


@transaction.atomic
def friendship_delete(*, user: User, friend: User) -> None:
    """``user`` removes ``friend`` from their contacts; 404 when they were not friends."""
    deleted, _ = Friendship.objects.filter(user=user, friend=friend).delete()
    if not deleted:
        raise NotFoundError()
