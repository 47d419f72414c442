"""HTTP adapters for mood rooms (DESIGN section 12): parse, call one service or selector, reply."""

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from chat.me_apis import AvatarOutput
from chat.protocol import MAX_CLIENT_ID_CHARS, MAX_MESSAGE_CHARS
from moodrooms.models import MAX_PARTICIPANTS, MIN_PARTICIPANTS, Category, SessionMessage
from moodrooms.protocol import MOODS, REACTION_EMOJI, message_payload, participant_payload, session_payload
from moodrooms.selectors import session_messages_page, session_participants, sessions_list
from moodrooms.services import session_create, session_join, session_join_by_category, session_leave, session_mood_set
from whimsy_project.api import validated_input
from whimsy_project.ratelimit import Limit, enforce

HISTORY_DEFAULT_LIMIT = 50
HISTORY_MAX_LIMIT = 100


class SessionOutput(serializers.Serializer):
    id = serializers.UUIDField()
    category = serializers.ChoiceField(choices=Category.values)
    name = serializers.CharField(help_text='"Calm", "Calm 2", ...')
    description = serializers.CharField(allow_blank=True)
    max_participants = serializers.IntegerField(min_value=MIN_PARTICIPANTS, max_value=MAX_PARTICIPANTS)
    current_participants = serializers.IntegerField(min_value=0, max_value=MAX_PARTICIPANTS)
    is_active = serializers.BooleanField()

    class Meta:
        ref_name = "MoodSession"


class JoinedOutput(serializers.Serializer):
    session = SessionOutput()

    class Meta:
        ref_name = "MoodSessionJoined"


class ReactionOutput(serializers.Serializer):
    emoji = serializers.ChoiceField(choices=REACTION_EMOJI)
    count = serializers.IntegerField(min_value=1)
    mine = serializers.BooleanField()

    class Meta:
        ref_name = "MoodReaction"


class SessionMessageOutput(serializers.Serializer):
    id = serializers.UUIDField()
    session_id = serializers.UUIDField()
    user_id = serializers.UUIDField(allow_null=True, help_text="null for system, ai-prompt and mood-check messages")
    sender_name = serializers.CharField()
    content = serializers.CharField()
    message_type = serializers.ChoiceField(choices=SessionMessage.Type.values)
    reply_to = serializers.UUIDField(allow_null=True)
    is_edited = serializers.BooleanField()
    edited_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    client_id = serializers.CharField(allow_null=True)
    reactions = ReactionOutput(many=True)

    class Meta:
        ref_name = "MoodMessage"


class ParticipantOutput(serializers.Serializer):
    user_id = serializers.UUIDField()
    username = serializers.CharField()
    avatar = AvatarOutput()
    mood = serializers.CharField(allow_blank=True, help_text=f"one of {', '.join(MOODS)}, or empty")
    is_muted = serializers.BooleanField()
    is_speaking = serializers.BooleanField()
    joined_at = serializers.DateTimeField()

    class Meta:
        ref_name = "MoodParticipant"


class _MoodInput(serializers.Serializer):
    mood = serializers.ChoiceField(choices=MOODS, required=False, allow_blank=True, help_text="how you feel")


def _joined_response(joined) -> Response:
    return Response({"session": session_payload(joined.session)})


class SessionsApi(APIView):
    class InputSerializer(serializers.Serializer):
        category = serializers.ChoiceField(choices=Category.values)
        description = serializers.CharField(required=False, allow_blank=True, max_length=200)
        max_participants = serializers.IntegerField(
            required=False, default=MAX_PARTICIPANTS, min_value=MIN_PARTICIPANTS, max_value=MAX_PARTICIPANTS
        )

        class Meta:
            ref_name = "MoodSessionInput"

    class OutputSerializer(serializers.Serializer):
        results = SessionOutput(many=True)

        class Meta:
            ref_name = "MoodSessionList"

    @extend_schema(responses={200: OutputSerializer}, summary="The open mood rooms")
    def get(self, request):
        return Response({"results": [session_payload(session) for session in sessions_list()]})

    @extend_schema(
        request=InputSerializer,
        responses={201: SessionOutput},
        summary="Open a mood room",
        description="Rate-limited per visitor (MOOD_ROOM_CREATE_BURST, then MOOD_ROOM_CREATE_PER_HOUR). "
        "Join it with POST /api/sessions/{id}/join.",
    )
    def post(self, request):
        data = validated_input(self.InputSerializer, request)
        enforce(
            scope="session-create",
            key=str(request.user.id),
            limit=Limit.per_hour(settings.MOOD_ROOM_CREATE_PER_HOUR, burst=settings.MOOD_ROOM_CREATE_BURST),
        )
        session = session_create(
            user_id=request.user.id,
            category=data["category"],
            description=data.get("description", ""),
            max_participants=data["max_participants"],
            ip_hash=request.user.ip_hash,
        )
        return Response(session_payload(session), status=status.HTTP_201_CREATED)


