"""Forms of the work-order screens. Forms only parse input; every change goes through
chengguan.workorders.services (intake, workflow), and a refusal — bad input, a refused step or
a missing right — becomes a form error in Chinese with nothing saved (the services are
atomic; photos are stored in the same transaction as the step that uses them)."""

from __future__ import annotations

from django import forms
from django.core.exceptions import PermissionDenied
from django.db import transaction

from chengguan.core.errors import ChengguanError
from chengguan.core.evidence import store_evidence
from chengguan.core.forms import ServiceForm
from chengguan.core.models import OrgUnit, User

from . import selectors
from .choices import Channel, RepeatStatus, RequestKind, RequestStatus, Result, Satisfaction
from .models import ClockRequest, RepeatCandidate, WorkOrder
from .services import intake, workflow

MAX_PHOTOS = 9
TEXTAREA = {"rows": 3}
DECIMAL = {"step": "any", "inputmode": "decimal"}

# Channels staff type in by hand; the hotline channels only for the command centre, who also
# takes phone-ins (the platforms normally submit through the API).
STAFF_CHANNELS = [Channel.PATROL, Channel.LEADERSHIP, Channel.SUGGESTION, Channel.MEDIA, Channel.WORKSTATION,
                  Channel.TRANSFER]
CENTRE_CHANNELS = [Channel.HOTLINE_12345, Channel.HOTLINE_12319, Channel.HOTLINE_962000, Channel.CAMERA]


class ActionForm(ServiceForm):
    """One workflow verb on one order. `run_service` also turns PermissionDenied (the
    services' answer to a missing right) into a Chinese form error."""

    verb = ""
    label = ""
    multipart = False
    service_field_map = {}

    def __init__(self, *args, order: WorkOrder, user, **kwargs):
        self.order, self.user = order, user
        super().__init__(*args, **kwargs)

    def run_service(self, call, *args, **kwargs):
        try:
            return call(*args, **kwargs)
        except PermissionDenied as exc:
            self.add_error(None, str(exc) or "您没有执行该操作的权限。")
        except ChengguanError as exc:
            field = self.service_field_map.get(exc.field, exc.field)
            self.add_error(field if field in self.fields else None, exc.message)
        return None

    def save(self):
        raise NotImplementedError

    @property
    def has_inputs(self) -> bool:
        return bool(self.visible_fields())


class StaffChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        unit = f"（{obj.org_unit.name}）" if obj.org_unit_id else ""
        return f"{obj.real_name or obj.username}{unit}"


class SquadChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.name


class OfficerSelect(forms.Select):
    """Options carry their squad (data-squad) so the page can narrow the list to the squad
    chosen in the squad select."""

    def __init__(self, *args, squad_of=None, **kwargs):
        self.squad_of = squad_of or {}
        super().__init__(*args, **kwargs)

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        key = getattr(value, "value", value)
        if key in self.squad_of:
            option["attrs"]["data-squad"] = ",".join(str(s) for s in self.squad_of[key])
        return option


def _officer_field(user, *, required=False, label="处置人", help_text="可不指定，由中队长指派。"):
    return StaffChoiceField(label=label, queryset=selectors.handlers_in_scope(user), required=required,
                            empty_label="请选择" if required else "暂不指定", help_text=help_text)


def squads_of_people(people, squads) -> dict[int, list[int]]:
    """user id → ids of the squads (among `squads`) the user belongs to."""
    paths = [(s.pk, s.path) for s in squads]
    return {p.pk: [pk for pk, path in paths if p.org_unit and p.org_unit.path.startswith(path)] for p in people}


class _SquadAndOfficer(ActionForm):
    squad = SquadChoiceField(label="中队", queryset=OrgUnit.objects.none(), required=False, empty_label="按定位结果")
    assignee = StaffChoiceField(label="处置人", queryset=User.objects.none(), required=False, empty_label="暂不指定")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        squads = list(selectors.squads_in_scope(self.user))
        self.fields["squad"].queryset = selectors.squads_in_scope(self.user)
        self.fields["squad"].initial = self.order.squad_id
        people = selectors.handlers_in_scope(self.user)
        self.fields["assignee"].queryset = people
        self.fields["assignee"].widget = OfficerSelect(squad_of=squads_of_people(people, squads),
                                                       attrs={"data-officer-select": "1"})
        self.fields["assignee"].widget.choices = self.fields["assignee"].choices
        self.fields["squad"].widget.attrs.update({"data-squad-select": "1",
                                                  "data-default-squad": str(self.order.squad_id or "")})

    def save(self):
        data = self.cleaned_data
        return self.run_service(getattr(workflow, self.verb), self.order, by=self.user, squad=data["squad"],
                                assignee=data["assignee"], note=data["note"])


