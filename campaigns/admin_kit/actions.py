"""The admin's one "ask why, call the service for each object, say what happened" action.

``reason_action(...)`` makes a list action: the first click shows the selected objects and a
rationale box (``admin/aicmo/reason_action.html``); submitting it calls ``service(obj, user,
rationale)`` once per object, each in its own service call, and reports one success message with
the count and one error message per refused object (its name and the service's reason). With
``ask=False`` it calls at once (the rationale is empty).

The service checks the role itself (``require_action``), so a role refusal is one more message
naming the permission; nothing here answers with an error page.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.http import HttpRequest
from django.template.response import TemplateResponse

from .refusals import REFUSALS, refusal_text

TEMPLATE = "admin/aicmo/reason_action.html"
Service = Callable[[Any, Any, str], Any]


class ReasonForm(forms.Form):
    """The rationale an action or a button asks for; recorded with the audit event it makes."""

    rationale = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
        max_length=2000,
        help_text="Why. Recorded in the audit log.",
    )

    def __init__(self, *args, required: bool = True, help_text: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["rationale"].required = required
        if help_text:
            self.fields["rationale"].help_text = help_text


def run_for_each(
    request: HttpRequest, objects: Iterable[Any], call: Callable[[Any], Any], *, label: str, noun: str
) -> int:
    """``call(obj)`` for each object; one success message with the count, one error per refusal."""
    done = 0
    for obj in objects:
        try:
            call(obj)
        except REFUSALS as exc:
            messages.error(request, f"{obj}: {refusal_text(exc)}")
        else:
            done += 1
    if done:
        messages.success(request, f"{label}: {done} {noun} done.")
    return done


def reason_action(
    service: Service,
    *,
    description: str,
    label: str,
    noun: str = "item(s)",
    title: str = "",
    intro: str = "",
    required: bool = True,
    ask: bool = True,
    narrow: Callable[[Any], Any] | None = None,
    help_text: str = "",
):
    """A list action: ask for a rationale (``required`` or optional; none when ``ask`` is False),
    then ``service(obj, user, rationale)`` per selected object. ``narrow(queryset)`` keeps only
    the objects the action applies to (e.g. open flags); ``title`` heads the question page."""

    @admin.action(description=description)
    def action(modeladmin, request: HttpRequest, queryset):
        objects = narrow(queryset) if narrow is not None else queryset
        if not ask:
            run_for_each(request, objects, lambda obj: service(obj, request.user, ""), label=label, noun=noun)
            return None
        # The question page always posts the rationale box, so its presence means "answered".
        answered = "rationale" in request.POST
        form = ReasonForm(request.POST if answered else None, required=required, help_text=help_text)
        if answered and form.is_valid():
            why = form.cleaned_data["rationale"]
            run_for_each(
                request, objects, lambda obj: service(obj, request.user, why), label=label, noun=noun
            )
            return None
        context = {
            **modeladmin.admin_site.each_context(request),
            "opts": modeladmin.model._meta,
            "title": title or f"{label}: {objects.count()} {noun}",
            "intro": intro,
            "objects": objects,
            "selected": request.POST.getlist(ACTION_CHECKBOX_NAME),
            "form": form,
            "action": request.POST.get("action", ""),
            "label": label,
        }
        return TemplateResponse(request, TEMPLATE, context)

    return action
