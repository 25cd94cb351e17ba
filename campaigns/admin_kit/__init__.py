"""The shared admin kit: every admin module of the project builds on it.

- ``base``: ``AicmoModelAdmin`` (the one base class; the admin framework's classes are named there
  only), ``AicmoHistoryAdmin`` (the same with simple-history's pages), ``AicmoTabularInline`` /
  ``AicmoStackedInline``, ``ReadOnlyAdminMixin``, and the permission words ``DJANGO``, ``NOBODY``,
  ``STAFF``;
- ``actions``: ``reason_action`` (ask why, call the service per object, say what happened),
  ``ReasonForm``, ``run_for_each``;
- ``refusals``: a service's refusal as form errors or messages;
- ``display``: ``state_badge`` / ``state_column``, ``label_column``, ``json_html``;
- ``fields``: ``ChannelsField`` (channels as checkboxes);
- ``framework``: framework models shown to superusers and the admin role only.

Import each name from its module (``from campaigns.admin_kit.base import AicmoModelAdmin``).
"""
