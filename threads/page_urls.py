"""The threads pages, mounted at /threads/."""

from django.urls import path

from threads import views
from threads.urls import THREAD

urlpatterns = [
    path("", views.thread_list, name="thread-list"),
    path(f"{THREAD}/", views.thread_detail, name="thread-detail"),
]
