"""Operator admin for sending mailboxes (docs/senders.md): transport (ESP or SMTP), the IMAP inbox
replies land in, warm-up (where each mailbox is today: "day 6 of warm-up: 15 of 50"), sender
readiness, and the actions "Test connection", "Re-check readiness" and
"Override failing checks" (approvers, with a rationale).

Passwords are write-only: the form has empty password boxes ("leave empty to keep"), the page says
only whether one is stored, and the stored value is a Fernet token (``outreach.secrets``)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import Count
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from campaigns.admin_kit.actions import reason_action
from campaigns.admin_kit.base import AicmoModelAdmin

from ..models import MailboxTransport, SendingMailbox
from ..services.mailboxes import set_mailbox_secrets
from ..services.readiness import override_mailbox_readiness, resume_mailbox
from ..transports import probe_connection
from ..warmup import warmup_status

__all__ = ["SendingMailboxAdmin"]

WARMUP_NUMBERS = ("warmup_start_volume", "warmup_daily_increase")
KEEP_HELP = "Stored encrypted and never shown. Leave empty to keep the stored one."


class SendingMailboxForm(forms.ModelForm):
    smtp_password = forms.CharField(
        label="SMTP password",
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=KEEP_HELP,
    )
    clear_smtp_password = forms.BooleanField(label="Remove the stored SMTP password", required=False)
    imap_password = forms.CharField(
        label="IMAP password",
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=KEEP_HELP,
    )
    clear_imap_password = forms.BooleanField(label="Remove the stored IMAP password", required=False)

    class Meta:
        model = SendingMailbox
        fields = [
            "email",
            "display_name",
            "client",
            "daily_cap",
            "reply_to",
            "is_active",
            "warmup_started_on",
            "warmup_start_volume",
            "warmup_daily_increase",
            "transport",
            "smtp_host",
            "smtp_port",
            "smtp_security",
            "smtp_username",
            "imap_host",
            "imap_port",
            "imap_ssl",
            "imap_username",
            "imap_folder",
            "dkim_selector",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.instance.pk:  # a new address warms up from today unless the operator clears it
            self.initial.setdefault("warmup_started_on", timezone.localdate())
        for name in WARMUP_NUMBERS:  # left empty: the model's default (5 a day, +2 a day)
            self.fields[name].required = False

    def _clean_warmup_number(self, name: str) -> int:
        value = self.cleaned_data.get(name)
        return SendingMailbox._meta.get_field(name).default if value is None else value

    def clean_warmup_start_volume(self) -> int:
        return self._clean_warmup_number("warmup_start_volume")

    def clean_warmup_daily_increase(self) -> int:
        return self._clean_warmup_number("warmup_daily_increase")

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("transport") == MailboxTransport.SMTP and not cleaned.get("smtp_host"):
            self.add_error("smtp_host", "An SMTP mailbox needs its server's host name.")
        return cleaned

    def secrets(self) -> dict[str, str | None]:
        """What to store: a new password, "" to remove one, None to keep it."""
        out: dict[str, str | None] = {}
        for name in ("smtp_password", "imap_password"):
            if self.cleaned_data.get(f"clear_{name}"):
                out[name] = ""
            elif self.cleaned_data.get(name):
                out[name] = self.cleaned_data[name]
        return out


def _override(mailbox: SendingMailbox, user, rationale: str) -> None:
    override_mailbox_readiness(mailbox=mailbox, actor=user, rationale=rationale)


@admin.register(SendingMailbox)
class SendingMailboxAdmin(AicmoModelAdmin):
    form = SendingMailboxForm
    list_display = [
        "email",
        "display_name",
        "client",
        "transport",
        "daily_cap",
        "warmup_display",
        "is_active",
        "readiness_display",
        "sequences_using",
    ]
    list_filter = ["is_active", "transport", ("client", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["email", "display_name"]
    list_select_related = ["client"]
    readonly_fields = [
        "secrets_display",
        "readiness_detail",
        "readiness_checked_at",
        "override_display",
        "warmup_display",
    ]
    fieldsets = (
        (None, {"fields": ("email", "display_name", "client", "daily_cap", "reply_to", "is_active")}),
        (
            "Warm-up",
            {
                "fields": (
                    "warmup_started_on",
                    "warmup_start_volume",
                    "warmup_daily_increase",
                    "warmup_display",
                ),
                "description": "Today's allowance = the daily cap, or less while warming up: start volume "
                "+ daily increase * days since the start date. Empty start date: no warm-up.",
            },
        ),
        (
            "Transport",
            {
                "fields": (
                    "transport",
                    "smtp_host",
                    "smtp_port",
                    "smtp_security",
                    "smtp_username",
                    "smtp_password",
                    "clear_smtp_password",
                ),
                "description": "ESP: the site's EMAIL_BACKEND (anymail). SMTP: this mailbox's own server.",
            },
        ),
        (
            "Reply inbox (IMAP)",
            {
                "fields": (
                    "imap_host",
                    "imap_port",
                    "imap_ssl",
                    "imap_username",
                    "imap_password",
                    "clear_imap_password",
                    "imap_folder",
                    "secrets_display",
                )
            },
        ),
        (
            "Sender readiness",
            {"fields": ("dkim_selector", "readiness_detail", "readiness_checked_at", "override_display")},
        ),
    )
    actions = ["test_connection", "recheck_readiness", "override_readiness"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(sequence_count=Count("sequences"))

    @admin.display(description="Sequences", ordering="sequence_count")
    def sequences_using(self, obj: SendingMailbox) -> int:
        return obj.sequence_count

    @admin.display(description="Today's allowance")
    def warmup_display(self, obj: SendingMailbox) -> str:
        if obj.pk is None:
            return "—"
        return warmup_status(obj, timezone.localdate()).label

    @admin.display(description="Readiness")
    def readiness_display(self, obj: SendingMailbox) -> str:
        if obj.paused_reason and not obj.is_active:
            return "PAUSED"
        if obj.readiness_checked_at is None:
            return "not checked"
        if obj.readiness_problems:
            return "overridden" if obj.readiness_override else f"{len(obj.readiness_problems)} problem(s)"
        return "ready"

    @admin.display(description="Stored passwords")
    def secrets_display(self, obj: SendingMailbox) -> str:
        def said(name: str) -> str:
            return "set" if obj.pk and obj.has_secret(name) else "none"

        return f"SMTP: {said('smtp_password')} · IMAP: {said('imap_password')}"

    @admin.display(description="Checks")
    def readiness_detail(self, obj: SendingMailbox) -> str:
        if obj.paused_reason and not obj.is_active:
            head = format_html("<p><b>Paused:</b> {}</p>", obj.paused_reason)
        else:
            head = ""
        if obj.readiness_checked_at is None:
            return format_html("{}Not checked yet (action “Re-check sender readiness”).", head)
        if not obj.readiness_problems:
            return format_html("{}SPF, DKIM, DMARC and MX pass.", head)
        items = format_html_join("", "<li>{}</li>", ((p,) for p in obj.readiness_problems))
        return format_html("{}<ul>{}</ul>", head, items)

    @admin.display(description="Override")
    def override_display(self, obj: SendingMailbox) -> str:
        if not obj.readiness_override:
            return "—"
        who = obj.readiness_override_by.get_username() if obj.readiness_override_by else "system"
        return format_html("{} (by {}): {}", "Sends despite failing checks", who, obj.readiness_override)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        secrets = form.secrets()
        if secrets:
            set_mailbox_secrets(mailbox=obj, actor=request.user, **secrets)

    # --- actions ----------------------------------------------------------------------------

    @admin.action(description="Test connection (SMTP login, IMAP login)", permissions=["change"])
    def test_connection(self, request, queryset):
        for mailbox in queryset:
            result = probe_connection(mailbox)
            self.message_user(
                request,
                f"{mailbox.email}: {result.message}",
                messages.SUCCESS if result.ok else messages.ERROR,
            )

    @admin.action(
        description="Re-check sender readiness (resumes a paused mailbox that passes)", permissions=["change"]
    )
    def recheck_readiness(self, request, queryset):
        for mailbox in queryset:
            problems = resume_mailbox(mailbox=mailbox, actor=request.user)
            if problems:
                self.message_user(request, f"{mailbox.email}: " + "; ".join(problems), messages.ERROR)
            else:
                self.message_user(
                    request, f"{mailbox.email}: ready (SPF, DKIM, DMARC, MX).", messages.SUCCESS
                )

    override_readiness = reason_action(
        _override,
        description="Override failing readiness checks (approvers; resumes the mailbox)",
        label="Override failing readiness checks",
        noun="mailbox(es)",
        intro="These mailboxes will send although their sender readiness checks fail, until the checks "
        "pass again. Say why; the audit log keeps it.",
    )
