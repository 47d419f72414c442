"""The seven sessions of the EchoRoom seed, with fixed ids so that links to them last."""

import uuid

from django.db import migrations

SEEDED = [
    ("5eed0000-0000-4000-8000-000000000001", "motivated", "Motivated",
     "Share your goals, celebrate progress and keep each other going."),
    ("5eed0000-0000-4000-8000-000000000002", "hopeful", "Hopeful",
     "For looking forward: small good things, plans and what keeps you hoping."),
    ("5eed0000-0000-4000-8000-000000000003", "lonely", "Lonely",
     "Feeling alone? Talk with people who understand. Nobody has to be alone here."),
    ("5eed0000-0000-4000-8000-000000000004", "joyful", "Joyful",
     "Good news, happy moments and things that made you smile today."),
    ("5eed0000-0000-4000-8000-000000000005", "calm", "Calm",
     "A slow, quiet room to unwind, breathe and talk gently."),
    ("5eed0000-0000-4000-8000-000000000006", "loving", "Loving",
     "Kindness, gratitude and the people and things you love."),
    ("5eed0000-0000-4000-8000-000000000007", "books", "Books",
     "What are you reading? Recommendations, favourite lines and book talk."),
]


def seed_sessions(apps, schema_editor):
    ChatSession = apps.get_model("moodrooms", "ChatSession")
    for session_id, category, name, description in SEEDED:
        ChatSession.objects.update_or_create(
            id=uuid.UUID(session_id),
            defaults={"category": category, "name": name, "description": description, "is_seeded": True},
        )


def unseed_sessions(apps, schema_editor):
    apps.get_model("moodrooms", "ChatSession").objects.filter(id__in=[uuid.UUID(row[0]) for row in SEEDED]).delete()


class Migration(migrations.Migration):
    dependencies = [("moodrooms", "0001_initial")]

    operations = [migrations.RunPython(seed_sessions, unseed_sessions)]
