"""Operator admin for Campaign Ops: the task list (filters incl. overdue), "My tasks today" with the
SOP, the creative text and the start / complete-with-proof / skip / fail / metrics forms, and the
"Generate operator tasks" page. Every button calls the same services as the API."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme

from campaigns.admin_kit.base import NOBODY, AicmoHistoryAdmin, AicmoTabularInline, ReadOnlyAdminMixin
from campaigns.admin_kit.display import campaign_time_column, state_column
from campaigns.admin_kit.refusals import refusals_as_messages
from campaigns.errors import DomainError
from campaigns.models import Campaign

from ..models.operator_tasks import OPEN_TASK_STATES, MetricEntry, OperatorTask, OperatorTaskState
from ..selectors.operator_tasks import my_tasks_today, operator_tasks_visible_to
from ..services.operator_tasks.generation import generate_operator_tasks
from ..services.operator_tasks.lifecycle import assign_task, complete_task, fail_task, skip_task, start_task
from ..services.operator_tasks.metrics import record_metrics
from ..services.operator_tasks.rules import RUNNABLE_CAMPAIGN_STATES

__all__ = ["OperatorTaskAdmin"]

TEMPLATES = "admin/outreach/operator_tasks"


class CompleteForm(forms.Form):
    proof_url = forms.CharField(
        required=False,
        max_length=1000,
        label="Proof URL",
        help_text="Link to the published post.",
        widget=forms.TextInput(attrs={"size": 60, "placeholder": "https://…"}),
    )
    proof_text = forms.CharField(
        required=False,
        max_length=4000,
        label="Or what was done",
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=4000, widget=forms.Textarea(attrs={"rows": 2, "cols": 60}))


class MetricsForm(forms.Form):
    impressions = forms.IntegerField(min_value=0, initial=0)
    engagements = forms.IntegerField(min_value=0, initial=0)
    clicks = forms.IntegerField(min_value=0, initial=0)
    note = forms.CharField(required=False, max_length=500)


class GenerateTasksForm(forms.Form):
    campaign = forms.ModelChoiceField(
        queryset=Campaign.objects.filter(state__in=RUNNABLE_CAMPAIGN_STATES),
        help_text="Approved or active campaigns. Tasks come from calendar items on LinkedIn, "
        "Instagram, X and email newsletters that have approved creative.",
    )


class OverdueFilter(admin.SimpleListFilter):
    title = "overdue"
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("yes", "Overdue"), ("no", "Not overdue")]

    def queryset(self, request, queryset):
        overdue = {"state__in": OPEN_TASK_STATES, "due_at__lt": timezone.now()}
        if self.value() == "yes":
            return queryset.filter(**overdue)
        if self.value() == "no":
            return queryset.exclude(**overdue)
        return queryset


class MetricEntryInline(ReadOnlyAdminMixin, AicmoTabularInline):
    """Metrics are recorded from the task's work page (record_metrics), never edited."""

    model = MetricEntry
    fields = ["recorded_at", "impressions", "engagements", "clicks", "note", "recorded_by"]
    readonly_fields = fields
    extra = 0


class AssigneeForm(forms.ModelForm):
    class Meta:
        model = OperatorTask
        fields = ["assignee"]


