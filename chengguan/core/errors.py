"""Domain errors. Every refusal carries a stable machine code (asserted by tests) and a
Chinese message for people; the API turns them into the one error format."""


class ChengguanError(Exception):
    code = "error"
    status = 400

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None,
                 article: str | None = None, errors: list[dict] | None = None):
        super().__init__(message)
        self.message = message
        self.code = code or self.code
        self.field = field
        self.article = article  # legal basis of the refused rule, e.g. "《行政处罚法》第四十二条"
        self.errors = errors  # several field errors at once: [{"field", "code", "message"}]


class BusinessRuleError(ChengguanError):
    """A step refused by a business or legal rule; nothing was changed."""

    code = "rule_violation"
    status = 409


class ValidationFailed(ChengguanError):
    """Bad input: a field is missing, malformed or out of range."""

    code = "invalid"
    status = 400


class AuditBypassError(ChengguanError):
    """A write that would skip the audit chain (bulk update/delete, editing an event)."""

    code = "audit_bypass"
    status = 500
