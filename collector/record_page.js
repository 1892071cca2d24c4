// Injected by `collector record` into every frame before the page's own scripts.
// It turns what the person does into actions with selectors chosen as a tester would,
// and adds the "Report this problem" control. Everything lives in this closure: the
// binding to collector is taken off `window` at once, so the page's code can neither
// see the listeners nor send actions; the control sits in a closed shadow root with
// its styles reset, out of reach of the page's scripts and styles.
(({ binding, hostAttr, label, hint }) => {
  const send = window[binding];
  if (typeof send !== "function") return;
  try { delete window[binding]; } catch (e) { /* non-configurable: still ours */ }

  const RANDOM = [
    /\d{3,}/,                    // counters and timestamps: item-1732, ember123
    /^[0-9a-f]{6,}$/i,           // hashes
    /[0-9].*[a-z]|[a-z].*[0-9]/i,  // letters and digits mixed: x9f3k, r1
    /[:]/,                       // framework ids: :r1:
  ];
  const stableWord = (s) => !!s && s.length <= 40 && !RANDOM.some((re) => re.test(s));
  const norm = (s) => (s || "").replace(/\s+/g, " ").trim();
  const quote = (s) => JSON.stringify(s);
  const isOurs = (node) => !!(node && node.nodeType === 1 && node.hasAttribute(hostAttr));

  // Every element under root, open shadow roots included (what Playwright's engines see).
  function deepAll(root) {
    const out = [];
    const walk = (r) => {
      for (const el of r.querySelectorAll("*")) {
        if (isOurs(el)) continue;
        out.push(el);
        if (el.shadowRoot) walk(el.shadowRoot);
      }
    };
    walk(root);
    return out;
  }
  const visible = (el) => (el.checkVisibility ? el.checkVisibility() : !!el.getClientRects().length);

  function roleOf(el) {
    const explicit = el.getAttribute("role");
    if (explicit) return explicit.trim().split(/\s+/)[0];
    const tag = el.localName;
    if (tag === "button") return "button";
    if (tag === "a" && el.hasAttribute("href")) return "link";
    if (tag === "select") return el.multiple || el.size > 1 ? "listbox" : "combobox";
    if (tag === "textarea") return "textbox";
    if (/^h[1-6]$/.test(tag)) return "heading";
    if (tag === "option") return "option";
    if (tag === "input") {
      const type = (el.getAttribute("type") || "text").toLowerCase();
      if (["button", "submit", "reset", "image"].includes(type)) return "button";
      if (type === "checkbox") return "checkbox";
      if (type === "radio") return "radio";
      if (["text", "email", "tel", "url"].includes(type)) return el.hasAttribute("list") ? "combobox" : "textbox";
      if (type === "search") return "searchbox";
      if (type === "number") return "spinbutton";
      return null;  // password fields have no role; file inputs are buttons of another kind
    }
    return null;
  }
  function textOf(el) {
    return norm(el.innerText !== undefined && el.isConnected ? el.innerText : el.textContent);
  }
  function labelText(el) {
    if (el.labels && el.labels.length) return norm(el.labels[0].innerText);
    return "";
  }
  function nameOf(el) {
    const by = el.getAttribute("aria-labelledby");
    if (by) {
      const root = el.getRootNode();
      const parts = by.split(/\s+/).map((id) => root.getElementById ? root.getElementById(id) : null);
      const text = norm(parts.filter(Boolean).map((p) => p.textContent).join(" "));
      if (text) return text;
    }
    const aria = norm(el.getAttribute("aria-label"));
    if (aria) return aria;
    const tag = el.localName;
    if (["input", "select", "textarea"].includes(tag)) {
      const type = (el.getAttribute("type") || "").toLowerCase();
      if (tag === "input" && ["button", "submit", "reset"].includes(type)) return norm(el.value);
      const label = labelText(el);
      if (label) return label;
      return norm(el.getAttribute("title") || el.getAttribute("placeholder"));
    }
    return textOf(el) || norm(el.getAttribute("title"));
  }

  const count = (root, test) => {
    let n = 0;
    for (const el of deepAll(root)) if (test(el)) n += 1;
    return n;
  };
  const docOf = (el) => el.ownerDocument || document;

  // Candidates in the order a tester would pick them, each unique at this moment.
  function selectorsFor(el) {
    const out = [];
    const doc = docOf(el);
    const add = (sel) => { if (sel && !out.includes(sel)) out.push(sel); };
    const testid = el.getAttribute("data-testid");
    if (testid && count(doc, (e) => e.getAttribute("data-testid") === testid) === 1) {
      add(`data-testid=${quote(testid)}`);
    }
    const role = roleOf(el);
    const name = role ? nameOf(el) : "";
    if (role && name && name.length <= 80 && visible(el)) {
      const same = count(doc, (e) => roleOf(e) === role && visible(e) && nameOf(e) === name);
      if (same === 1) add(`role=${role}[name=${quote(name)}s]`);
    }
    if (["input", "select", "textarea"].includes(el.localName)) {
      const label = labelText(el) || norm(el.getAttribute("aria-label"));
      if (label && count(doc, (e) => ["input", "select", "textarea"].includes(e.localName)
          && (labelText(e) || norm(e.getAttribute("aria-label"))) === label) === 1) {
        add(`internal:label=${quote(label)}s`);
      }
      const placeholder = el.getAttribute("placeholder");
      if (placeholder && count(doc, (e) => e.getAttribute("placeholder") === placeholder) === 1) {
        add(`[placeholder=${quote(placeholder)}]`);
      }
    } else {
      const text = textOf(el);
      if (text && text.length <= 40 && stableText(text)) {
        // The innermost elements whose whole text it is (Playwright's exact text match).
        const holders = deepAll(doc).filter((e) => textOf(e) === text
          && ![...e.children].some((c) => textOf(c) === text));
        if (holders.length === 1 && (holders[0] === el || el.contains(holders[0]))) {
          add(`text=${quote(text)}`);
        }
      }
    }
    add(cssPath(el));
    return out;
  }
  const stableText = (t) => !/\d{3,}/.test(t) && !/^[0-9\s.,:%-]+$/.test(t);

  function cssStep(el) {
    if (el.id && stableWord(el.id)) return `#${CSS.escape(el.id)}`;
    let part = el.localName;
    const name = el.getAttribute("name");
    if (name && stableWord(name)) part += `[name=${quote(name)}]`;
    const classes = [...el.classList].filter(stableWord).slice(0, 2);
    part += classes.map((c) => `.${CSS.escape(c)}`).join("");
    const parent = el.parentElement;
    if (parent) {
      const same = [...parent.children].filter((c) => c.localName === el.localName);
      if (same.length > 1 && !(name && stableWord(name))) part += `:nth-of-type(${same.indexOf(el) + 1})`;
    }
    return part;
  }
  // A short CSS path inside the element's own root; through open shadow roots with `>>`.
  function cssPath(el) {
    const root = el.getRootNode();
    const parts = [];
    let cur = el;
    while (cur && cur.nodeType === 1) {
      const part = cssStep(cur);
      parts.unshift(part);
      const sel = parts.join(" > ");
      if (part.startsWith("#") || root.querySelectorAll(sel).length === 1 || parts.length >= 6) break;
      cur = cur.parentElement;
    }
    const inner = parts.join(" > ");
    if (root instanceof ShadowRoot) return `${cssPath(root.host)} >> ${inner}`;
    return inner;
  }

  // The element a person meant: the control around the innermost target.
  const ACTIONABLE = "button, a[href], input, select, textarea, label, summary, option, [role], [data-testid], [onclick], [tabindex]";
  function actionTarget(event) {
    const path = event.composedPath().filter((n) => n.nodeType === 1);
    if (!path.length || path.some(isOurs)) return null;
    for (const node of path.slice(0, 6)) {
      if (node.matches && node.matches(ACTIONABLE)) return node;
    }
    return path[0];
  }
  const innermost = (event) => {
    const path = event.composedPath().filter((n) => n.nodeType === 1);
    return !path.length || path.some(isOurs) ? null : path[0];
  };
  const TEXTLIKE = /^(text|email|tel|url|search|number|password|date|time|datetime-local|month|week|color|range|)$/;
  const inputType = (el) => (el.getAttribute("type") || "").toLowerCase();
  const isTextField = (el) => el.localName === "textarea" || el.isContentEditable
    || (el.localName === "input" && TEXTLIKE.test(inputType(el)));
  const changedByChange = (el) => el.localName === "select"
    || (el.localName === "input" && ["checkbox", "radio", "file"].includes(inputType(el)));

  let scrolling = null;
  const emitNow = (action) => {
    action.url = location.href;
    if (action.at === undefined) action.at = Date.now();
    try { send(action); } catch (e) { /* collector went away: the page goes on */ }
  };
  let scrolledAt = 0;
  const scrolled = () => ({ kind: "scroll", x: Math.round(scrollX), y: Math.round(scrollY), at: scrolledAt });
  // A scroll still settling is written before the action that follows it.
  const emit = (action) => {
    if (scrolling !== null) {
      clearTimeout(scrolling);
      scrolling = null;
      emitNow(scrolled());
    }
    emitNow(action);
  };

  addEventListener("click", (event) => {
    if (!event.isTrusted || event.button !== 0) return;
    const el = actionTarget(event);
    if (!el) return;
    if (isTextField(el) || changedByChange(el) || el.localName === "select" || el.localName === "option") return;
    // A click on a label that holds a checkbox, radio or file input is recorded by its change.
    if (el.localName === "label" && el.control && changedByChange(el.control)) return;
    emit({ kind: "click", button: "left", selectors: selectorsFor(el) });
  }, true);
  addEventListener("auxclick", (event) => {
    if (!event.isTrusted) return;
    const el = actionTarget(event);
    if (!el) return;
    emit({ kind: "click", button: event.button === 1 ? "middle" : "right", selectors: selectorsFor(el) });
  }, true);
  addEventListener("dblclick", (event) => {
    if (!event.isTrusted) return;
    const el = actionTarget(event);
    if (el) emit({ kind: "dblclick", selectors: selectorsFor(el) });
  }, true);
  addEventListener("input", (event) => {
    if (!event.isTrusted) return;
    const el = innermost(event);
    if (!el || !isTextField(el)) return;
    const value = el.isContentEditable ? el.innerText : el.value;
    const secret = el.localName === "input" && inputType(el) === "password";
    emit({ kind: "fill", selectors: selectorsFor(el), value, secret });
  }, true);
  addEventListener("change", (event) => {
    const el = innermost(event);
    if (!el) return;
    // Files chosen in the file dialog arrive as the browser sets them; else trusted only.
    if (!event.isTrusted && !(el.localName === "input" && inputType(el) === "file")) return;
    if (el.localName === "select") {
      const values = [...el.selectedOptions].map((o) => o.value);
      emit({ kind: "select", selectors: selectorsFor(el), values });
    } else if (el.localName === "input" && ["checkbox", "radio"].includes(inputType(el))) {
      emit({ kind: el.checked ? "check" : "uncheck", selectors: selectorsFor(el) });
    } else if (el.localName === "input" && inputType(el) === "file") {
      emit({ kind: "upload", selectors: selectorsFor(el), files: [...el.files].map((f) => f.name) });
    }
  }, true);
  const KEYS = new Set(["Enter", "Tab", "Escape", "ArrowUp", "ArrowDown", "ArrowLeft", "ArrowRight",
    "PageUp", "PageDown", "Home", "End", "Backspace", "Delete", "F1", "F2", "F3", "F4", "F5"]);
  addEventListener("keydown", (event) => {
    if (!event.isTrusted || event.repeat) return;
    if (event.ctrlKey && event.shiftKey && event.key === "Enter") {
      event.preventDefault();
      event.stopImmediatePropagation();
      emit({ kind: "stop", how: "shortcut" });
      return;
    }
    const mods = ["Control", "Alt", "Meta", "Shift"];
    if (mods.includes(event.key)) return;
    const combo = (event.ctrlKey || event.altKey || event.metaKey) && event.key.length === 1;
    if (!KEYS.has(event.key) && !combo) return;
    // Backspace and Delete inside a text field are typing: the field's value says it.
    const el = innermost(event);
    if (el && isTextField(el) && ["Backspace", "Delete", "ArrowLeft", "ArrowRight", "Home", "End"].includes(event.key)) return;
    // Keys that pick an option of a select are recorded as the select's change.
    if (el && el.localName === "select" && !combo) return;
    const prefix = (event.ctrlKey ? "Control+" : "") + (event.altKey ? "Alt+" : "")
      + (event.metaKey ? "Meta+" : "") + (event.shiftKey && combo ? "Shift+" : "");
    const focused = el && el !== document.body && el !== document.documentElement ? el : null;
    emit({ kind: "press", key: prefix + event.key, selectors: focused ? selectorsFor(focused) : null });
  }, true);
  addEventListener("scroll", (event) => {
    if (event.target !== document) return;
    if (scrolling === null) scrolledAt = Date.now();
    clearTimeout(scrolling);
    scrolling = setTimeout(() => { scrolling = null; emitNow(scrolled()); }, 300);
  }, true);

  // The "Report this problem" control: top frame only, in a closed shadow root.
  if (window.top !== window) return;
  // A new document in the tab: collector tells a typed address, a reload or Back from
  // the navigation an action of the person caused.
  const entry = performance.getEntriesByType("navigation")[0];
  emitNow({ kind: "document", navigation: entry ? entry.type : "navigate" });
  const mount = () => {
    if (!document.documentElement || document.querySelector(`[${hostAttr}]`)) return;
    const host = document.createElement("collector-report");
    host.setAttribute(hostAttr, "");
    host.style.cssText = "all: initial; position: fixed; z-index: 2147483647; right: 12px; bottom: 12px;";
    const shadow = host.attachShadow({ mode: "closed" });
    const button = document.createElement("button");
    button.textContent = label;
    button.title = hint;
    button.style.cssText = "all: initial; font: 600 14px system-ui, sans-serif; color: #fff; "
      + "background: #c62828; padding: 10px 14px; border-radius: 6px; cursor: pointer; "
      + "box-shadow: 0 2px 8px rgba(0,0,0,.35);";
    button.addEventListener("click", (event) => {
      event.stopPropagation();
      if (event.isTrusted) emit({ kind: "stop", how: "control" });
    });
    shadow.append(button);
    document.documentElement.append(host);
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", mount);
  else mount();
})
