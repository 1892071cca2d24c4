"""Which parts of a page a screenshot must paint over: secrets are never pixels.

Password fields are masked always. When the run knows secret values (declared
secrets, values typed into password fields), every element in every frame whose
value or visible text contains one is masked too.

Playwright's mask costs a fresh document some 30 ms (its selector engine is
injected into the page first), more than the picture itself: so each frame is
first asked, in the page's own world, whether it has a password field at all,
and only the frames that have one (or cannot answer) get the mask. The question
runs in the page's world, as the secret marking below does: a page script that
replaced querySelector could hide a field from it, where Playwright's mask, in a
world of its own, would still find it.

The secret values never go into the page: page scripts could read anything we
pass to ``evaluate``, and a cross-origin frame must not learn a value typed
elsewhere. So each frame hands us its texts and input values, the match is done
here, and the page only gets back the indexes of the elements to mark.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from collector.deadlines import within
from collector.errors import first_line

if TYPE_CHECKING:
    from playwright.async_api import Frame, Locator, Page

PASSWORD_FIELDS = 'input[type="password" i]'
MASK_ATTRIBUTE = "data-collector-mask"
MASK_COLOR = "#FF00FF"
FRAME_DEADLINE_S = 5.0
MAX_TEXT_CHARS = 20_000_000

# Text nodes and input values long enough to hold a secret, each with the element that
# shows it. Kept on the window under a symbol until the marking call picks them up.
_COLLECT = """(minLength) => {
  const texts = [], owners = [];
  const hidden = new Set(['SCRIPT', 'STYLE', 'NOSCRIPT', 'TEMPLATE']);
  const visit = (root) => {
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT);
    for (let node = walker.currentNode; node; node = walker.nextNode()) {
      if (node.nodeType === Node.TEXT_NODE) {
        const owner = node.parentElement;
        if (owner && !hidden.has(owner.tagName) && node.data.length >= minLength) {
          texts.push(node.data); owners.push(owner);
        }
        continue;
      }
      if (node.nodeType !== Node.ELEMENT_NODE) continue;
      const value = (node.tagName === 'INPUT' || node.tagName === 'TEXTAREA') ? node.value : null;
      if (typeof value === 'string' && value.length >= minLength) {
        texts.push(value); owners.push(node);
      }
      if (node.shadowRoot) visit(node.shadowRoot);
    }
  };
  visit(document);
  window[Symbol.for('collector.maskOwners')] = owners;
  return texts;
}"""

_MARK = """([indexes, attribute]) => {
  const key = Symbol.for('collector.maskOwners');
  const owners = window[key] || [];
  delete window[key];
  let marked = 0;
  for (const i of indexes) {
    const owner = owners[i];
    if (owner && owner.isConnected) { owner.setAttribute(attribute, ''); marked++; }
  }
  return marked;
}"""

# Whether the frame has an element matching the selector, open shadow roots included
# (where Playwright's CSS engine finds them too).
_HAS_MATCH = """(selector) => {
  const found = (root) => {
    if (root.querySelector(selector)) return true;
    for (const el of root.querySelectorAll('*')) if (el.shadowRoot && found(el.shadowRoot)) return true;
    return false;
  };
  return found(document);
}"""

_CLEAR = """(attribute) => {
  const clear = (root) => {
    for (const el of root.querySelectorAll('[' + attribute + ']')) el.removeAttribute(attribute);
    for (const el of root.querySelectorAll('*')) if (el.shadowRoot) clear(el.shadowRoot);
  };
  clear(document);
}"""


class MaskFailed(Exception):
    """A frame could not be checked for secrets: its picture must not be kept."""


@dataclass
class Masks:
    """What to paint over, and whether the page carries our marks (to clear after)."""

    locators: list[Locator]
    marked: bool


def password_masks(page: Any) -> list[Any]:
    """The password fields of every frame of ``page`` (either Playwright API), to paint over."""
    return [frame.locator(PASSWORD_FIELDS) for frame in page.frames if not frame.is_detached()]


async def masks_for(page: Page, secrets: list[str]) -> Masks:
    """What to paint over in a screenshot of ``page``; MaskFailed when unsure."""
    values = [s for s in secrets if s]
    frames = [frame for frame in page.frames if not frame.is_detached()]
    having = await asyncio.gather(*(_has_password_field(frame) for frame in frames))
    fields = [f.locator(PASSWORD_FIELDS) for f, has in zip(frames, having, strict=True) if has]
    masks = Masks(fields, marked=False)
    if not values:
        return masks
    for frame in page.frames:
        if frame.is_detached():
            continue
        if await _mark_secrets(frame, values):
            masks.locators.append(frame.locator(f"[{MASK_ATTRIBUTE}]"))
            masks.marked = True
    return masks


async def _has_password_field(frame: Frame) -> bool:
    """Whether ``frame`` may show a password field: True unless it says it has none."""
    try:
        return bool(
            await within(frame.evaluate(_HAS_MATCH, PASSWORD_FIELDS), FRAME_DEADLINE_S, "fields")
        )
    except Exception:  # no answer is no proof: the frame keeps Playwright's mask
        return True


async def clear_marks(page: Page) -> list[str]:
    """Take our attribute off the page again; the frames where that failed."""
    failed: list[str] = []
    for frame in page.frames:
        if frame.is_detached():
            continue
        try:
            await within(frame.evaluate(_CLEAR, MASK_ATTRIBUTE), FRAME_DEADLINE_S, "clearing masks")
        except Exception as exc:
            if not frame.is_detached():  # a frame that went away keeps no marks
                failed.append(f"{frame.url[:100]}: {first_line(exc)}")
    return failed


async def _mark_secrets(frame: Frame, values: list[str]) -> bool:
    """Mark the elements of ``frame`` that show a secret; whether any were marked."""
    try:
        texts = await within(
            frame.evaluate(_COLLECT, min(len(v) for v in values)), FRAME_DEADLINE_S, "texts"
        )
        if not isinstance(texts, list) or sum(len(str(t)) for t in texts) > MAX_TEXT_CHARS:
            raise MaskFailed(f"frame {frame.url[:100]}: too much text to check for secrets")
        indexes = [i for i, text in enumerate(texts) if any(v in str(text) for v in values)]
        if not indexes:
            return False
        marked = await within(
            frame.evaluate(_MARK, [indexes, MASK_ATTRIBUTE]), FRAME_DEADLINE_S, "marking"
        )
    except MaskFailed:
        raise
    except Exception as exc:
        if frame.is_detached():
            return False
        raise MaskFailed(f"frame {frame.url[:100]}: {first_line(exc)}") from exc
    if marked != len(indexes):
        # The page changed between the two calls: an element showing a secret may be unmarked.
        raise MaskFailed(f"frame {frame.url[:100]}: the page changed while masking secrets")
    return True
