from django.urls import path

from chat.apis import ChatMessageApi, IceServersApi, RoomMessagesApi

urlpatterns = [
    path("message", ChatMessageApi.as_view(), name="chat-message"),
    path("rooms/<uuid:room_id>/messages", RoomMessagesApi.as_view(), name="chat-room-messages"),
    path("ice-servers", IceServersApi.as_view(), name="chat-ice-servers"),
]
