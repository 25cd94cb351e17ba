"""The one base of every admin class in the project, and what it adds to Django's.

``FRAMEWORK_MODEL_ADMIN`` and the two inline bases below are the only place that names the admin
framework's classes: moving the whole back office to another admin theme built on Django's (for
example django-unfold's ``unfold.admin.ModelAdmin``) is a change of these three lines.

What every admin gets:

- **permissions declared, not coded**: ``view_action`` / ``add_action`` / ``change_action`` /
  ``delete_action`` say who may do each, as a registered action of ``campaigns.permissions``
  (decided by ``is_allowed``, the same code the API and the services ask), ``NOBODY``, ``STAFF``
  (any active staff user) or ``DJANGO`` (the model permission, Django's default); ``locked_when``
  names a boolean attribute that makes an object a record (viewable, no longer changed or deleted),
  or is ``True`` where every saved object is one (an append-only ledger);
- **refusals on the form**: a service that refuses a save (``DomainError``, ``ValidationError``)
  puts its message on the form the user typed into, on the field it names, instead of an error
  page. A refusal of the role (``ActionNotPermittedError``) stays a 403 that names the permission
  and the role that has it;
- **read-only JSON as a table**: a JSON field shown read-only is rendered as a small table or list
  with human labels (``campaigns.labels``), not as raw JSON.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core import checks
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from campaigns.errors import DomainError
from campaigns.permissions import action_rule, is_allowed, is_staff_user

from .display import json_html
from .refusals import refusal_errors

# The admin framework's classes: the one place to swap them.
FRAMEWORK_MODEL_ADMIN = admin.ModelAdmin
FRAMEWORK_TABULAR_INLINE = admin.TabularInline
FRAMEWORK_STACKED_INLINE = admin.StackedInline

# What a permission declaration may say besides an action name.
DJANGO = None  # the model permission (Django's default)
NOBODY = "nobody"  # no one, superusers included: the admin never does this
STAFF = "staff"  # any active staff user (pages that show what each user may already see)

JSON_PREFIX = "json__"  # read-only display name standing in for a JSON field
_REFUSED = "_aicmo_refusal_errors"  # request attribute: the refusal to show on the form again


class DeclaredPermissionsMixin:
    """``has_*_permission`` from the class attributes (see the module docstring)."""

    view_action: str | None = DJANGO
    add_action: str | None = DJANGO
    change_action: str | None = DJANGO
    delete_action: str | None = DJANGO
    locked_when: str | bool | None = None

    def _declared(self, request: HttpRequest, declared: str | None, obj: Any) -> bool:
        if declared == NOBODY:
            return False
        if declared == STAFF:
            return is_staff_user(request.user)
        return is_allowed(request.user, declared, obj)

    def _locked(self, obj: Any) -> bool:
        if obj is None or not self.locked_when:
            return False
        return self.locked_when is True or bool(getattr(obj, self.locked_when))

    def has_view_permission(self, request, obj=None):
        if self.view_action is DJANGO:
            return super().has_view_permission(request, obj)
        return self._declared(request, self.view_action, obj)

    def has_module_permission(self, request):
        if self.view_action is DJANGO:
            return super().has_module_permission(request)
        return self.has_view_permission(request)

    def has_add_permission(self, request, *args):  # ModelAdmin: (request); inlines: (request, obj)
        if self.add_action is DJANGO:
            return super().has_add_permission(request, *args)
        return self._declared(request, self.add_action, args[0] if args else None)

    def has_change_permission(self, request, obj=None):
        if self._locked(obj):
            return False
        if self.change_action is DJANGO:
            return super().has_change_permission(request, obj)
        return self._declared(request, self.change_action, obj)

    def has_delete_permission(self, request, obj=None):
        if self._locked(obj):
            return False
        if self.delete_action is DJANGO:
            return super().has_delete_permission(request, obj)
        return self._declared(request, self.delete_action, obj)

    def check(self, *args, **kwargs):
        errors = super().check(*args, **kwargs)
        for attribute in ("view_action", "add_action", "change_action", "delete_action"):
            declared = getattr(self, attribute)
            if declared in (DJANGO, NOBODY, STAFF):
                continue
            try:
                action_rule(declared)
            except LookupError as exc:
                errors.append(checks.Error(str(exc), obj=type(self), id="aicmo.E001", hint=attribute))
        return errors


class ReadOnlyAdminMixin:
    """Records the admin shows and never writes (audit events, history, engine and webhook rows):
    nobody adds, changes or deletes them here. Put it before the base class."""

    add_action = NOBODY
    change_action = NOBODY
    delete_action = NOBODY


class JsonDisplayMixin:
    """Read-only JSON fields shown as a table or list with human labels. The field's place in
    ``fields``/``fieldsets`` is taken by a display named ``json__<field>``."""

    def _json_fields(self) -> dict[str, models.Field]:
        return {
            f.name: f
            for f in self.model._meta.get_fields()
            if isinstance(f, models.JSONField) and not f.auto_created
        }

    def _read_only_json(self, request, obj) -> set[str]:
        json_fields = self._json_fields()
        if not json_fields:
            return set()
        writable = self.has_change_permission(request, obj) if obj is not None else True
        if not writable:
            return set(json_fields)
        declared = set(super().get_readonly_fields(request, obj))
        return {name for name in json_fields if name in declared}

    def get_readonly_fields(self, request, obj=None):
        # The JSON field itself stays read-only too, so no form ever offers it for editing.
        fields = list(super().get_readonly_fields(request, obj))
        return fields + [JSON_PREFIX + f for f in self._read_only_json(request, obj)]

    def get_fieldsets(self, request, obj=None):
        shown = self._read_only_json(request, obj)
        fieldsets = super().get_fieldsets(request, obj)
        if not shown:
            return fieldsets
        seen: set[str] = set()

        def swap(names):
            out = []
            for name in names:
                if isinstance(name, list | tuple):
                    out.append(swap(name))
                    continue
                name = JSON_PREFIX + name if name in shown else name
                if name not in seen:  # a field and its display both listed: show it once
                    seen.add(name)
                    out.append(name)
            return tuple(out)

        return [(name, {**options, "fields": swap(options.get("fields", ()))}) for name, options in fieldsets]

    def get_form(self, request, obj=None, change=False, **kwargs):
        if kwargs.get("fields"):
            kwargs["fields"] = [f for f in kwargs["fields"] if not f.startswith(JSON_PREFIX)]
        return super().get_form(request, obj, change=change, **kwargs)

    def __getattr__(self, name: str):
        # Display methods for json__<field>, made on first use (lookup_field and label_for_field
        # find them through getattr, as they find any display method).
        if name.startswith(JSON_PREFIX):
            field_name = name[len(JSON_PREFIX) :]
            field = self._json_fields().get(field_name)
            if field is not None:

                def show(obj) -> str:
                    return json_html(getattr(obj, field_name), key=field_name)

                show.short_description = field.verbose_name  # type: ignore[attr-defined]
                return show
        raise AttributeError(name)


class RefusalsOnFormMixin:
    """A service's refusal of a save shows on the form (see the module docstring).

    ``save_model`` calls the service and lets its error rise; the save is rolled back (Django wraps
    it in a transaction) and the same POST is shown again, its form carrying the refusal."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except (DomainError, ValidationError) as exc:
            if isinstance(exc, PermissionDenied) or request.method != "POST" or hasattr(request, _REFUSED):
                raise  # a refusal of the role: 403 naming the permission and the role
            setattr(request, _REFUSED, refusal_errors(exc))
            return super().changeform_view(request, object_id, form_url, extra_context)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        errors = getattr(request, _REFUSED, None)
        return form if errors is None else _form_refused(form, errors)


