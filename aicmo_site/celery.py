"""The one Celery app. Tasks live in each app's ``tasks.py`` and are found automatically.

A worker goes on through a broker outage: it keeps retrying the connection for as long
as Redis is away (settings.py, "broker outages") and, with a ``redis://`` broker, talks to Redis
through :class:`RedisTransport` below, whose channel can be closed while Redis is down.

A task's database connection is kept for the next task (``DB_CONN_MAX_AGE``) and checked before
that task uses it (``close_old_connections`` around each task, as Django does around each request;
settings.py: ``CELERY_DB_REUSE_MAX``): a new PostgreSQL backend for every campaign cycle was a
tenth of a send cycle's CPU (docs/PERFORMANCE.md), and a connection a database restart closed is
replaced, not handed to the task.
"""

import os
from queue import Empty

from celery import Celery
from celery.signals import task_postrun, task_prerun
from kombu.transport import redis as kombu_redis

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aicmo_site.settings")


class RedisChannel(kombu_redis.Channel):
    """kombu's Redis channel, except that a lost connection does not leave it half closed.

    Why: when a worker loses Redis, Celery 5.7 (``Consumer.on_connection_error_after_connected``)
    first calls ``connection.collect()``, which closes this channel and then detaches the transport,
    and afterwards ``connection.close()``, which closes it again. kombu's ``close`` begins by reading
    the reply of the BRPOP the worker has in flight (it waits for a task whenever a process is free)
    and expects only ``Empty``; on the dead socket that read raises a connection error, so the first
    close stops there and the channel stays open. The second close then puts the unacknowledged
    messages back (a running ``acks_late`` task, a prefetched one) through a client built from the
    detached transport, fails with ``AttributeError: 'NoneType' object has no attribute 'hostname'``,
    and Celery, which expects only connection errors there, exits: "Unrecoverable error". An idle
    worker holds no unacknowledged message, so only a busy one died.

    Here a connection error on that read ends the read like ``Empty`` does (nothing more can arrive
    on a dead connection) and the close goes on. Putting the unacknowledged messages back then fails
    with a connection error, which Celery ignores; Redis still holds them and hands them out again
    after the visibility timeout, as it does for a worker that died.
    """

    def close(self):
        if self._in_poll:
            try:
                self._brpop_read()
            except (Empty, *self.connection_errors):
                pass
        super().close()


class RedisTransport(kombu_redis.Transport):
    """kombu's Redis transport with :class:`RedisChannel` (settings: ``CELERY_BROKER_TRANSPORT``)."""

    Channel = RedisChannel


app = Celery("aicmo")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
@task_postrun.connect
def _keep_or_close_connections(task=None, **kwargs) -> None:
    if task is not None and getattr(task.request, "is_eager", False):
        return  # run in its caller's process and transaction (the demo, tests): not the task's to close
    from django.db import close_old_connections

    close_old_connections()
