from django.urls import path

from matchmaking.apis import ChatLeaveApi, ChatNextApi, ChatStartApi

urlpatterns = [
    path("start", ChatStartApi.as_view(), name="chat-start"),
    path("next", ChatNextApi.as_view(), name="chat-next"),
    path("leave", ChatLeaveApi.as_view(), name="chat-leave"),
]