def _form_refused(form_class: type[forms.BaseForm], errors: dict[str | None, list[str]]):
    """``form_class`` whose validation adds ``errors`` (a field's own, or the form's)."""

    def clean(self):
        cleaned = super(refused, self).clean()
        for field, messages in errors.items():
            self.add_error(field if field in self.fields else None, messages)
        return cleaned

    refused = type(form_class.__name__, (form_class,), {"clean": clean, "__module__": __name__})
    return refused


class AicmoAdminMixin(RefusalsOnFormMixin, JsonDisplayMixin, DeclaredPermissionsMixin):
    """Everything the kit adds to an admin class."""


class AicmoModelAdmin(AicmoAdminMixin, FRAMEWORK_MODEL_ADMIN):
    """The base of every ModelAdmin in the project."""


class AicmoHistoryAdmin(SimpleHistoryAdmin, AicmoModelAdmin):
    """For models with simple-history records: their "History" pages on the kit's base (its
    permission methods only defer to the kit's, so the kit decides)."""


class AicmoTabularInline(DeclaredPermissionsMixin, FRAMEWORK_TABULAR_INLINE):
    """The base of every tabular inline: permissions declared like the ModelAdmin's."""


class AicmoStackedInline(DeclaredPermissionsMixin, FRAMEWORK_STACKED_INLINE):
    """The base of every stacked inline."""
