"""Forms of the core UI. Forms only parse input; saving goes through chengguan.core.services,
and a refusal from a service becomes a form error (nothing is saved: services are atomic)."""

import json

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm

from . import services
from .choices import OrgUnitKind, RoleCode
from .errors import ChengguanError
from .models import OrgUnit


class ServiceForm(forms.Form):
    """A form whose `save()` calls a service verb. `run_service` maps a service refusal onto
    the field it names (or a non-field error) and returns None."""

    # service field name → form field name, where they differ
    service_field_map: dict[str, str] = {}

    def run_service(self, call, *args, **kwargs):
        try:
            return call(*args, **kwargs)
        except ChengguanError as exc:
            field = self.service_field_map.get(exc.field, exc.field)
            self.add_error(field if field in self.fields else None, exc.message)
            return None


class GeoJSONField(forms.CharField):
    """A GeoJSON geometry typed into a textarea; the service checks the geometry itself."""

    widget = forms.Textarea(attrs={"rows": 6, "class": "font-monospace", "spellcheck": "false"})

    def prepare_value(self, value):
        if isinstance(value, dict):
            return json.dumps(value, ensure_ascii=False)
        return value

    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return None
        try:
            return json.loads(value)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(f"不是有效的 GeoJSON（JSON 格式错误，第 {exc.lineno} 行第 {exc.colno} 列）。",
                                        code="invalid_json") from exc


def _changed(form, names) -> dict:
    return {name: form.cleaned_data[name] for name in names if name in form.changed_data}


# --- login and password -----------------------------------------------------------------------

def generic_login_error() -> str:
    return (f"用户名或密码不正确，或账号已被临时锁定。连续输错 {settings.LOGIN_MAX_FAILURES} 次"
            f"将锁定 {settings.LOGIN_LOCKOUT_MINUTES} 分钟。")


