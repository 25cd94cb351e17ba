"""The only code that writes operator tasks, one module per concern: ``rules`` (which campaigns and
calendar items get operator work), ``generation`` (tasks from the calendar), ``lifecycle`` (start,
complete, fail, skip, assign), ``follow_ups`` (engagement tasks after a post), ``metrics`` (manual
metric entries), ``escalation`` (overdue detection and the weekly escalation to the campaign owner)
and ``replies`` (tasks the reply inbox hands to a person). Import from those modules."""
