from rest_framework.permissions import SAFE_METHODS, BasePermission


class RolePermission(BasePermission):
    """Authenticated staff only; model-level rights come from the role table
    (`<app>.<action>_<model>`). Views may name `required_perm` (or per-action
    `action_perms`) for command endpoints. Row-level scope is applied by the view's
    queryset through `restrict()`; an out-of-scope object is a 404."""

    ACTION_BY_METHOD = {"POST": "add", "PUT": "change", "PATCH": "change", "DELETE": "delete"}

    def has_permission(self, request, view):
        user = request.user
        if not (user and user.is_authenticated and user.is_active):
            return False
        method = request.method.lower()
        if method not in view.http_method_names or not hasattr(view, method):
            return True  # the view answers 405 whoever asks
        perm = self.required_perm(request, view)
        return perm is None or user.has_perm(perm)

    def required_perm(self, request, view):
        action_perms = getattr(view, "action_perms", {})
        action = getattr(view, "action", None)
        if action in action_perms:
            return action_perms[action]
        if getattr(view, "required_perm", None):
            return view.required_perm
        queryset = getattr(view, "queryset", None)
        if queryset is None:
            return None
        meta = queryset.model._meta
        verb = "view" if request.method in SAFE_METHODS else self.ACTION_BY_METHOD.get(request.method, "change")
        return f"{meta.app_label}.{verb}_{meta.model_name}"
