"""The forms of the sequence pages: the campaign pickers, "Run cycle (dry run)", the New sequence
form with its step rows (up to three A/B creatives each), and the sequence's change form."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import Case, IntegerField, Q, QuerySet, Value, When

from campaigns.models import Campaign
from creative.models import CreativeState, CreativeVariant

from ..models import SendingMailbox, Sequence
from ..sequence_tracking import tracking_problems
from ..services.sending.sequences import SEQUENCE_EDITABLE_FIELDS

__all__ = [
    "CampaignPickForm",
    "NewSequenceForm",
    "RunCycleForm",
    "SequenceChangeForm",
    "StepFormSet",
    "preselected_campaign",
]

VARIANT_LABELS = ("A", "B", "C")

STEP_ROWS = 4


def preselected_campaign(form: forms.Form, visible: QuerySet[Campaign]) -> Campaign | None:
    value = form["campaign"].value()
    if value in (None, ""):
        return None
    try:
        return visible.filter(pk=int(value)).first()
    except (TypeError, ValueError):
        return None


class SequenceChangeForm(forms.ModelForm):
    class Meta:
        model = Sequence
        fields = list(SEQUENCE_EDITABLE_FIELDS)
        widgets = {"mailboxes": forms.CheckboxSelectMultiple}
        help_texts = {
            "is_active": "Untick to stop enrolling new leads into this sequence. "
            "Leads already enrolled keep going; stop the campaign to stop them.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            client_id = self.instance.campaign.client_id
            self.fields["mailbox"].queryset = SendingMailbox.objects.filter(
                Q(client_id=client_id) | Q(client__isnull=True)
            )
            self.fields["mailboxes"].queryset = self.fields["mailbox"].queryset

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk:
            add_tracking_errors(self, self.instance.campaign)
        return cleaned


def add_tracking_errors(form: forms.Form, campaign: Campaign) -> None:
    """The sequence services' tracking rule, shown on the fields it names (sequence_tracking)."""
    cleaned = form.cleaned_data
    problems = tracking_problems(
        campaign=campaign,
        track_opens=bool(cleaned.get("track_opens")),
        track_clicks=bool(cleaned.get("track_clicks")),
        plain_text_only=bool(cleaned.get("plain_text_only")),
        mailboxes=[cleaned.get("mailbox"), *(cleaned.get("mailboxes") or [])],
    )
    for field, message in problems.items():
        form.add_error(field if field in form.fields else None, message)


class CampaignChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, campaign: Campaign) -> str:
        mode = "LIVE" if campaign.is_live else "dry-run mode"
        return f"#{campaign.pk} {campaign.name} — {campaign.get_state_display()}, {mode}"


