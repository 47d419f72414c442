from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ReportsConfig(AppConfig):
    name = "reports"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from chat.moderation import register_ban_check
        from reports.selectors import ban_active_for

        register_ban_check(ban_active_for)
        post_migrate.connect(_sync_moderators_group, sender=self)


def _sync_moderators_group(**kwargs):
    # After migrate, not in a data migration: permissions are created by a post_migrate
    # handler of django.contrib.auth, so on a fresh database they do not exist while
    # migrations run. Ours runs after it (auth comes first in INSTALLED_APPS).
    from reports.services import moderators_group_sync

    moderators_group_sync()
