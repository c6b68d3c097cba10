from rest_framework.pagination import CursorPagination


class StableCursorPagination(CursorPagination):
    """Keyset pagination: constant cost on million-row tables, stable under inserts. A view
    may set `cursor_ordering` (a unique field, or one ending in a unique field) to list in a
    more natural order than newest first."""

    ordering = "-pk"
    page_size_query_param = "page_size"
    max_page_size = 500
    invalid_cursor_message = "分页游标无效。"

    def get_ordering(self, request, queryset, view):
        ordering = getattr(view, "cursor_ordering", None) or self.ordering
        return (ordering,) if isinstance(ordering, str) else tuple(ordering)