class CampaignPickForm(forms.Form):
    campaign = CampaignChoiceField(
        queryset=Campaign.objects.none(), help_text="The campaign the sequence belongs to."
    )

    def __init__(self, *args, campaigns: QuerySet[Campaign], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["campaign"].queryset = campaigns


class RunCycleForm(forms.Form):
    campaign = CampaignChoiceField(
        queryset=Campaign.objects.none(),
        help_text="Only active campaigns run; any other reports why it was skipped.",
    )
    confirm_live = forms.BooleanField(
        required=False,
        label="I understand (live campaigns only)",
        help_text="On a LIVE campaign a dry run is a rehearsal: everything it does is rolled back and only "
        "its numbers are shown (nothing is sent or used up). Preview next cycle shows who would get what.",
    )

    def __init__(self, *args, campaigns: QuerySet[Campaign], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["campaign"].queryset = campaigns

    def clean(self):
        cleaned = super().clean()
        campaign = cleaned.get("campaign")
        if campaign is not None and campaign.is_live and not cleaned.get("confirm_live"):
            self.add_error(
                "confirm_live",
                f"{campaign.name} is live: tick the box to confirm a rehearsal (a dry run, rolled back).",
            )
        return cleaned


class EmailCreativeChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, creative: CreativeVariant) -> str:
        subject = creative.subject or creative.body[:60]
        state = "" if creative.state == CreativeState.APPROVED else f" — {creative.get_state_display()}"
        return f"#{creative.pk} v{creative.generation}: {subject[:70]}{state}"


class NewSequenceForm(forms.Form):
    name = forms.CharField(max_length=200, help_text="Shown in reports and on every message.")
    mailbox = forms.ModelChoiceField(
        queryset=SendingMailbox.objects.none(),
        required=False,
        help_text="The From address (its own daily cap applies). "
        "Empty: the default sender (DEFAULT_FROM_EMAIL).",
    )

    mailboxes = forms.ModelMultipleChoiceField(
        queryset=SendingMailbox.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Mailbox pool",
        help_text="More mailboxes to rotate first emails over, beside the mailbox above "
        "(follow-ups stay on the mailbox that wrote first).",
    )
    plain_text_only = forms.BooleanField(
        required=False,
        initial=True,
        help_text=Sequence._meta.get_field("plain_text_only").help_text,
    )
    track_opens = forms.BooleanField(
        required=False, help_text=Sequence._meta.get_field("track_opens").help_text
    )
    track_clicks = forms.BooleanField(
        required=False, help_text=Sequence._meta.get_field("track_clicks").help_text
    )

    def __init__(self, *args, campaign: Campaign, **kwargs):
        super().__init__(*args, **kwargs)
        self.campaign = campaign
        self.fields["mailbox"].queryset = SendingMailbox.objects.filter(
            Q(client_id=campaign.client_id) | Q(client__isnull=True), is_active=True
        )
        self.fields["mailboxes"].queryset = self.fields["mailbox"].queryset

    def clean(self):
        cleaned = super().clean()
        add_tracking_errors(self, self.campaign)
        return cleaned


class StepForm(forms.Form):
    delay_days = forms.IntegerField(
        min_value=0,
        max_value=365,
        required=False,
        help_text="Days after the previous step (after enrollment for step 1).",
    )

    def __init__(self, *args, campaign: Campaign, **kwargs):
        super().__init__(*args, **kwargs)
        creatives = (
            CreativeVariant.objects.filter(campaign=campaign, platform="email")
            .annotate(
                not_approved=Case(
                    When(state=CreativeState.APPROVED, then=Value(0)),
                    default=Value(1),
                    output_field=IntegerField(),
                )
            )
            .order_by("not_approved", "-pk")
        )
        for label in VARIANT_LABELS:
            self.fields[f"creative_{label}"] = EmailCreativeChoiceField(
                queryset=creatives, required=False, label=f"Variant {label}", empty_label="—"
            )
            self.fields[f"weight_{label}"] = forms.IntegerField(
                min_value=1, max_value=100, required=False, initial=1, label=f"Weight {label}"
            )

    def variant_pairs(self) -> list[tuple[CreativeVariant, int]]:
        pairs = []
        for label in VARIANT_LABELS:
            creative = self.cleaned_data.get(f"creative_{label}")
            if creative is not None:
                pairs.append((creative, self.cleaned_data.get(f"weight_{label}") or 1))
        return pairs


class BaseStepFormSet(forms.BaseFormSet):
    def clean(self):
        if any(self.errors):
            return
        filled = [bool(form.variant_pairs()) for form in self.forms]
        if not any(filled):
            raise forms.ValidationError("Step 1 needs at least one approved email creative (variant A).")
        last = max(i for i, used in enumerate(filled) if used)
        for index in range(last):
            if not filled[index]:
                raise forms.ValidationError(
                    f"Step {index + 1} is empty but step {last + 1} is not: fill the steps in order."
                )

    def step_specs(self) -> list[dict[str, Any]]:
        specs = []
        for form in self.forms:
            pairs = form.variant_pairs()
            if not pairs:
                break
            spec = {
                "creatives": [creative.pk for creative, _ in pairs],
                "weights": [weight for _, weight in pairs],
            }
            delay = form.cleaned_data.get("delay_days")
            if delay is not None:  # left empty: create_sequence's default delay for the position
                spec["delay_days"] = delay
            specs.append(spec)
        return specs


StepFormSet = forms.formset_factory(StepForm, formset=BaseStepFormSet, extra=STEP_ROWS, max_num=STEP_ROWS)
