"""The threads pages. Each renders a template; the behaviour lives in static/js/thread*.js."""

from django.shortcuts import render

from chat.views import page
from threads.protocol import MAX_BODY_CHARS


@page
def thread_list(request):
    return render(request, "threads.html")


@page
def thread_detail(request, thread_id):
    # Membership is checked by the API and the socket the page uses: the page itself holds nothing.
    return render(request, "thread.html", {"thread_id": thread_id, "max_body_length": MAX_BODY_CHARS})
