"""Who may see which field of a user's directory card.

Each user chooses, per field, who may see it (``User.<field>_visibility``):

- ``everyone``: every signed-in user;
- ``colleagues``: the teachers and staff of the owner's department when the owner is one too
  (students are nobody's colleagues), and the people the owner added as friends;
- ``nobody``: nobody else.

The owner and staff always see everything. Anything that shows another user's contact details
(the directory, user search, reservation availability …) goes through ``ContactVisibility``::

    visibility = ContactVisibility(request.user)        # once per request
    phone = visibility.value(owner, "phone")             # None when hidden

The ``owner`` rows must carry these plain columns of ``User`` (no relation is needed):
``id``, ``department_id``, ``kind``, the field itself and its ``<field>_visibility`` column. Loading full
``User`` rows does that; with ``.only()`` list them, e.g. ``PRIVACY_COLUMNS`` plus the fields shown.

To filter in SQL (a search must not find people by a field it may not show),
``visible_q(field)`` gives the same rule as a ``Q`` on ``User``.
"""

from django.db.models import Q

from .models import Friendship, User, UserKind, Visibility

PRIVATE_FIELDS = ("post", "tel", "email", "phone", "qq", "wechat")
PRIVACY_COLUMNS = ("id", "department_id", "kind", *(f"{field}_visibility" for field in PRIVATE_FIELDS))
_RULE_COLUMNS = tuple((field, f"{field}_visibility") for field in PRIVATE_FIELDS)
_EVERYONE, _COLLEAGUES = Visibility.EVERYONE.value, Visibility.COLLEAGUES.value
# Who has colleagues: the teachers and staff of a department (its students are not colleagues).
COLLEAGUE_KINDS = (UserKind.TEACHER.value, UserKind.STAFF.value)


def colleague_department_id(user: User) -> int | None:
    """The department whose teachers and staff are ``user``'s colleagues (None: nobody's)."""
    return user.department_id if user.kind in COLLEAGUE_KINDS else None


class ContactVisibility:
    """The privacy rules as seen by one ``viewer``; build one per request.

    At most one query in its lifetime (the viewer's friendships, loaded on first need and
    never for staff); no query per owner.
    """

    def __init__(self, viewer: User):
        self.viewer = viewer
        self.sees_everything = bool(viewer.is_staff)
        self._friend_ids: frozenset[int] | None = None
        self._trusted_by_ids: frozenset[int] | None = None

    def _load(self) -> None:
        if self._friend_ids is not None:
            return
        friend_ids, trusted_by_ids = set(), set()
        rows = Friendship.objects.filter(Q(user_id=self.viewer.pk) | Q(friend_id=self.viewer.pk))
        for user_id, friend_id in rows.values_list("user_id", "friend_id"):
            if user_id == self.viewer.pk:
                friend_ids.add(friend_id)
            else:
                trusted_by_ids.add(user_id)
        self._friend_ids, self._trusted_by_ids = frozenset(friend_ids), frozenset(trusted_by_ids)

    @property
    def friend_ids(self) -> frozenset[int]:
        """The users the viewer added as friends (``is_friend`` on their cards)."""
        self._load()
        return self._friend_ids

    @property
    def trusted_by_ids(self) -> frozenset[int]:
        """The users who added the viewer as a friend (their ``colleagues`` fields are visible)."""
        self._load()
        return self._trusted_by_ids

    def is_friend(self, owner: User) -> bool:
        return owner.pk in self.friend_ids

    def is_colleague(self, owner: User) -> bool:
        """Both teachers or staff of one department, or the owner added the viewer as a friend."""
        department_id = colleague_department_id(self.viewer)
        if department_id is not None and colleague_department_id(owner) == department_id:
            return True
        return owner.pk in self.trusted_by_ids

    def can_see(self, owner: User, field: str) -> bool:
        if field not in PRIVATE_FIELDS:
            raise ValueError(f"{field!r} is not a directory field with a visibility rule")
        if self.sees_everything or owner.pk == self.viewer.pk:
            return True
        rule = getattr(owner, f"{field}_visibility")
        if rule == Visibility.EVERYONE:
            return True
        if rule == Visibility.COLLEAGUES:
            return self.is_colleague(owner)
        return False

    def allows(self, owner: User, rule: str) -> bool:
        """Whether the viewer passes ``rule`` (a ``Visibility`` value) set by ``owner``: the same rule
        as the card fields, for settings that are not card fields (presence, issue 14)."""
        if self.sees_everything or owner.pk == self.viewer.pk:
            return True
        if rule == Visibility.EVERYONE:
            return True
        if rule == Visibility.COLLEAGUES:
            return self.is_colleague(owner)
        return False

    def value(self, owner: User, field: str) -> str | None:
        """The owner's ``field`` when the viewer may see it, else ``None``."""
        return getattr(owner, field) if self.can_see(owner, field) else None

    def card(self, owner: User) -> dict[str, str | None]:
        """``value`` of every ``PRIVATE_FIELDS`` field at once (the directory shows all six for up
        to 1 000 people: the colleague test is made once per owner, not once per field)."""
        if self.sees_everything or owner.pk == self.viewer.pk:
            return {field: getattr(owner, field) for field, _ in _RULE_COLUMNS}
        colleague = None
        card = {}
        for field, rule_column in _RULE_COLUMNS:
            rule = getattr(owner, rule_column)
            if rule == _EVERYONE:
                shown = True
            elif rule == _COLLEAGUES:
                if colleague is None:
                    colleague = self.is_colleague(owner)
                shown = colleague
            else:
                shown = False
            card[field] = getattr(owner, field) if shown else None
        return card

    def visible_q(self, field: str, prefix: str = "") -> Q:
        """``Q`` on ``User`` (or on a relation to it, via ``prefix`` such as ``"user__"``) that
        holds exactly for the owners whose ``field`` the viewer may see. Adds no query: the
        friendships are a sub-query."""
        if field not in PRIVATE_FIELDS:
            raise ValueError(f"{field!r} is not a directory field with a visibility rule")
        if self.sees_everything:
            return Q()
        rule = f"{prefix}{field}_visibility"
        colleagues = Q(
            **{f"{prefix}pk__in": Friendship.objects.filter(friend_id=self.viewer.pk).values("user_id")}
        )
        department_id = colleague_department_id(self.viewer)
        if department_id is not None:
            colleagues |= Q(**{f"{prefix}department_id": department_id, f"{prefix}kind__in": COLLEAGUE_KINDS})
        return (
            Q(**{f"{prefix}pk": self.viewer.pk})
            | Q(**{rule: Visibility.EVERYONE})
            | (Q(**{rule: Visibility.COLLEAGUES}) & colleagues)
        )
