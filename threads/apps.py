from django.apps import AppConfig


class ThreadsConfig(AppConfig):
    name = "threads"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # chat's purge_messages may not import threads: threads adds its purges to it.
        from chat.maintenance import register_purge
        from threads import maintenance

        register_purge(noun="thread messages", purge=maintenance.thread_messages_purge)
        register_purge(noun="ended threads", purge=maintenance.ended_threads_purge)
        register_purge(noun="expired keep requests", purge=maintenance.keep_requests_purge)
