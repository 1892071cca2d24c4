"""A Chrome DevTools Recorder export, recognised by its shape alone.

Apart from collector.recorder (which maps a recording onto the models) so that
`collector validate` and `collector convert` can tell a recording from a steps
file without importing pydantic.
"""

from __future__ import annotations

from typing import Any

STEP_TYPES = {
    "setViewport", "navigate", "click", "doubleClick", "change", "keyDown", "keyUp", "hover",
    "scroll", "waitForElement", "waitForExpression", "close", "emulateNetworkConditions",
    "customStep",
}  # fmt: skip


def is_recording(data: Any) -> bool:
    """A Recorder export: an object whose steps are objects with a Recorder ``type``."""
    if not isinstance(data, dict) or not isinstance(data.get("steps"), list):
        return False
    steps = data["steps"]
    if not steps:
        # An empty flow is still a flow: a title and no other key of a steps file.
        return isinstance(data.get("title"), str) and set(data) <= {"title", "steps", "timeout"}
    return all(
        isinstance(s, dict) and isinstance(s.get("type"), str) for s in steps
    ) and any(s["type"] in STEP_TYPES for s in steps)  # fmt: skip
