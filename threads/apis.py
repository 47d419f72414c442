"""HTTP adapters for keep in touch: parse, call one service or selector, reply."""

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from chat.apis import StrictCharField
from chat.protocol import MAX_CLIENT_ID_CHARS
from threads.protocol import MAX_BODY_CHARS, thread_message_payload
from threads.selectors import thread_messages_page, threads_of
from threads.services import keep_request, thread_end, thread_mark_read, thread_message_post
from whimsy_project.api import NOT_BLANK, StrictUUIDField, validated_input
from whimsy_project.ratelimit import Limit, enforce

PAGE_DEFAULT_LIMIT = 50
PAGE_MAX_LIMIT = 100
MEMBERS_ONLY = "404 thread_not_found (no such thread, or not yours), 410 thread_ended (a member ended it)"


class ThreadMessageOutput(serializers.Serializer):
    id = serializers.UUIDField()
    thread_id = serializers.CharField()
    sender_id = serializers.UUIDField(allow_null=True)
    body = serializers.CharField()
    created_at = serializers.DateTimeField()
    client_id = serializers.CharField(allow_null=True)

    class Meta:
        ref_name = "ThreadMessage"


class KeepApi(APIView):
    class InputSerializer(serializers.Serializer):
        room_id = StrictUUIDField()

        class Meta:
            ref_name = "KeepInput"

    class OutputSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=["asked", "kept"])
        thread_id = serializers.CharField(allow_null=True, help_text="set once both asked")

        class Meta:
            ref_name = "KeepOutput"

    @extend_schema(
        request=InputSerializer,
        responses={200: OutputSerializer},
        summary="Ask to keep in touch with the stranger of a chat",
        description="While the chat lasts and up to KEEP_IN_TOUCH_SECONDS (300) after it ended. asked: the "
        "partner is told (keep_requested); kept: both asked, the thread exists (both told kept). Asking again "
        "answers the same. Errors: 400 invalid, 403 banned, 403 not_participant, 404 room_not_found, "
        "409 no_partner, 409 keep_expired.",
    )
    def post(self, request):
        data = validated_input(self.InputSerializer, request)
        outcome = keep_request(room_id=data["room_id"], user_id=request.user.id, ip_hash=request.user.ip_hash)
        return Response({"status": outcome.status, "thread_id": outcome.thread_id})


# Private, changing data: a browser going Back must not show a cached list or page.
class ThreadListApi(APIView):
    class OutputSerializer(serializers.Serializer):
        class ThreadOutput(serializers.Serializer):
            thread_id = serializers.CharField()
            partner_id = serializers.UUIDField()
            partner_name = serializers.CharField()
            last_message = ThreadMessageOutput(allow_null=True)
            last_message_at = serializers.DateTimeField(help_text="the newest activity: last message or (re)opening")
            unread = serializers.BooleanField(help_text="the last message is the partner's and not yet read")

            class Meta:
                ref_name = "ThreadSummary"

        results = ThreadOutput(many=True, help_text="newest activity first")

        class Meta:
            ref_name = "ThreadList"

    @extend_schema(responses={200: OutputSerializer}, summary="Your threads")
    def get(self, request):
        summaries = threads_of(user_id=request.user.id)
        return Response(
            {
                "results": [
                    {
                        "thread_id": summary.thread_id,
                        "partner_id": str(summary.partner_id),
                        "partner_name": summary.partner_name,
                        "last_message": thread_message_payload(summary.last_message) if summary.last_message else None,
                        "last_message_at": serializers.DateTimeField().to_representation(summary.last_message_at),
                        "unread": summary.unread,
                    }
                    for summary in summaries
                ]
            }
        )


