// form.html: every DOM event it handles is pushed to window.__events as "<type> <target>",
// e.g. "click #submit", "input #email", "change #plan", "keydown Enter",
// "dblclick #dbl", "mouseenter #hover-target", "visible #footer".
window.__events = [];
const $ = (id) => document.getElementById(id);
const describe = (el) => (el && el.id ? '#' + el.id : el && el.tagName ? el.tagName.toLowerCase() : 'window');
const record = (entry) => window.__events.push(entry);

for (const type of ['click', 'dblclick', 'input', 'change']) {
  document.addEventListener(type, (event) => record(type + ' ' + describe(event.target)), true);
}
document.addEventListener('keydown', (event) => {
  record('keydown ' + event.key);
  $('key').textContent = event.key;
}, true);

$('form').addEventListener('submit', (event) => {
  event.preventDefault(); // Enter in a field must not reload the page mid-scenario
  record('submit #form');
});
$('hover-target').addEventListener('mouseenter', () => {
  record('mouseenter #hover-target');
  $('hovered').textContent = 'yes';
});
$('dbl').addEventListener('dblclick', () => {
  $('out').textContent = 'double';
});
$('submit').addEventListener('click', () => {
  $('out').textContent = 'submitted ' + $('email').value;
});
$('file').addEventListener('change', () => {
  $('files').textContent = Array.from($('file').files, (f) => f.name).join(', ');
});
new IntersectionObserver((entries) => {
  if (entries.some((e) => e.isIntersecting)) record('visible #footer');
}).observe($('footer'));
