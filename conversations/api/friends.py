"""``GET /friends/`` (seed 004's 获取好友列表) at the mini-program root, next to accounts' POST/DELETE
``/friends/<id>/`` (C27, unchanged): my friends with avatar, name and presence, a page at a time in
the envelope and pagination block of the ``/api/v1/`` lists. The 2020 mini-program never read a
friend list (it has no ``GET /friends/``), so no older shape is kept."""

from drf_spectacular.utils import extend_schema

from conversations import realtime, selectors
from wechathhu.api.pagination import EnvelopePagination
from wechathhu.api.schema import envelope_errors, enveloped_page

from .serializers import ChatUserPresenceSerializer
from .views import EnvelopeAPIView


class FriendPagination(EnvelopePagination):
    page_size = 50


class FriendListView(EnvelopeAPIView):
    """我的好友（我添加的人，按通讯录顺序：字母、拼音、工号），每人带头像、姓名（`nickname`）和在线状态
    （按对方的隐私设置，可能为 hidden）。分页：`page`、`page_size`（默认 50，最多 100）。
    添加、删除好友仍是 `POST`、`DELETE /friends/{user_id}/`。"""

    pagination_class = FriendPagination
    pagination_results_key = "friends"
    list_message = "获取好友列表成功"

    @extend_schema(
        tags=["directory"],
        operation_id="friends_list",
        responses={
            200: enveloped_page(ChatUserPresenceSerializer, name="FriendPage", key="friends"),
            **envelope_errors(400, 401),
        },
    )
    def get(self, request):
        friends = self.paginate_queryset(selectors.friends_list(user=request.user))
        book = realtime.PresenceBook(request.user, friends)
        context = {"request": request, "presence": book}
        return self.get_paginated_response(
            ChatUserPresenceSerializer(friends, many=True, context=context).data
        )
