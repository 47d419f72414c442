"""{% your_threads_link %}: the header's link to "Your threads", once the visitor has one."""

from django import template
from django.urls import reverse
from django.utils.html import format_html

from threads.selectors import has_threads

register = template.Library()


@register.simple_tag(takes_context=True)
def your_threads_link(context) -> str:
    request = context.get("request")
    visitor_id = getattr(request, "visitor_id", None)
    if visitor_id is None or not has_threads(user_id=visitor_id):
        return ""
    return format_html('<a class="header-link" id="your-threads" href="{}">Your threads</a>', reverse("thread-list"))
