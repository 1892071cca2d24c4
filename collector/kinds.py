"""The report format's words that need no models: its schema id, how its kinds rank.

Apart from collector.report so that the ticket, which checks the schema id and
ranks errors, starts without importing pydantic.
"""

from __future__ import annotations

SCHEMA_ID = "collector/report@1"

# What a developer should look at first: an exception names the broken code; a
# console error the app's own complaint; network errors are often its cause or echo.
KIND_RANK = {"crash": 0, "page_error": 1, "console": 2, "http_error": 3, "request_failed": 4}

# Outcomes where the page or the site stopped the run before its last step.
FAILED_STATUSES = ("step_failed", "crashed", "unreachable")
