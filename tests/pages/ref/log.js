// Every page of the Recorder reference corpus keeps a log of the DOM events the
// steps cause in window.__log. Frames and popups send their entries to the page
// that opened them (postMessage works across origins), so the main page's log is
// the whole story. tests/test_recorder_reference.py compares that log, the URL,
// the text and the form values after @puppeteer/replay and after collector.
(function () {
  // Entries from elsewhere name their document; each document's entries keep their
  // order, but two documents' entries may interleave either way (two processes).
  const where = window.top !== window ? `frame@${location.hostname}: ` : window.opener ? 'popup: ' : '';
  window.__log = [];
  function describe(el) {
    if (!el || !el.tagName) return String(el && el.nodeName);
    return el.id ? '#' + el.id : el.tagName.toLowerCase();
  }
  function log(entry) {
    window.__log.push(entry);
    const up = window.top !== window ? window.parent : window.opener;
    if (up) up.postMessage({ refLog: where + entry }, '*');
  }
  window.addEventListener('message', (e) => {
    if (e.data && typeof e.data.refLog === 'string') {
      window.__log.push(e.data.refLog);
      const up = window.top !== window ? window.parent : window.opener;
      if (up) up.postMessage({ refLog: where + e.data.refLog }, '*');
    }
  });
  const mouse = ['mousedown', 'mouseup', 'click', 'dblclick', 'auxclick', 'contextmenu'];
  for (const type of mouse) {
    document.addEventListener(type, (e) => {
      log(`${type} ${describe(e.target)} button=${e.button} at=${Math.round(e.offsetX)},${Math.round(e.offsetY)}`);
    }, true);
  }
  for (const type of ['input', 'change']) {
    document.addEventListener(type, (e) => {
      const t = e.target;
      const value = t.isContentEditable ? t.innerText : t.type === 'checkbox' || t.type === 'radio' ? t.checked : t.value;
      log(`${type} ${describe(t)}=${value}`);
    }, true);
  }
  for (const type of ['keydown', 'keyup']) {
    document.addEventListener(type, (e) => log(`${type} ${e.key} on ${describe(e.target)}`), true);
  }
  document.addEventListener('mouseover', (e) => {
    if (e.target.dataset && e.target.dataset.hover !== undefined) log('mouseover ' + describe(e.target));
  }, true);
  window.__refLog = log;
})();
