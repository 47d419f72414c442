from django.apps import AppConfig


class MoodroomsConfig(AppConfig):
    name = "moodrooms"
    verbose_name = "Mood rooms"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # chat's ICE servers may not import moodrooms: members of a mood room may call too.
        from chat.ice import register_call_check
        from moodrooms.voice import in_a_mood_room

        register_call_check(in_a_mood_room)
