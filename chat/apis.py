"""HTTP adapters for chat: messages (the same service the room socket uses), history,
ICE servers and the online count. Parse, call one service or selector, reply."""

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from chat.ice import ice_configuration_for
from chat.presence import online_count_sync
from chat.protocol import MAX_CLIENT_ID_CHARS, MAX_MESSAGE_CHARS, message_payload
from chat.selectors import room_messages_page
from chat.services import message_post
from whimsy_project.api import NOT_BLANK, StrictUUIDField, validated_input
from whimsy_project.ratelimit import Limit, enforce

HISTORY_DEFAULT_LIMIT = 50
HISTORY_MAX_LIMIT = 100


class StrictCharField(serializers.CharField):
    """A string given as a string; DRF's own field would turn 42 into "42"."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class MessageOutput(serializers.Serializer):
    id = serializers.UUIDField()
    room_id = serializers.UUIDField()
    sender_id = serializers.UUIDField(allow_null=True)
    message = serializers.CharField()
    timestamp = serializers.DateTimeField()
    is_system = serializers.BooleanField()
    client_id = serializers.CharField(allow_null=True)

    class Meta:
        ref_name = "ChatMessage"


class ChatMessageApi(APIView):
    class InputSerializer(serializers.Serializer):
        room_id = StrictUUIDField()
        # Trimmed and checked by the service, the same rules as on the socket.
        text = StrictCharField(
            trim_whitespace=False,
            min_length=1,
            max_length=MAX_MESSAGE_CHARS,
            validators=[NOT_BLANK],
            help_text=f"1-{MAX_MESSAGE_CHARS} characters, not only whitespace (trimmed before it is stored)",
        )
        client_id = StrictCharField(
            required=False,
            allow_null=True,
            trim_whitespace=False,
            min_length=1,
            max_length=MAX_CLIENT_ID_CHARS,
            help_text=f"Your idempotency key (at most {MAX_CLIENT_ID_CHARS} characters): a resend is not stored twice.",
        )

        class Meta:
            ref_name = "ChatMessageInput"

    @extend_schema(
        request=InputSerializer,
        responses={201: MessageOutput, 200: MessageOutput},
        summary="Send a message",
        description="201 with the stored message; 200 with the message already stored under this client_id "
        "(a resend: neither stored nor delivered again).",
    )
    def post(self, request):
        data = validated_input(self.InputSerializer, request)
        enforce(
            scope="message",
            key=str(request.user.id),
            limit=Limit(burst=settings.MESSAGE_RATE_BURST, rate=settings.MESSAGE_RATE_PER_SECOND),
        )
        posted = message_post(
            room_id=data["room_id"], sender_id=request.user.id, text=data["text"], client_id=data.get("client_id")
        )
        return Response(
            message_payload(posted.message), status=status.HTTP_201_CREATED if posted.created else status.HTTP_200_OK
        )


class RoomMessagesApi(APIView):
    class QuerySerializer(serializers.Serializer):
        before = serializers.UUIDField(required=False, help_text="next_before of the previous page")
        after = serializers.UUIDField(
            required=False, help_text="the last message you have: returns the oldest `limit` that came after it"
        )
        limit = serializers.IntegerField(required=False, min_value=1, max_value=HISTORY_MAX_LIMIT,
                                         default=HISTORY_DEFAULT_LIMIT)

    class OutputSerializer(serializers.Serializer):
        results = MessageOutput(many=True, help_text="oldest to newest")
        next_before = serializers.UUIDField(allow_null=True, help_text="null when there is nothing older")

        class Meta:
            ref_name = "ChatMessagePage"

    @extend_schema(
        parameters=[QuerySerializer],
        responses={200: OutputSerializer},
        summary="A page of a room's messages",
        description="Newest page first; each page oldest to newest. For anyone who was in the room, "
        "also after it ended. With `after`, what came after that message (a resumed socket's catch-up).",
    )
    def get(self, request, room_id):
        query = self.QuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        page = room_messages_page(
            room_id=room_id,
            user_id=request.user.id,
            before=query.validated_data.get("before"),
            after=query.validated_data.get("after"),
            limit=query.validated_data["limit"],
        )
        return Response(
            {
                "results": [message_payload(message) for message in page.messages],
                "next_before": str(page.next_before) if page.next_before else None,
            }
        )


class IceServerOutput(serializers.Serializer):
    urls = serializers.ListField(child=serializers.CharField())
    username = serializers.CharField(required=False)
    credential = serializers.CharField(required=False)

    class Meta:
        ref_name = "IceServer"


class IceServersApi(APIView):
    class OutputSerializer(serializers.Serializer):
        ice_servers = IceServerOutput(many=True, help_text="RTCIceServer objects")
        ice_transport_policy = serializers.ChoiceField(choices=["all", "relay"])

        class Meta:
            ref_name = "IceConfiguration"

    @extend_schema(
        responses={200: OutputSerializer},
        summary="STUN/TURN servers for video",
        description="Only while in a chat with a partner. TURN credentials expire after TURN_TTL seconds.",
    )
    def get(self, request):
        return Response(ice_configuration_for(user_id=request.user.id))


class PresenceApi(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    class OutputSerializer(serializers.Serializer):
        online = serializers.IntegerField(min_value=0, help_text="distinct visitors with a live socket")

        class Meta:
            ref_name = "Presence"

    @extend_schema(responses={200: OutputSerializer}, summary="How many people are online")
    def get(self, request):
        return Response({"online": online_count_sync()})