class _NoteForm(ActionForm):
    """A verb whose only input is an optional note; subclasses declare `note`."""

    def save(self):
        return self.run_service(getattr(workflow, self.verb), self.order, by=self.user, note=self.cleaned_data["note"])


class AcceptForm(_NoteForm):
    verb, label = "accept", "签收"
    note = forms.CharField(label="说明", max_length=500, required=False)


class DispatchForm(_SquadAndOfficer):
    verb, label = "dispatch", "派遣"
    note = forms.CharField(label="说明", max_length=500, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].help_text = "可不指定，由中队长指派。"


class ReassignForm(_SquadAndOfficer):
    verb, label = "reassign", "改派"
    note = forms.CharField(label="改派原因", max_length=500)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["squad"].empty_label = "不变"


class AssignForm(ActionForm):
    verb, label = "assign", "指派处置人"
    assignee = StaffChoiceField(label="处置人", queryset=User.objects.none(), empty_label="请选择",
                                error_messages={"invalid_choice": "该人员不是本工单责任中队的队员。"})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = selectors.squad_members(self.order.squad)

    def save(self):
        return self.run_service(workflow.assign, self.order, by=self.user, assignee=self.cleaned_data["assignee"])


class StartForm(ActionForm):
    verb, label = "start", "开始处置"

    def save(self):
        return self.run_service(workflow.start, self.order, by=self.user)


class ReplyForm(ActionForm):
    verb, label = "reply", "处置反馈"
    multipart = True
    findings = forms.CharField(label="现场情况", max_length=5000, widget=forms.Textarea(attrs=TEXTAREA))
    result = forms.ChoiceField(label="处置结果", choices=[("", "请选择"), *Result.choices])
    result_reason = forms.CharField(label="无法解决原因", max_length=300, required=False,
                                    help_text="处置结果为“无法解决”时必填。")
    reply_text = forms.CharField(label="答复内容", max_length=2000, required=False,
                                 widget=forms.Textarea(attrs=TEXTAREA), help_text="答复反映人的内容。")
    lon = forms.FloatField(required=False, widget=forms.HiddenInput(attrs={"data-position": "lon"}))
    lat = forms.FloatField(required=False, widget=forms.HiddenInput(attrs={"data-position": "lat"}))

    def __init__(self, *args, photos=(), **kwargs):
        self.photos = list(photos)
        super().__init__(*args, **kwargs)

    def clean(self):
        data = super().clean()
        if len(self.photos) > MAX_PHOTOS:
            raise forms.ValidationError(f"一次最多上传 {MAX_PHOTOS} 张照片。", code="too_many_photos")
        return data

    def save(self):
        return self.run_service(self._submit)

    def _submit(self):
        data = self.cleaned_data
        place = {"lon": data["lon"], "lat": data["lat"]} if data["lon"] is not None and data["lat"] is not None \
            else {"lon": None, "lat": None}
        with transaction.atomic():
            stored = [store_evidence(photo, by=self.user, squad=self.order.squad, description="工单处置照片",
                                     **place) for photo in self.photos]
            return workflow.reply(self.order, by=self.user, findings=data["findings"], result=data["result"],
                                  reply_text=data["reply_text"], result_reason=data["result_reason"],
                                  photos=stored, **place)


class ReturnForm(ActionForm):
    verb, label = "return", "退单"
    reason = forms.CharField(label="退单原因", max_length=200, help_text="如：不在本中队辖区、地址有误。")

    def save(self):
        return self.run_service(workflow.return_order, self.order, by=self.user, reason=self.cleaned_data["reason"])


class VerifyForm(ActionForm):
    verb, label = "verify", "核查"
    passed = forms.ChoiceField(label="核查结论", choices=[("pass", "通过"), ("fail", "不通过，返工")],
                               initial="pass")
    note = forms.CharField(label="核查意见", max_length=500, required=False, help_text="不通过时必填返工原因。",
                           widget=forms.Textarea(attrs={"rows": 2}))

    def save(self):
        data = self.cleaned_data
        return self.run_service(workflow.verify, self.order, by=self.user, passed=data["passed"] == "pass",
                                note=data["note"])


class CloseForm(_NoteForm):
    verb, label = "close", "结案"
    note = forms.CharField(label="结案意见", max_length=500, required=False)


class RejectForm(ActionForm):
    verb, label = "reject", "非本部门职责退回"
    reason = forms.CharField(label="退回理由", max_length=200, help_text="说明应由哪个部门办理及依据。")

    def save(self):
        return self.run_service(workflow.reject, self.order, by=self.user, reason=self.cleaned_data["reason"])


