from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from chat import views as pages
from chat.apis import PresenceApi

urlpatterns = [
    path("", pages.home, name="home"),
    path("chat/", pages.chat, name="chat"),
    path("report/", pages.report, name="report"),
    path("api/chat/", include("matchmaking.urls")),
    path("api/chat/", include("chat.urls")),
    path("api/presence", PresenceApi.as_view(), name="presence"),
    path("api/", include("reports.urls")),
    path("api/schema/", SpectacularAPIView.as_view(authentication_classes=[], permission_classes=[]), name="schema"),
    path("admin/", admin.site.urls),
]
