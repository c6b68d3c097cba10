"""Building blocks for API viewsets (after NetBox's `netbox/api/viewsets/mixins.py`):

* `ScopedQuerysetMixin`: every queryset, list or object lookup, goes through
  `restrict(user, action)` — "view" to read, "change" to update — so an object outside the
  caller's data scope answers 404 whatever the method.
* `ServiceWriteMixin`: create and partial update check the input's shape with a write
  serializer, hand the cleaned data to a service verb (which validates, saves and audits),
  re-check that the result is still in the caller's scope (else everything is rolled back)
  and answer with the read serializer.

`ScopedServiceViewSet` combines them with list and retrieve (no PUT, no DELETE: a service verb
takes the fields to change, and deletions are their own commands where the law allows them):

    class GridViewSet(ScopedServiceViewSet):
        queryset = Grid.objects.select_related("squad")
        serializer_class = GridSerializer                  # responses
        write_serializer_classes = {"create": GridCreateSerializer,
                                    "partial_update": GridUpdateSerializer}

        def perform_service_create(self, data):
            return services.create_grid(by=self.request.user, **data)

        def perform_service_update(self, instance, data):
            return services.update_grid(instance, by=self.request.user, **data)
"""

from django.db import transaction
from rest_framework import mixins, status, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from ..scope import scope_units_for

# Which `restrict()` action each viewset action needs; custom @actions default to "view"
# unless the viewset maps them in `scope_actions`.
DEFAULT_SCOPE_ACTIONS = {
    "list": "view", "retrieve": "view", "create": "add", "update": "change", "partial_update": "change",
    "destroy": "delete",
}


def restrict_queryset(queryset, user, action: str = "view"):
    """`queryset.restrict(user, action)`; models without an org unit (audit events, say) are
    visible only to bureau-wide holders of the model permission."""
    if hasattr(queryset, "restrict"):
        return queryset.restrict(user, action)
    meta = queryset.model._meta
    if not (user and user.is_authenticated and user.has_perm(f"{meta.app_label}.{action}_{meta.model_name}")):
        return queryset.none()
    return queryset if scope_units_for(user) is None else queryset.none()


class ScopedQuerysetMixin:
    scope_actions: dict[str, str] = {}

    def scope_action(self) -> str:
        action = getattr(self, "action", None)
        return self.scope_actions.get(action) or DEFAULT_SCOPE_ACTIONS.get(action, "view")

    def get_queryset(self):
        return restrict_queryset(super().get_queryset(), self.request.user, self.scope_action())


class OutOfScope(PermissionDenied):
    default_detail = "操作后的对象将超出您的数据范围，已撤销本次修改。"
    default_code = "out_of_scope"


class ServiceWriteMixin:
    write_serializer_classes: dict = {}  # action → write serializer

    def get_serializer_class(self):
        return self.write_serializer_classes.get(getattr(self, "action", None)) or super().get_serializer_class()

    def perform_service_create(self, data):
        raise NotImplementedError

    def perform_service_update(self, instance, data):
        raise NotImplementedError

    def read_response(self, instance, status_code=status.HTTP_200_OK):
        serializer = self.serializer_class(instance, context=self.get_serializer_context())
        return Response(serializer.data, status=status_code)

    def ensure_in_scope(self, instance, action: str) -> None:
        """Raise (rolling back the caller's transaction) if the written object has left the
        user's scope, e.g. a grid moved to a squad the user does not cover."""
        queryset = restrict_queryset(type(instance)._default_manager.all(), self.request.user, action)
        if not queryset.filter(pk=instance.pk).exists():
            raise OutOfScope()

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with transaction.atomic():
            instance = self.perform_service_create(serializer.validated_data)
            self.ensure_in_scope(instance, "add")
        return self.read_response(self.get_queryset_for_response().get(pk=instance.pk), status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        instance = self.get_object()  # restrict(user, "change"): out of scope → 404
        serializer = self.get_serializer(instance, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        with transaction.atomic():
            instance = self.perform_service_update(instance, serializer.validated_data)
            self.ensure_in_scope(instance, "change")
        return self.read_response(self.get_queryset_for_response().get(pk=instance.pk))

    def get_queryset_for_response(self):
        """The unrestricted base queryset (with its select/prefetch) to re-read the result."""
        return self.queryset.all()


class ScopedServiceViewSet(ScopedQuerysetMixin, ServiceWriteMixin, mixins.ListModelMixin,
                           mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """List, retrieve, create and partial update; scoped reads, service writes."""


class ScopedReadOnlyViewSet(ScopedQuerysetMixin, viewsets.ReadOnlyModelViewSet):
    """List and retrieve within the caller's scope."""