class MergeForm(ActionForm):
    verb, label = "merge", "并单"
    parent = forms.CharField(label="主工单编号", max_length=32)
    note = forms.CharField(label="说明", max_length=500, required=False)

    def clean_parent(self):
        number = self.cleaned_data["parent"].strip()
        parent = WorkOrder.objects.restrict(self.user).filter(number=number).first()
        if parent is None:
            raise forms.ValidationError(f"找不到编号为“{number}”的工单，或不在您的数据范围内。", code="not_found")
        return parent

    def save(self):
        data = self.cleaned_data
        return self.run_service(workflow.merge, self.order, by=self.user, parent=data["parent"], note=data["note"])


class DismissRepeatForm(ActionForm):
    verb, label = "dismiss_repeat", "非重复"
    candidate = forms.IntegerField(widget=forms.HiddenInput)

    def clean_candidate(self):
        candidate = RepeatCandidate.objects.filter(pk=self.cleaned_data["candidate"], order=self.order).first()
        if candidate is None:
            raise forms.ValidationError("该疑似重复记录不存在。", code="not_found")
        if candidate.status != RepeatStatus.PENDING:
            raise forms.ValidationError("该疑似重复已处理。", code="already_decided")
        return candidate

    def save(self):
        return self.run_service(workflow.dismiss_repeat, self.cleaned_data["candidate"], by=self.user)


class EscalateForm(ActionForm):
    verb, label = "escalate", "督办"
    reason = forms.CharField(label="督办原因", max_length=200)

    def save(self):
        return self.run_service(workflow.escalate, self.order, by=self.user, reason=self.cleaned_data["reason"])


class CategoryChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return str(obj)


class ClassifyForm(ActionForm):
    verb, label = "classify", "人工分类"
    category = CategoryChoiceField(label="分类（小类）", queryset=selectors.leaf_categories(), empty_label="请选择")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = selectors.leaf_categories()
        self.fields["category"].initial = self.order.category_id or self.order.predicted_category_id

    def save(self):
        return self.run_service(workflow.classify, self.order, by=self.user, category=self.cleaned_data["category"])


class LocateForm(ActionForm):
    verb, label = "locate", "定位"
    lon = forms.FloatField(label="经度", required=False, widget=forms.NumberInput(attrs={**DECIMAL,
                                                                                          "data-pick": "lon"}))
    lat = forms.FloatField(label="纬度", required=False, widget=forms.NumberInput(attrs={**DECIMAL,
                                                                                          "data-pick": "lat"}))
    squad = SquadChoiceField(label="或直接指定中队", queryset=OrgUnit.objects.none(), required=False,
                             empty_label="不指定")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["squad"].queryset = selectors.squads_in_scope(self.user)
        self.fields["lon"].help_text = "可在地图上点击选点（WGS-84）。"

    def clean(self):
        data = super().clean()
        if (data.get("lon") is None) != (data.get("lat") is None):
            raise forms.ValidationError("经度和纬度须同时填写。", code="required")
        return data

    def save(self):
        data = self.cleaned_data
        return self.run_service(workflow.locate, self.order, by=self.user, lon=data.get("lon"), lat=data.get("lat"),
                                squad=data.get("squad"))


class RequestExtensionForm(ActionForm):
    verb, label = "request_extension", "申请延期"
    extra_days = forms.IntegerField(label="延长工作日", min_value=1)
    reason = forms.CharField(label="申请理由", max_length=300)

    def save(self):
        data = self.cleaned_data
        return self.run_service(workflow.request_clock, self.order, by=self.user, kind=RequestKind.EXTENSION,
                                reason=data["reason"], extra_days=data["extra_days"])


class RequestSuspensionForm(ActionForm):
    verb, label = "request_suspension", "申请挂起"
    reason = forms.CharField(label="申请理由", max_length=300, help_text="挂起期间计时暂停，如：等待其他部门意见。")

    def save(self):
        return self.run_service(workflow.request_clock, self.order, by=self.user, kind=RequestKind.SUSPENSION,
                                reason=self.cleaned_data["reason"])


class ResumeForm(_NoteForm):
    verb, label = "resume", "恢复办理"
    note = forms.CharField(label="说明", max_length=500, required=False)


class RateForm(ActionForm):
    verb, label = "rate", "回访评价"
    satisfaction = forms.ChoiceField(label="满意度", choices=[("", "请选择"), *Satisfaction.choices])
    note = forms.CharField(label="回访记录", max_length=500, required=False)

    def save(self):
        data = self.cleaned_data
        return self.run_service(workflow.rate, self.order, by=self.user, satisfaction=data["satisfaction"],
                                note=data["note"])


class ConvertForm(ActionForm):
    verb, label = "convert_to_case", "诉转案"
    facts = forms.CharField(label="违法事实", max_length=2000, widget=forms.Textarea(attrs=TEXTAREA))
    party_name = forms.CharField(label="当事人", max_length=200, required=False)

    def save(self):
        data = self.cleaned_data
        return self.run_service(workflow.convert_to_case, self.order, by=self.user, facts=data["facts"],
                                party_name=data["party_name"])