class ThreadApi(APIView):
    @extend_schema(
        request=None,
        responses={204: None, 410: None},
        summary="End a thread for both members",
        description=f"Afterwards both members get 410 thread_ended for it. Errors: {MEMBERS_ONLY}.",
    )
    def delete(self, request, thread_id):
        thread_end(thread_id=thread_id, user_id=request.user.id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ThreadMessagesApi(APIView):
    class QuerySerializer(serializers.Serializer):
        before = serializers.UUIDField(required=False, help_text="next_before of the previous page")
        limit = serializers.IntegerField(
            required=False, min_value=1, max_value=PAGE_MAX_LIMIT, default=PAGE_DEFAULT_LIMIT
        )

    class PageOutput(serializers.Serializer):
        results = ThreadMessageOutput(many=True, help_text="oldest to newest")
        next_before = serializers.UUIDField(allow_null=True, help_text="null when there is nothing older")

        class Meta:
            ref_name = "ThreadMessagePage"

    class InputSerializer(serializers.Serializer):
        body = StrictCharField(
            trim_whitespace=False,
            min_length=1,
            max_length=MAX_BODY_CHARS,
            validators=[NOT_BLANK],
            help_text=f"1-{MAX_BODY_CHARS} characters, not only whitespace (trimmed before it is stored)",
        )
        client_id = StrictCharField(
            trim_whitespace=False,
            min_length=1,
            max_length=MAX_CLIENT_ID_CHARS,
            help_text="Your idempotency key: a resend with it is answered 200 with the stored message.",
        )

        class Meta:
            ref_name = "ThreadMessageInput"

    @extend_schema(
        parameters=[QuerySerializer],
        responses={200: PageOutput, 410: None},
        summary="A page of a thread's messages",
        description=f"The newest page first; each page oldest to newest. Errors: 400 invalid, {MEMBERS_ONLY}.",
    )
    def get(self, request, thread_id):
        query = self.QuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        page = thread_messages_page(
            thread_id=thread_id,
            user_id=request.user.id,
            before=query.validated_data.get("before"),
            limit=query.validated_data["limit"],
        )
        return Response(
            {
                "results": [thread_message_payload(message) for message in page.messages],
                "next_before": str(page.next_before) if page.next_before else None,
            }
        )

    @extend_schema(
        request=InputSerializer,
        responses={201: ThreadMessageOutput, 200: ThreadMessageOutput, 410: None},
        summary="Send a message to a thread",
        description="201 with the stored message; 200 with the message already stored under this client_id "
        f"(a resend: neither stored nor delivered again). Errors: 400 invalid, 403 banned, 429 rate_limited, "
        f"{MEMBERS_ONLY}.",
    )
    def post(self, request, thread_id):
        data = validated_input(self.InputSerializer, request)
        enforce(
            scope="message",
            key=str(request.user.id),
            limit=Limit(burst=settings.MESSAGE_RATE_BURST, rate=settings.MESSAGE_RATE_PER_SECOND),
        )
        posted = thread_message_post(
            thread_id=thread_id,
            sender_id=request.user.id,
            body=data["body"],
            client_id=data["client_id"],
            ip_hash=request.user.ip_hash,
        )
        return Response(
            thread_message_payload(posted.message),
            status=status.HTTP_201_CREATED if posted.created else status.HTTP_200_OK,
        )


class ThreadReadApi(APIView):
    class InputSerializer(serializers.Serializer):
        message_id = StrictUUIDField(help_text="the newest message you have seen")

        class Meta:
            ref_name = "ThreadReadInput"

    @extend_schema(
        request=InputSerializer,
        responses={204: None, 410: None},
        summary="Mark a thread read up to a message",
        description=f"Moves your last-read marker (never back); the list's unread dot reads it. "
        f"Errors: 400 invalid, {MEMBERS_ONLY}.",
    )
    def post(self, request, thread_id):
        data = validated_input(self.InputSerializer, request)
        thread_mark_read(thread_id=thread_id, user_id=request.user.id, message_id=data["message_id"])
        return Response(status=status.HTTP_204_NO_CONTENT)
