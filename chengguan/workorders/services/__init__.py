"""Work-order services: intake, the handling state machine, clocks, classification, routing
(addresses) and repeat detection. Views, API and commands call these; nothing else writes."""