class DecideClockForm(ActionForm):
    verb, label = "decide_clock", "审批"
    request = forms.IntegerField(widget=forms.HiddenInput)
    approve = forms.ChoiceField(label="审批结论", choices=[("1", "批准"), ("0", "驳回")])
    note = forms.CharField(label="审批意见", max_length=300, required=False, help_text="驳回时必填。")

    def clean_request(self):
        request = ClockRequest.objects.filter(pk=self.cleaned_data["request"], order=self.order).first()
        if request is None:
            raise forms.ValidationError("该申请不存在。", code="not_found")
        if request.status != RequestStatus.PENDING:
            raise forms.ValidationError("该申请已审批。", code="already_decided")
        return request

    def save(self):
        data = self.cleaned_data
        return self.run_service(workflow.decide_clock, data["request"], by=self.user, approve=data["approve"] == "1",
                                note=data["note"])


ACTION_FORMS: dict[str, type[ActionForm]] = {form.verb: form for form in (
    AcceptForm, DispatchForm, ReassignForm, AssignForm, StartForm, ReplyForm, ReturnForm, VerifyForm, CloseForm,
    RejectForm, MergeForm, DismissRepeatForm, EscalateForm, ClassifyForm, LocateForm, RequestExtensionForm,
    RequestSuspensionForm, ResumeForm, RateForm, ConvertForm, DecideClockForm,
)}
# Verbs of workflow.allowed_actions that share another verb's form.
SAME_FORM = {"rework": "verify"}
# Verbs that are not in allowed_actions but ride on another one's right.
RIDES_ON = {"dismiss_repeat": "classify", "decide_clock": None}


# --- a new order typed in by staff ------------------------------------------------------------

class NewOrderForm(ServiceForm):
    channel = forms.ChoiceField(label="来源", choices=())
    title = forms.CharField(label="标题", max_length=200, required=False)
    text = forms.CharField(label="问题描述", widget=forms.Textarea(attrs={"rows": 4}))
    address = forms.CharField(label="地址", max_length=255, required=False)
    lon = forms.FloatField(label="经度", required=False, widget=forms.NumberInput(attrs={**DECIMAL,
                                                                                          "data-pick": "lon"}))
    lat = forms.FloatField(label="纬度", required=False, widget=forms.NumberInput(attrs={**DECIMAL,
                                                                                          "data-pick": "lat"}))
    crs = forms.ChoiceField(label="坐标系", choices=[("wgs84", "WGS-84（GPS、地图选点）"),
                                                   ("gcj02", "GCJ-02（高德/腾讯）")], initial="wgs84")
    reporter_name = forms.CharField(label="反映人", max_length=50, required=False)
    reporter_phone = forms.CharField(label="联系电话", max_length=20, required=False)
    wants_reply = forms.BooleanField(label="需要答复反映人", required=False)

    def __init__(self, *args, user, photos=(), **kwargs):
        self.user, self.photos = user, list(photos)
        super().__init__(*args, **kwargs)
        channels = STAFF_CHANNELS + (CENTRE_CHANNELS if user.has_perm("workorders.intake_workorder") else [])
        self.fields["channel"].choices = [(c.value, c.label) for c in channels]
        self.fields["channel"].initial = Channel.PATROL
        self.fields["lon"].help_text = "可在地图上点击选点；不填坐标时按地址匹配标准地址库。"

    def clean(self):
        data = super().clean()
        if (data.get("lon") is None) != (data.get("lat") is None):
            raise forms.ValidationError("经度和纬度须同时填写。", code="required")
        if len(self.photos) > MAX_PHOTOS:
            raise forms.ValidationError(f"一次最多上传 {MAX_PHOTOS} 张照片。", code="too_many_photos")
        return data

    def save(self):
        return self.run_service(self._submit)

    def _submit(self):
        data = self.cleaned_data
        wants_reply = data["wants_reply"] or bool(data["reporter_phone"])
        with transaction.atomic():
            photos = [store_evidence(photo, by=self.user, description="工单照片") for photo in self.photos]
            return intake.receive(
                by=self.user, channel=data["channel"], title=data["title"], text=data["text"],
                address=data["address"], lon=data["lon"], lat=data["lat"], crs=data["crs"],
                reporter_name=data["reporter_name"], reporter_phone=data["reporter_phone"],
                wants_reply=wants_reply, photos=photos,
            ).order


def action_form(verb: str, order: WorkOrder, user, data=None, files=None) -> ActionForm:
    cls = ACTION_FORMS[SAME_FORM.get(verb, verb)]
    kwargs = {"order": order, "user": user, "prefix": cls.verb}
    if cls is ReplyForm:
        kwargs["photos"] = files.getlist(f"{cls.verb}-photos") if files is not None else []
    return cls(data, **kwargs)