class SessionJoinByCategoryApi(APIView):
    class InputSerializer(_MoodInput):
        category = serializers.ChoiceField(choices=Category.values)

        class Meta:
            ref_name = "MoodJoinByCategoryInput"

    @extend_schema(
        operation_id="sessions_join_by_category",  # sessions/<id>/join would be named the same
        request=InputSerializer,
        responses={200: JoinedOutput},
        summary="Join a mood",
        description="The fullest open room of this mood with a free place, else a new one (\"Calm 2\", ...). "
        "Leaves the room you were in; already in a room of this mood: that room.",
    )
    def post(self, request):
        data = validated_input(self.InputSerializer, request)
        enforce(scope="match", key=str(request.user.id), limit=_join_limit())
        return _joined_response(
            session_join_by_category(
                user_id=request.user.id, category=data["category"], mood=data.get("mood"), ip_hash=request.user.ip_hash
            )
        )


class SessionJoinApi(APIView):
    class InputSerializer(_MoodInput):
        class Meta:
            ref_name = "MoodJoinInput"

    @extend_schema(
        request=InputSerializer,
        responses={200: JoinedOutput},
        summary="Join one mood room",
        description="409 room_full when it has no free place. Leaves the room you were in.",
    )
    def post(self, request, session_id):
        data = validated_input(self.InputSerializer, request)
        enforce(scope="match", key=str(request.user.id), limit=_join_limit())
        return _joined_response(
            session_join(
                user_id=request.user.id, session_id=session_id, mood=data.get("mood"), ip_hash=request.user.ip_hash
            )
        )


def _join_limit() -> Limit:
    # Joins share the Start/Next budget: both are "find me people".
    return Limit.per_minute(settings.RATE_LIMIT_MATCH_PER_MINUTE, burst=settings.RATE_LIMIT_MATCH_BURST)


class SessionLeaveApi(APIView):
    class OutputSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=["left"])

        class Meta:
            ref_name = "MoodLeft"

    @extend_schema(request=None, responses={200: OutputSerializer}, summary="Leave a mood room")
    def post(self, request, session_id):
        session_leave(user_id=request.user.id, session_id=session_id)
        return Response({"status": "left"})


class SessionMoodApi(APIView):
    class InputSerializer(serializers.Serializer):
        mood = serializers.ChoiceField(choices=MOODS)

        class Meta:
            ref_name = "MoodInput"

    @extend_schema(
        request=InputSerializer,
        responses={200: ParticipantOutput},
        summary="Say how you feel",
        description="The answer to the room's private mood-check; the room sees your mood (user_updated).",
    )
    def post(self, request, session_id):
        data = validated_input(self.InputSerializer, request)
        participant = session_mood_set(session_id=session_id, user_id=request.user.id, mood=data["mood"])
        return Response(participant_payload(participant))


class SessionMessagesApi(APIView):
    class QuerySerializer(serializers.Serializer):
        before = serializers.UUIDField(required=False, help_text="next_before of the previous page")
        after = serializers.UUIDField(required=False, help_text="what came after this message (a resumed socket)")
        limit = serializers.IntegerField(
            required=False, min_value=1, max_value=HISTORY_MAX_LIMIT, default=HISTORY_DEFAULT_LIMIT
        )

        def validate(self, attrs):
            if "before" in attrs and "after" in attrs:
                raise serializers.ValidationError("Give before or after, not both.")
            return attrs

    class OutputSerializer(serializers.Serializer):
        results = SessionMessageOutput(many=True, help_text="oldest to newest")
        next_before = serializers.UUIDField(allow_null=True, help_text="null when there is nothing older")

        class Meta:
            ref_name = "MoodMessagePage"

    @extend_schema(
        parameters=[QuerySerializer],
        responses={200: OutputSerializer},
        summary="A page of a mood room's messages",
        description=f"Members only. Newest page first; each page oldest to newest. Messages are 1-{MAX_MESSAGE_CHARS} "
        f"characters; client_id at most {MAX_CLIENT_ID_CHARS}.",
    )
    def get(self, request, session_id):
        query = self.QuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        page = session_messages_page(
            session_id=session_id,
            user_id=request.user.id,
            before=query.validated_data.get("before"),
            after=query.validated_data.get("after"),
            limit=query.validated_data["limit"],
        )
        return Response(
            {
                "results": [
                    message_payload(message, reactions=page.reactions.get(message.id)) for message in page.messages
                ],
                "next_before": str(page.next_before) if page.next_before else None,
            }
        )


class SessionParticipantsApi(APIView):
    class OutputSerializer(serializers.Serializer):
        results = ParticipantOutput(many=True)

        class Meta:
            ref_name = "MoodParticipantList"

    @extend_schema(responses={200: OutputSerializer}, summary="Who is in a mood room", description="Members only.")
    def get(self, request, session_id):
        members = session_participants(session_id=session_id, user_id=request.user.id)
        return Response({"results": [participant_payload(member) for member in members]})
