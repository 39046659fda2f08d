"""Open registration (off unless ``ACCOUNTS_OPEN_REGISTRATION`` is on)."""

from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.services.registration import registration_check_open, user_register
from wechathhu.api.schema import DETAIL

from ..serializers import RegisterSerializer, RegistrationSerializer
from ..throttles import RegisterRateThrottle


class RegisterView(APIView):
    """Open registration (off unless ``ACCOUNTS_OPEN_REGISTRATION`` is on: 403 otherwise).

    The new account waits for staff approval in the admin; until then logging in answers
    that the application is awaiting approval.
    """

    permission_classes = (AllowAny,)
    authentication_classes = ()
    throttle_classes = (RegisterRateThrottle,)

    def throttled(self, request, wait):
        raise exceptions.Throttled(wait=wait, detail="注册过于频繁，请稍后再试。")

    @extend_schema(
        tags=["auth"],
        request=RegisterSerializer,
        responses={201: RegistrationSerializer, 400: DETAIL, 403: DETAIL, 429: DETAIL},
    )
    def post(self, request):
        registration_check_open()  # before the input: a closed door answers 403 whatever is sent
        serializer = RegisterSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = user_register(**serializer.validated_data)
        return Response(RegistrationSerializer(user).data, status=status.HTTP_201_CREATED)
