"""The keep-in-touch API, mounted at /api/ (before the chat includes, which own /api/chat/ otherwise)."""

from django.urls import path

from threads.apis import KeepApi, ThreadApi, ThreadListApi, ThreadMessagesApi, ThreadReadApi

# Thread ids are two UUIDs joined by "__"; any other string is simply not found.
THREAD = "<str:thread_id>"

urlpatterns = [
    path("chat/keep", KeepApi.as_view(), name="chat-keep"),
    path("threads", ThreadListApi.as_view(), name="threads"),
    path(f"threads/{THREAD}", ThreadApi.as_view(), name="thread"),
    path(f"threads/{THREAD}/messages", ThreadMessagesApi.as_view(), name="thread-messages"),
    path(f"threads/{THREAD}/read", ThreadReadApi.as_view(), name="thread-read"),
]
