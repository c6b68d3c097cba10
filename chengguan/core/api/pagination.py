from rest_framework.pagination import CursorPagination


class StableCursorPagination(CursorPagination):
    """Keyset pagination: constant cost on million-row tables, stable under inserts."""

    ordering = "-pk"
    page_size_query_param = "page_size"
    max_page_size = 500
    invalid_cursor_message = "分页游标无效。"
