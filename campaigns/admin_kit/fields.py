"""Form fields the admin shares: a campaign's (or brief's) channels as checkboxes."""

from __future__ import annotations

from django import forms

from campaigns.models import CHANNELS


class ChannelsField(forms.MultipleChoiceField):
    """The channels of ``campaigns.models.CHANNELS`` as checkboxes; the value is the list of keys
    the JSON field stores (``["email", "linkedin"]``), in the order of ``CHANNELS``."""

    widget = forms.CheckboxSelectMultiple

    def __init__(self, *, required: bool = True, **kwargs):
        kwargs.setdefault("help_text", "Where the campaign reaches people. Pick at least one.")
        super().__init__(choices=CHANNELS, required=required, **kwargs)
        self.error_messages["required"] = (
            "Pick at least one channel (" + ", ".join(label for _, label in CHANNELS) + ")."
        )

    def clean(self, value):
        chosen = set(super().clean(value))
        return [key for key, _ in CHANNELS if key in chosen]
