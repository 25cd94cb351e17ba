"""Reading the state machines: the states a transition may start from, taken from the model's own
FSM field, so a query filter ("the enrollments a stop applies to") never restates them by hand."""

from __future__ import annotations

from django.db import models


def source_states(model: type[models.Model], transition: str, *, field: str = "state") -> tuple[str, ...]:
    """The states ``model.<transition>()`` may start from, in declaration order. Raises LookupError
    for a name that is no transition of that field (a typo must not become an empty filter)."""
    fsm_field = model._meta.get_field(field)
    sources = [
        t.source for t in fsm_field.get_all_transitions(model) if t.name == transition and t.source != "*"
    ]
    if not sources:
        raise LookupError(f"{model.__name__}.{field} has no transition named {transition!r}.")
    return tuple(dict.fromkeys(sources))
