"""Which parts of a page a screenshot must paint over: secrets are never pixels.

Password fields are masked always. When the run knows secret values (declared
secrets, values typed into password fields), every element in every frame whose
value or visible text contains one is masked too.

Playwright's mask costs a fresh document some 30 ms (its selector engine is
injected into the page first) and a page it knows 20 ms, as much as the picture
itself. So a picture of the viewport (the final one, a failing step's) is
covered by a pane of our own, drawn in one call per frame: a fixed layer on top
of the frame whose boxes sit in a closed shadow root, out of the page's styles'
reach, over every password field and marked element. A frame that cannot draw
it gets Playwright's mask for its password fields. Full-page and element
pictures (Playwright scrolls and resizes for those) keep Playwright's mask,
each frame first asked whether it has a password field at all. These calls run
in the page's world, as the secret marking does: a page script that replaced
querySelector could hide a field from them, where Playwright's mask, in a
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
MASK_PANE = "collector-mask-pane"
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

# Marks the elements _COLLECT kept at the indexes; how many it could mark.
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

# Marks the collected owners at the indexes (secrets), then covers every element matching
# the selector (open shadow roots included) with a box of the colour, on a pane of its own.
_COVER = """([indexes, attribute, selector, color, pane]) => {
  const marked = (/*_MARK*/)([indexes, attribute]);
  const found = [];
  const visit = (root) => {
    for (const el of root.querySelectorAll(selector)) found.push(el);
    for (const el of root.querySelectorAll('*')) if (el.shadowRoot) visit(el.shadowRoot);
  };
  visit(document);
  if (found.length) {
    const layer = document.createElement(pane);
    layer.setAttribute('style', 'all: initial !important; display: block !important; ' +
      'position: fixed !important; inset: 0 !important; z-index: 2147483647 !important; ' +
      'pointer-events: none !important;');
    const boxes = layer.attachShadow({ mode: 'closed' });
    for (const el of found) {
      const r = el.getBoundingClientRect();
      const box = document.createElement('div');
      box.style.cssText = `position: absolute; left: ${r.left}px; top: ${r.top}px; ` +
        `width: ${r.width}px; height: ${r.height}px; background: ${color};`;
      boxes.appendChild(box);
    }
    document.documentElement.appendChild(layer);
  }
  return [marked, found.length];
}""".replace("/*_MARK*/", _MARK)

_CLEAR = """([attribute, pane]) => {
  for (const layer of document.querySelectorAll(pane)) layer.remove();
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
    """What Playwright is to paint over, and whether the page carries our marks or panes
    (to clear after)."""

    locators: list[Locator]
    marked: bool


def password_masks(page: Any) -> list[Any]:
    """The password fields of every frame of ``page`` (either Playwright API), to paint over."""
    return [frame.locator(PASSWORD_FIELDS) for frame in page.frames if not frame.is_detached()]


async def masks_for(page: Page, secrets: list[str], *, cover: bool = False) -> Masks:
    """What to paint over in a screenshot of ``page``; MaskFailed when unsure.

    ``cover``: a picture of the viewport as it is; each frame draws its own pane
    (see the module's docstring), and what is returned is only the fallback.
    """
    values = [s for s in secrets if s]
    frames = [frame for frame in page.frames if not frame.is_detached()]
    if cover:
        return await _covered(frames, values)
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


async def _covered(frames: list[Frame], values: list[str]) -> Masks:
    results = await asyncio.gather(*(_cover(f, values) for f in frames), return_exceptions=True)
    masks = Masks([], marked=False)
    failure: BaseException | None = None
    for frame, result in zip(frames, results, strict=True):
        if isinstance(result, BaseException):
            failure = failure or result
            masks.marked = True  # what the other frames drew is cleared all the same
        elif result is None:
            masks.locators.append(frame.locator(PASSWORD_FIELDS))
        elif result:
            masks.marked = True
    if failure is not None:
        # Raised once every frame is done: none is still marking when the marks are cleared.
        raise failure
    return masks


async def _cover(frame: Frame, values: list[str]) -> bool | None:
    """Draw ``frame``'s pane over its password fields and the elements showing a secret;
    whether anything was marked or drawn. None: the frame could not draw it (it then
    gets Playwright's mask); MaskFailed when a secret may be left uncovered."""
    indexes = await _secret_indexes(frame, values) if values else []
    selector = f"{PASSWORD_FIELDS}, [{MASK_ATTRIBUTE}]"
    try:
        marked, drawn = await within(
            frame.evaluate(_COVER, [indexes, MASK_ATTRIBUTE, selector, MASK_COLOR, MASK_PANE]),
            FRAME_DEADLINE_S,
            "masking",
        )
    except Exception as exc:
        if frame.is_detached():
            return False
        if values:
            raise MaskFailed(f"frame {frame.url[:100]}: {first_line(exc)}") from exc
        return None
    if marked != len(indexes):
        # The page changed between the two calls: an element showing a secret may be unmarked.
        raise MaskFailed(f"frame {frame.url[:100]}: the page changed while masking secrets")
    return bool(marked or drawn)


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
            await within(
                frame.evaluate(_CLEAR, [MASK_ATTRIBUTE, MASK_PANE]), FRAME_DEADLINE_S, "clearing masks"
            )
        except Exception as exc:
            if not frame.is_detached():  # a frame that went away keeps no marks
                failed.append(f"{frame.url[:100]}: {first_line(exc)}")
    return failed


async def _secret_indexes(frame: Frame, values: list[str]) -> list[int]:
    """Which of ``frame``'s texts and input values show a secret (the page keeps their
    elements for the marking call); MaskFailed when the frame cannot tell."""
    try:
        texts = await within(
            frame.evaluate(_COLLECT, min(len(v) for v in values)), FRAME_DEADLINE_S, "texts"
        )
    except Exception as exc:
        if frame.is_detached():
            return []
        raise MaskFailed(f"frame {frame.url[:100]}: {first_line(exc)}") from exc
    if not isinstance(texts, list) or sum(len(str(t)) for t in texts) > MAX_TEXT_CHARS:
        raise MaskFailed(f"frame {frame.url[:100]}: too much text to check for secrets")
    return [i for i, text in enumerate(texts) if any(v in str(text) for v in values)]


async def _mark_secrets(frame: Frame, values: list[str]) -> bool:
    """Mark the elements of ``frame`` that show a secret; whether any were marked."""
    indexes = await _secret_indexes(frame, values)
    if not indexes:
        return False
    try:
        marked = await within(
            frame.evaluate(_MARK, [indexes, MASK_ATTRIBUTE]), FRAME_DEADLINE_S, "marking"
        )
    except Exception as exc:
        if frame.is_detached():
            return False
        raise MaskFailed(f"frame {frame.url[:100]}: {first_line(exc)}") from exc
    if marked != len(indexes):
        # The page changed between the two calls: an element showing a secret may be unmarked.
        raise MaskFailed(f"frame {frame.url[:100]}: the page changed while masking secrets")
    return True