@admin.register(OperatorTask)
class OperatorTaskAdmin(AicmoHistoryAdmin):
    add_action = NOBODY  # tasks come from the calendar, follow-ups and escalations
    change_action = "task.work"
    delete_action = NOBODY  # a task is skipped with a reason, never deleted
    form = AssigneeForm
    change_list_template = f"{TEMPLATES}/change_list.html"
    list_display = [
        "id",
        "title",
        "campaign",
        "platform",
        "task_type",
        "state_badge",
        "due_at_local",
        "is_overdue",
        "assignee",
        "work_link",
    ]
    list_filter = ["state", "platform", "task_type", OverdueFilter, "campaign"]
    search_fields = ["title", "proof_url", "proof_text"]
    list_select_related = ["campaign", "assignee"]
    date_hierarchy = "due_at"
    inlines = [MetricEntryInline]
    readonly_fields = [
        "work_link",
        "campaign",
        "task_type",
        "platform",
        "content_type",
        "title",
        "state",
        "due_at_local",
        "overdue_since_local",
        "sop_key",
        "sop_version",
        "calendar_item",
        "creative",
        "parent",
        "started_at_local",
        "proof_url",
        "proof_text",
        "outcome_reason",
        "completed_at_local",
        "completed_by",
        "created_by",
        "created_at_local",
    ]
    fieldsets = (
        (None, {"fields": ("work_link", "campaign", "title", "task_type", "platform", "content_type")}),
        (
            "Assignment",
            {"fields": ("assignee", "state", "due_at_local", "overdue_since_local", "started_at_local")},
        ),
        ("Source", {"fields": ("sop_key", "sop_version", "calendar_item", "creative", "parent")}),
        (
            "Outcome",
            {"fields": ("proof_url", "proof_text", "outcome_reason", "completed_at_local", "completed_by")},
        ),
        ("Record", {"fields": ("created_by", "created_at_local")}),
    )
    state_badge = state_column()
    # Times in the campaign's time zone, named (the task card shows its due time the same way).
    due_at_local = campaign_time_column("due_at", "Due")
    overdue_since_local = campaign_time_column("overdue_since", "Overdue since")
    started_at_local = campaign_time_column("started_at", "Started")
    completed_at_local = campaign_time_column("completed_at", "Completed")
    created_at_local = campaign_time_column("created_at", "Created")

    @admin.display(boolean=True, description="Overdue")
    def is_overdue(self, obj: OperatorTask) -> bool:
        return obj.is_open and obj.due_at < timezone.now()

    @admin.display(description="Work on it")
    def work_link(self, obj: OperatorTask) -> str:
        if not obj.pk:
            return "-"
        url = reverse("admin:outreach_operatortask_work", args=[obj.pk])
        return format_html('<a class="button" href="{}">SOP and actions</a>', url)

    def save_model(self, request: HttpRequest, obj: OperatorTask, form, change: bool) -> None:
        # A refusal (a closed task, an assignee who is not staff) shows on this form.
        assign_task(task=obj, assignee=form.cleaned_data.get("assignee"), actor=request.user)

    # --- pages ---------------------------------------------------------------------------------

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("my-tasks/", view(self.my_tasks_view), name="outreach_operatortask_my_tasks"),
            path("generate/", view(self.generate_view), name="outreach_operatortask_generate"),
            path("<int:task_id>/work/", view(self.work_view), name="outreach_operatortask_work"),
            path("<int:task_id>/act/<str:step>/", view(self.act_view), name="outreach_operatortask_act"),
            *super().get_urls(),
        ]

    def _context(self, request: HttpRequest, title: str, **extra) -> dict:
        return {**self.admin_site.each_context(request), "opts": self.model._meta, "title": title, **extra}

    def _card(self, task: OperatorTask, now) -> dict:
        return {
            "task": task,
            "is_open": task.is_open,
            "can_start": task.state == OperatorTaskState.PENDING,
            "overdue": task.is_open and task.due_at < now,
            "complete_form": CompleteForm(prefix=f"t{task.pk}"),
            "reason_form": ReasonForm(prefix=f"t{task.pk}"),
            "metrics_form": MetricsForm(prefix=f"t{task.pk}"),
        }

    def my_tasks_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        now = timezone.now()
        groups = my_tasks_today(request.user, now=now)
        context = self._context(
            request,
            "My tasks today",
            groups=[
                {
                    "campaign": g.campaign,
                    "overdue": g.overdue_count,
                    "cards": [self._card(t, now) for t in g.tasks],
                }
                for g in groups
            ],
            next_url=request.get_full_path(),
        )
        return TemplateResponse(request, f"{TEMPLATES}/my_tasks.html", context)

    def work_view(self, request: HttpRequest, task_id: int) -> HttpResponse:
        task = get_object_or_404(
            operator_tasks_visible_to(request.user).select_related("creative"), pk=task_id
        )
        if not self.has_view_permission(request, task):
            raise PermissionDenied
        context = self._context(
            request,
            str(task),
            card=self._card(task, timezone.now()),
            original=task,
            next_url=request.get_full_path(),
        )
        return TemplateResponse(request, f"{TEMPLATES}/work.html", context)

    def act_view(self, request: HttpRequest, task_id: int, step: str) -> HttpResponse:
        task = get_object_or_404(operator_tasks_visible_to(request.user), pk=task_id)
        if request.method != "POST" or not self.has_change_permission(request, task):
            raise PermissionDenied
        next_url = request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
            next_url = reverse("admin:outreach_operatortask_work", args=[task.pk])
        prefix = f"t{task.pk}"
        with refusals_as_messages(request, f"Task #{task.pk}: ") as attempt:
            message = self._act(request, task, step, prefix)
        if attempt.ok and message:
            messages.success(request, f"Task #{task.pk}: {message}")
        return HttpResponseRedirect(next_url)

    def _act(self, request: HttpRequest, task: OperatorTask, step: str, prefix: str) -> str | None:
        actor = request.user
        if step == "start":
            start_task(task=task, actor=actor)
            return "started."
        if step == "complete":
            form = CompleteForm(request.POST, prefix=prefix)
            if not form.is_valid():
                raise DomainError(_form_errors(form))
            done = complete_task(task=task, actor=actor, **form.cleaned_data)
            follow_ups = done.follow_ups.count()
            return "done." + (f" {follow_ups} engagement follow-up(s) scheduled." if follow_ups else "")
        if step in ("skip", "fail"):
            form = ReasonForm(request.POST, prefix=prefix)
            if not form.is_valid():
                raise DomainError(f"A reason is required to {step} an operator task.")
            service = skip_task if step == "skip" else fail_task
            closed = service(task=task, reason=form.cleaned_data["reason"], actor=actor)
            return f"{closed.get_state_display().lower()}."
        if step == "metrics":
            form = MetricsForm(request.POST, prefix=prefix)
            if not form.is_valid():
                raise DomainError(_form_errors(form))
            record_metrics(task=task, actor=actor, **form.cleaned_data)
            return "metrics recorded."
        raise DomainError(f"Unknown step {step!r}; use start, complete, skip, fail or metrics.")

    def generate_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_change_permission(request):
            raise PermissionDenied
        initial = {"campaign": request.GET.get("campaign")} if request.GET.get("campaign") else None
        form = GenerateTasksForm(request.POST or None, initial=initial)
        if request.method == "POST" and form.is_valid():
            campaign = form.cleaned_data["campaign"]
            with refusals_as_messages(request) as attempt:
                report = generate_operator_tasks(campaign=campaign, actor=request.user)
            if attempt.ok:
                messages.success(
                    request,
                    f"{campaign.name}: {len(report.created)} task(s) created, {report.already_existing} "
                    f"already existed, {report.without_approved_creative} calendar item(s) wait for "
                    "approved creative.",
                )
                changelist = reverse("admin:outreach_operatortask_changelist")
                return HttpResponseRedirect(f"{changelist}?campaign__id__exact={campaign.pk}")
        return TemplateResponse(
            request,
            f"{TEMPLATES}/generate.html",
            self._context(request, "Generate operator tasks", form=form),
        )


def _form_errors(form: forms.Form) -> str:
    return "; ".join(f"{name}: {' '.join(errors)}" for name, errors in form.errors.items())
