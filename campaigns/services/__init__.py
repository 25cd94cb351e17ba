"""The only code that writes this app's tables. Each function is one audited business action, in
the module named for what it holds: ``audit`` (record_audit_event), ``clients``, ``editing``
(create and edit a campaign, dry run or live), ``transitions`` (the lifecycle), ``budget``,
``policy``, ``risk_flags``, ``system_pause``, ``sender_identity``, ``retention``. Import from
those modules."""
