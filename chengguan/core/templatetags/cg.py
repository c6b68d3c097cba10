"""Template helpers shared by every app's templates: `{% load cg %}`."""

from django import forms, template

from ..fields import mask_phone
from ..selectors import certificate_status

register = template.Library()


@register.filter
def cert_status(user):
    """{% with s=staff|cert_status %}{{ s.label }} {{ s.tone }}{% endwith %}"""
    return certificate_status(user)


@register.simple_tag
def phone_for(staff, viewer) -> str:
    """The phone number in full for roles that need it (core.view_user_phone), else masked."""
    if viewer.has_perm("core.view_user_phone"):
        return staff.phone
    return mask_phone(staff.phone)


@register.filter
def role_labels(staff) -> str:
    """Role names from the prefetched roles (no query per row)."""
    return "、".join(role.get_code_display() for role in staff.roles.all())


@register.filter
def bs(field):
    """Render a bound field's widget with Bootstrap classes (and is-invalid when it has errors)."""
    widget = field.field.widget
    if isinstance(widget, forms.CheckboxInput):
        css = "form-check-input"
    elif isinstance(widget, forms.Select | forms.SelectMultiple) and not isinstance(
            widget, forms.CheckboxSelectMultiple):
        css = "form-select"
    elif isinstance(widget, forms.CheckboxSelectMultiple):
        return field.as_widget()
    else:
        css = "form-control"
    if field.errors:
        css += " is-invalid"
    existing = widget.attrs.get("class", "")
    return field.as_widget(attrs={"class": f"{existing} {css}".strip()})


@register.filter
def is_checkbox(field) -> bool:
    return isinstance(field.field.widget, forms.CheckboxInput)


@register.filter
def is_checkbox_group(field) -> bool:
    return isinstance(field.field.widget, forms.CheckboxSelectMultiple)


@register.filter
def is_wide(field) -> bool:
    """Fields that take the whole form width (the others sit two to a row on desktop)."""
    return isinstance(field.field.widget, forms.Textarea | forms.CheckboxSelectMultiple | forms.CheckboxInput)
