"""Business rules of enforcement cases: parties, the ordinary-procedure state machine
(workflow), the legal rules it enforces (rules), the simple procedure (simple), execution
(execution) and conversion of work orders and inspections into cases (conversion)."""
