"""The reply inbox (docs/reply-inbox.md): every mailbox's replies across clients, filtered by client,
campaign, mailbox, category and unhandled; each reply opens as its thread (our emails to that lead,
the replies, our answers, in order) with re-categorise, mark handled and answer. The services in
``outreach.services.inbox.operations`` check the role and audit; this module only asks and shows."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, Q
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html

from campaigns.admin_kit.actions import reason_action
from campaigns.admin_kit.base import NOBODY, AicmoModelAdmin
from campaigns.admin_kit.display import campaign_time_column
from campaigns.admin_kit.refusals import REFUSALS, refusal_text
from campaigns.models import Client

from ..models import InboundReply, Message, ReplyAnswer, ReplyRules, SendingMailbox
from ..replies.categories import ReplyCategory
from ..services.inbox.actions import ACTIONS, DEFAULT_ACTIONS, validate_rules
from ..services.inbox.operations import answer_reply, mark_reply_handled, recategorise_reply
from .filters import CampaignFilter

__all__ = ["InboundReplyAdmin", "ReplyRulesAdmin"]

TEMPLATE = "admin/outreach/inbox/thread.html"


class ClientFilter(admin.SimpleListFilter):
    title = "client"
    parameter_name = "client"

    def lookups(self, request, model_admin):
        return [(str(c.pk), c.name) for c in Client.objects.order_by("name").only("pk", "name")]

    def queryset(self, request, queryset):
        value = self.value()
        return queryset.filter(campaign__client_id=value) if value and value.isdigit() else queryset


class MailboxFilter(admin.SimpleListFilter):
    title = "mailbox"
    parameter_name = "mailbox"

    def lookups(self, request, model_admin):
        return [(str(m.pk), m.email) for m in SendingMailbox.objects.order_by("email").only("pk", "email")]

    def queryset(self, request, queryset):
        value = self.value()
        return queryset.filter(mailbox_id=value) if value and value.isdigit() else queryset


class HandledFilter(admin.SimpleListFilter):
    title = "handled"
    parameter_name = "handled"

    def lookups(self, request, model_admin):
        return [("no", "Unhandled"), ("yes", "Handled")]

    def queryset(self, request, queryset):
        if self.value() == "no":
            return queryset.filter(handled_at__isnull=True)
        if self.value() == "yes":
            return queryset.filter(handled_at__isnull=False)
        return queryset


class RecategoriseForm(forms.Form):
    category = forms.ChoiceField(choices=ReplyCategory.choices)
    rationale = forms.CharField(widget=forms.Textarea(attrs={"rows": 2, "cols": 80}), max_length=2000)


class AnswerForm(forms.Form):
    subject = forms.CharField(max_length=500, required=False, help_text="Empty: “Re: ” and their subject.")
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 8, "cols": 80}), max_length=20_000)


def _handle(reply, user, rationale):
    return mark_reply_handled(reply=reply, actor=user, rationale=rationale)


@admin.register(InboundReply)
class InboundReplyAdmin(AicmoModelAdmin):
    change_list_template = "admin/outreach/inbox/change_list.html"
    add_action = NOBODY
    # No edit form: the thread page's buttons call the services, which check the role.
    change_action = NOBODY
    delete_action = NOBODY
    list_display = [
        "id",
        "received_at_local",
        "from_email",
        "short_subject",
        "category_badge",
        "campaign",
        "mailbox",
        "matched_by",
        "sender_match",
        "handled",
    ]
    # A loose or unmatched reply (sender is not the lead) changed nothing: an operator reviews it.
    list_filter = [
        HandledFilter,
        "category",
        ClientFilter,
        CampaignFilter,
        MailboxFilter,
        "sender_match",
        "matched_by",
        "corrected",
        "is_auto_reply",
    ]
    search_fields = ["from_email", "subject", "message_id_header"]
    list_select_related = ["message", "campaign__client", "mailbox"]
    date_hierarchy = "received_at"
    show_full_result_count = False
    actions = [
        reason_action(
            _handle,
            description="Mark handled",
            label="Mark handled",
            noun="reply(ies)",
            required=False,
            help_text="Optional: what was done. Recorded in the audit log.",
        )
    ]
    received_at_local = campaign_time_column("received_at", "Received")

    @admin.display(description="Subject", ordering="subject")
    def short_subject(self, obj: InboundReply) -> str:
        return obj.subject if len(obj.subject) <= 60 else f"{obj.subject[:59]}…"

    @admin.display(description="Category", ordering="category")
    def category_badge(self, obj: InboundReply) -> str:
        label = obj.get_category_display() or "—"
        return format_html("{} <small>(corrected)</small>", label) if obj.corrected else label

    @admin.display(description="Handled", boolean=True, ordering="handled_at")
    def handled(self, obj: InboundReply) -> bool:
        return obj.handled_at is not None

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        context = getattr(response, "context_data", None)
        if context is not None and "cl" in context:
            counts = (
                context["cl"]
                .queryset.order_by()
                .aggregate(
                    total=Count("id", filter=Q(classifier_category__gt="")),
                    corrected=Count("id", filter=Q(corrected=True)),
                )
            )
            total, corrected = counts["total"], counts["corrected"]
            context["classifier_corrections"] = {
                "total": total,
                "corrected": corrected,
                "share": f"{corrected / total:.0%}" if total else "—",
            }
        return response

    # --- the thread page (the change page of a reply) ----------------------------------------------

    def change_view(self, request, object_id, form_url="", extra_context=None):
        reply = get_object_or_404(
            InboundReply.objects.select_related("campaign__client", "message__lead", "mailbox", "handled_by"),
            pk=object_id,
        )
        if not self.has_view_permission(request, reply):
            return super().change_view(request, object_id, form_url, extra_context)
        recategorise, answer = RecategoriseForm(initial={"category": reply.category}), AnswerForm()
        if request.method == "POST":
            doing = request.POST.get("do", "")
            try:
                if doing == "recategorise":
                    recategorise = RecategoriseForm(request.POST)
                    if recategorise.is_valid():
                        recategorise_reply(reply=reply, actor=request.user, **recategorise.cleaned_data)
                        messages.success(request, "Re-categorised; the new category's actions ran.")
                        return HttpResponseRedirect(request.path)
                elif doing == "handle":
                    mark_reply_handled(
                        reply=reply, actor=request.user, rationale=request.POST.get("rationale", "")
                    )
                    messages.success(request, "Marked handled.")
                    return HttpResponseRedirect(request.path)
                elif doing == "answer":
                    answer = AnswerForm(request.POST)
                    if answer.is_valid():
                        answer_reply(reply=reply, actor=request.user, **answer.cleaned_data)
                        messages.success(request, f"Answer sent to {reply.from_email}.")
                        return HttpResponseRedirect(request.path)
            except REFUSALS as exc:
                messages.error(request, refusal_text(exc))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Reply #{reply.pk}: {reply.subject[:80]}",
            "reply": reply,
            "thread": thread_of(reply),
            "recategorise_form": recategorise,
            "answer_form": answer,
            "changelist": reverse("admin:outreach_inboundreply_changelist"),
            **(extra_context or {}),
        }
        return TemplateResponse(request, TEMPLATE, context)


def thread_of(reply: InboundReply) -> list[dict]:
    """Our emails to the lead in this campaign, the lead's replies and our answers, oldest first."""
    entries: list[dict] = []
    lead_id = reply.message.lead_id if reply.message is not None else None
    if lead_id is not None:
        sent = Message.objects.filter(lead_id=lead_id, campaign_id=reply.campaign_id).exclude(sent_at=None)
        for m in sent.order_by("sent_at"):
            entries.append(
                {
                    "kind": "ours",
                    "at": m.sent_at,
                    "who": m.from_email,
                    "subject": m.subject,
                    "text": m.body_text,
                }
            )
        replies = InboundReply.objects.filter(message__lead_id=lead_id, campaign_id=reply.campaign_id)
    else:
        replies = InboundReply.objects.filter(pk=reply.pk)
    for r in replies.order_by("received_at"):
        entries.append(
            {
                "kind": "theirs",
                "at": r.received_at,
                "who": r.from_email,
                "subject": r.subject,
                "text": r.text,
                "note": r.size_note,
                "category": r.get_category_display(),
                "current": r.pk == reply.pk,
                "pk": r.pk,
            }
        )
    for a in ReplyAnswer.objects.filter(reply__in=replies).select_related("sent_by"):
        who = f"{a.from_email} (by {a.sent_by.get_username() if a.sent_by else 'system'})"
        entries.append(
            {"kind": "answer", "at": a.sent_at, "who": who, "subject": a.subject, "text": a.body_text}
        )
    entries.sort(key=lambda e: e["at"])
    return entries


class ReplyRulesForm(forms.ModelForm):
    class Meta:
        model = ReplyRules
        fields = ["campaign", "actions"]

    def clean_actions(self):
        return validate_rules(self.cleaned_data["actions"])


@admin.register(ReplyRules)
class ReplyRulesAdmin(AicmoModelAdmin):
    form = ReplyRulesForm
    list_display = ["campaign", "updated_at"]
    list_select_related = ["campaign__client"]
    autocomplete_fields = []

    def render_change_form(self, request, context, *args, **kwargs):
        defaults = "; ".join(
            f"{category}: {', '.join(names) or '—'}" for category, names in DEFAULT_ACTIONS.items()
        )
        known = "; ".join(f"{name} ({what})" for name, what in ACTIONS.items())
        context["adminform"].form.fields["actions"].help_text = (
            f"Per category, the actions instead of the default. Defaults — {defaults}. Actions — {known}. "
            "Any reply a person wrote stops the sequence whatever the rules say."
        )
        return super().render_change_form(request, context, *args, **kwargs)
