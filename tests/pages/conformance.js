// conformance.html: logs every event the Recorder conformance recording causes.
// Entries go to window.__log (shared with the frame and the popup) and to the
// console as "EVENT <entry>", where collector captures them.
window.__log = [];

function log(entry) {
  window.__log.push(entry);
  console.log('EVENT ' + entry);
}

function on(id, type, describe) {
  document.getElementById(id).addEventListener(type, (event) => log(describe(event)));
}

on('btn', 'click', () => 'click #btn');
on('dbl', 'dblclick', () => 'dblclick #dbl');
on('name', 'change', (e) => 'change #name=' + e.target.value);
on('plan', 'change', (e) => 'change #plan=' + e.target.value);
on('hover', 'mouseenter', () => 'mouseenter #hover');
on('open-popup', 'click', () => {
  window.open('conformance-popup.html');
  return 'click #open-popup';
});
document.addEventListener('keydown', (e) => log('keydown ' + e.key));
document.addEventListener('keyup', (e) => log('keyup ' + e.key));

let lastScroll = '0,0';
window.addEventListener('scroll', () => {
  const where = Math.round(window.scrollX) + ',' + Math.round(window.scrollY);
  if (where !== lastScroll) {
    lastScroll = where;
    log('scroll ' + where);
  }
});

class ShadowHost extends HTMLElement {
  constructor() {
    super();
    const root = this.attachShadow({ mode: 'open' });
    root.innerHTML = '<button id="shadow-btn" type="button" aria-label="Shadow button">Shadow</button>';
    root.getElementById('shadow-btn').addEventListener('click', () => log('click #shadow-btn (shadow)'));
  }
}
customElements.define('shadow-host', ShadowHost);
