"""Admin of the work-order configuration. The category tree and the time-limit rules are
saved through services.categories (same validation and audit as the API); intake clients are
made, re-keyed and stopped through services.clients (the key is shown once, only its digest is
kept and shown read-only); the address list is maintained by import (services.addresses) and
read here; classifier models are read-only (trained by the service)."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction

from chengguan.core.admin.org import ReadOnlyAdmin
from chengguan.core.errors import ChengguanError

from .models import AddressEntry, Category, ClassifierModel, IntakeClient, TimeLimitRule
from .services import categories, clients


def _add_service_error(form, exc: ChengguanError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


class ServiceSavedForm(forms.ModelForm):
    """Saves through a service once the model form is valid, inside a savepoint: a refusal
    becomes a form error and leaves nothing behind; `save_model` only hands the row back."""

    user = None
    saved = None

    def save_through_service(self, data):
        raise NotImplementedError

    def _post_clean(self):
        super()._post_clean()
        if self.errors:
            return
        try:
            with transaction.atomic():
                self.saved = self.save_through_service(self.cleaned_data)
        except ChengguanError as exc:
            _add_service_error(self, exc)
        except PermissionDenied as exc:
            self.add_error(None, str(exc))


class ServiceSavedAdmin(admin.ModelAdmin):
    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"user": request.user})

    def save_model(self, request, obj, form, change):
        obj.pk = form.saved.pk

    def has_delete_permission(self, request, obj=None):
        return False  # orders refer to it: deactivate or change it instead


class CategoryForm(ServiceSavedForm):
    class Meta:
        model = Category
        fields = ("code", "name", "parent", "keywords", "in_remit", "limit_kind", "limit_amount", "order", "is_active")

    def save_through_service(self, data):
        if self.instance.pk:
            changes = {f: data[f] for f in self.changed_data if f in categories.CATEGORY_EDITABLE}
            return categories.update_category(self.instance, by=self.user, **changes) if changes else self.instance
        return categories.create_category(by=self.user, **{f: data[f] for f in self.Meta.fields})


@admin.register(Category)
class CategoryAdmin(ServiceSavedAdmin):
    form = CategoryForm
    list_display = ("name", "code", "parent", "in_remit", "limit_amount", "limit_kind", "order", "is_active")
    list_filter = ("in_remit", "is_active", "parent")
    search_fields = ("name", "code", "keywords")
    list_select_related = ("parent",)

    def get_readonly_fields(self, request, obj=None):
        return ("code",) if obj else ()  # the code is the API's category and Open311's service_code


class TimeLimitRuleForm(ServiceSavedForm):
    class Meta:
        model = TimeLimitRule
        fields = ("stage", "channel", "category", "kind", "amount", "basis")

    def save_through_service(self, data):
        if self.instance.pk:
            changes = {f: data[f] for f in self.changed_data if f in categories.RULE_EDITABLE}
            return categories.update_time_limit(self.instance, by=self.user, **changes) if changes else self.instance
        return categories.create_time_limit(by=self.user, **{f: data[f] for f in self.Meta.fields})


@admin.register(TimeLimitRule)
class TimeLimitRuleAdmin(ServiceSavedAdmin):
    form = TimeLimitRuleForm
    list_display = ("stage", "channel", "category", "amount", "kind", "basis")
    list_filter = ("stage", "channel", "kind")
    list_select_related = ("category",)

    def get_readonly_fields(self, request, obj=None):
        # another stage, channel or category is another rule
        return ("stage", "channel", "category") if obj else ()


class IntakeClientForm(forms.ModelForm):
    class Meta:
        model = IntakeClient
        fields = ("name", "channel")


@admin.register(IntakeClient)
class IntakeClientAdmin(admin.ModelAdmin):
    form = IntakeClientForm
    list_display = ("name", "channel", "key_prefix", "is_active", "created_at")
    list_filter = ("channel", "is_active")
    search_fields = ("name",)
    actions = ["rotate_keys", "deactivate_clients"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return ("name", "channel", "user", "key_prefix", "key_digest", "is_active", "created_at")

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("name", "channel")
        return ("name", "channel", "user", "key_prefix", "key_digest", "is_active", "created_at")

    def save_model(self, request, obj, form, change):
        if change:
            return  # nothing is editable; keys and state change through the actions
        client, key = clients.create_client(by=request.user, name=form.cleaned_data["name"],
                                            channel=form.cleaned_data["channel"])
        obj.pk = client.pk
        messages.warning(request, f"接入平台“{client.name}”的密钥（仅显示这一次，请立即妥善保存）：{key}")

    @admin.action(description="重新生成所选平台的密钥")
    def rotate_keys(self, request, queryset):
        for client in queryset:
            client, key = clients.rotate_key(client, request.user)
            messages.warning(request, f"接入平台“{client.name}”的新密钥（仅显示这一次）：{key}")

    @admin.action(description="停用所选平台")
    def deactivate_clients(self, request, queryset):
        for client in queryset:
            clients.deactivate(client, request.user)
        messages.success(request, f"已停用 {queryset.count()} 个接入平台。")

    def has_delete_permission(self, request, obj=None):
        return False  # orders name the client's user: stop it instead


@admin.register(AddressEntry)
class AddressEntryAdmin(ReadOnlyAdmin):
    list_display = ("address", "normalized", "lon", "lat")
    search_fields = ("address", "normalized")


@admin.register(ClassifierModel)
class ClassifierModelAdmin(ReadOnlyAdmin):
    list_display = ("version", "training_size", "cv_accuracy", "is_active", "trained_by", "trained_at")
    list_filter = ("is_active",)
    exclude = ("labels",)
