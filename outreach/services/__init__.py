"""Outreach services, one module per concern: ``sending`` (the send path, a package), ``cycle`` (the
campaign cycle), ``tracking`` (provider events and replies), ``operator_tasks`` (a package),
``preview``, ``erasure``, ``retention``. Import from those modules."""