class LoginForm(AuthenticationForm):
    """One message for unknown user, wrong password, locked or inactive account: the page must
    not reveal which user names exist or are locked."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.error_messages = {"invalid_login": generic_login_error(), "inactive": generic_login_error()}
        self.fields["username"].widget.attrs.update({"autocomplete": "username", "autofocus": True})

    def clean(self):
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is None or password is None:
            # a missing field gets the same message too, so the form has one visible error
            raise self.get_invalid_login_error()
        return super().clean()


class PasswordChangeForm(ServiceForm):
    old_password = forms.CharField(label="原密码", strip=False,
                                   widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))
    new_password1 = forms.CharField(label="新密码", strip=False,
                                    widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
                                    help_text="至少 8 位，不能全是数字，不能与登录名或姓名相近，不能是常见密码。")
    new_password2 = forms.CharField(label="确认新密码", strip=False,
                                    widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    service_field_map = {"new_password": "new_password1"}

    def __init__(self, user, *args, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean(self):
        data = super().clean()
        if data.get("new_password1") and data.get("new_password1") != data.get("new_password2"):
            self.add_error("new_password2", "两次输入的新密码不一致。")
        return data

    def save(self) -> bool:
        self.run_service(services.change_password, self.user, old_password=self.cleaned_data["old_password"],
                         new_password=self.cleaned_data["new_password1"])
        return not self.errors


# --- administration ---------------------------------------------------------------------------

class UnitChoiceField(forms.ModelChoiceField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("empty_label", "请选择")
        super().__init__(*args, **kwargs)

    def label_from_instance(self, obj):
        return f"{'　' * obj.depth}{obj.name}（{obj.get_kind_display()}）"


class OrgUnitForm(ServiceForm):
    name = forms.CharField(label="名称", max_length=100)
    code = forms.CharField(label="编码", max_length=32, help_text="全局唯一，创建后不可修改。")
    kind = forms.ChoiceField(label="类型", choices=OrgUnitKind.choices)
    parent = UnitChoiceField(label="上级单位", queryset=OrgUnit.objects.none(), required=False,
                             empty_label="（无，最顶层）")
    jurisdiction = GeoJSONField(label="辖区范围（GeoJSON，WGS-84）", required=False,
                                help_text="Polygon 或 MultiPolygon，坐标为 WGS-84 经纬度；可留空。")
    division_code = forms.CharField(label="行政区划代码", max_length=12, required=False)
    sort_order = forms.IntegerField(label="排序", min_value=0, initial=0)
    is_active = forms.BooleanField(label="启用", required=False, initial=True)

    def __init__(self, *args, user, instance: OrgUnit | None = None, **kwargs):
        self.user, self.instance = user, instance
        if instance is not None:
            kwargs.setdefault("initial", {
                "name": instance.name, "code": instance.code, "kind": instance.kind, "parent": instance.parent_id,
                "jurisdiction": instance.jurisdiction, "division_code": instance.division_code,
                "sort_order": instance.sort_order, "is_active": instance.is_active,
            })
        super().__init__(*args, **kwargs)
        self.fields["parent"].queryset = OrgUnit.objects.restrict(user).exclude(kind=OrgUnitKind.SQUAD)
        if instance is None:
            del self.fields["is_active"]
        else:  # the tree position and the code are fixed once created (services.ORG_EDITABLE)
            for name in ("code", "kind", "parent"):
                self.fields[name].disabled = True

    def save(self) -> OrgUnit | None:
        data = self.cleaned_data
        if self.instance is None:
            return self.run_service(
                services.create_org_unit, by=self.user, name=data["name"], code=data["code"], kind=data["kind"],
                parent=data["parent"], jurisdiction=data["jurisdiction"], division_code=data["division_code"],
                sort_order=data["sort_order"])
        changes = _changed(self, services.ORG_EDITABLE)
        if not changes:
            return self.instance
        return self.run_service(services.update_org_unit, self.instance, by=self.user, **changes)


class GridForm(ServiceForm):
    code = forms.CharField(label="网格编码", max_length=20, help_text="全局唯一，创建后不可修改。")
    name = forms.CharField(label="网格名称", max_length=100)
    squad = UnitChoiceField(label="责任中队", queryset=OrgUnit.objects.none())
    community = forms.CharField(label="所属社区", max_length=100, required=False)
    boundary = GeoJSONField(label="边界（GeoJSON Polygon，WGS-84）",
                            help_text='例如 {"type": "Polygon", "coordinates": [[[121.40, 31.10], [121.41, 31.10], '
                                      '[121.41, 31.11], [121.40, 31.11], [121.40, 31.10]]]}')
    is_active = forms.BooleanField(label="启用", required=False, initial=True)

    def __init__(self, *args, user, instance=None, **kwargs):
        self.user, self.instance = user, instance
        if instance is not None:
            kwargs.setdefault("initial", {
                "code": instance.code, "name": instance.name, "squad": instance.squad_id,
                "community": instance.community, "boundary": instance.boundary, "is_active": instance.is_active,
            })
        super().__init__(*args, **kwargs)
        self.fields["squad"].queryset = OrgUnit.objects.restrict(user).filter(kind=OrgUnitKind.SQUAD)
        if instance is None:
            del self.fields["is_active"]
        else:
            self.fields["code"].disabled = True

    def save(self):
        data = self.cleaned_data
        if self.instance is None:
            return self.run_service(services.create_grid, by=self.user, code=data["code"], name=data["name"],
                                    squad=data["squad"], boundary=data["boundary"], community=data["community"])
        changes = _changed(self, services.GRID_EDITABLE)
        if not changes:
            return self.instance
        return self.run_service(services.update_grid, self.instance, by=self.user, **changes)


class StaffForm(ServiceForm):
    username = forms.CharField(label="登录名", max_length=64, help_text="创建后不可修改。")
    real_name = forms.CharField(label="姓名", max_length=50)
    password = forms.CharField(label="初始密码", strip=False, widget=forms.PasswordInput(render_value=False,
                               attrs={"autocomplete": "new-password"}),
                               help_text="至少 8 位，不能全是数字，不能是常见密码。")
    staff_number = forms.CharField(label="工号", max_length=32, required=False)
    org_unit = UnitChoiceField(label="所属单位", queryset=OrgUnit.objects.none())
    roles = forms.MultipleChoiceField(label="角色", choices=RoleCode.choices, required=False,
                                      widget=forms.CheckboxSelectMultiple)
    phone = forms.CharField(label="手机号", max_length=32, required=False)
    email = forms.EmailField(label="电子邮箱", required=False)
    certificate_number = forms.CharField(label="执法证号", max_length=32, required=False)
    certificate_valid_from = forms.DateField(label="执法证有效期起", required=False,
                                             widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    certificate_valid_to = forms.DateField(label="执法证有效期止", required=False,
                                           widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    has_legal_qualification = forms.BooleanField(label="具有法律职业资格", required=False)
    is_active = forms.BooleanField(label="在岗", required=False, initial=True)

    def __init__(self, *args, user, instance=None, **kwargs):
        self.user, self.instance = user, instance
        if instance is not None:
            initial = {name: getattr(instance, name) for name in services.STAFF_EDITABLE if name != "org_unit"}
            initial.update(username=instance.username, org_unit=instance.org_unit_id,
                           roles=sorted(instance.role_codes), staff_number=instance.staff_number or "")
            kwargs.setdefault("initial", initial)
        super().__init__(*args, **kwargs)
        # pairs on a two-column desktop form: the certificate dates share a row
        self.order_fields(["username", "real_name", "staff_number", "org_unit", "phone", "email",
                           "certificate_valid_from", "certificate_valid_to", "certificate_number", "password"])
        self.fields["org_unit"].queryset = OrgUnit.objects.restrict(user)
        if instance is None:
            del self.fields["is_active"]
        else:  # passwords are changed by their owner; the login name is an identity
            del self.fields["password"]
            self.fields["username"].disabled = True

    def clean_staff_number(self):
        return self.cleaned_data["staff_number"].strip() or None  # unique column: empty means NULL

    def save(self):
        data = self.cleaned_data
        if self.instance is None:
            fields = {name: data[name] for name in services.STAFF_EDITABLE if name in data and name != "is_active"}
            return self.run_service(services.create_staff, by=self.user, username=data["username"],
                                    password=data["password"], roles=data["roles"], **fields)
        changes = _changed(self, services.STAFF_EDITABLE)
        roles = data["roles"] if "roles" in self.changed_data else None
        if not changes and roles is None:
            return self.instance
        return self.run_service(services.update_staff, self.instance, by=self.user, roles=roles, **changes)


# --- map --------------------------------------------------------------------------------------

class LocateForm(forms.Form):
    lon = forms.FloatField(label="经度", min_value=-180, max_value=180)
    lat = forms.FloatField(label="纬度", min_value=-90, max_value=90)
    crs = forms.ChoiceField(label="坐标系", choices=[("wgs84", "WGS-84（GPS）"), ("gcj02", "GCJ-02（高德/腾讯）")],
                            initial="wgs84")
