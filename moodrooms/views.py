"""The mood room pages. Each renders a template; the behaviour lives in static/js."""

import json

from django.shortcuts import render

from chat.protocol import MAX_MESSAGE_CHARS
from chat.views import page
from moodrooms.models import Category
from moodrooms.protocol import EDIT_WINDOW_SECONDS, MOODS, REACTION_EMOJI


@page
def rooms(request):
    return render(request, "rooms.html", {"categories": Category.choices, "moods": MOODS})


@page
def room(request, session_id):
    # Membership is checked by the socket and the API the page uses: the page itself holds nothing.
    config = {
        "session_id": str(session_id),
        "max_message_length": MAX_MESSAGE_CHARS,
        "edit_window_seconds": EDIT_WINDOW_SECONDS,
        "reactions": REACTION_EMOJI,
        "moods": MOODS,
    }
    return render(request, "rooms_room.html", {"config": json.dumps(config), "max_message_length": MAX_MESSAGE_CHARS})
