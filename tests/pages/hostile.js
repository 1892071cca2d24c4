// hostile.html: console errors and an exception whose text must stay inert data
// (HTML, Jinja, JS templates, control characters, lone surrogates, emoji, RTL).
const hostile = [
  '<script>alert(1)</script>',
  '<img src=x onerror=alert(1)>',
  '{{ 7*7 }}',
  '{% raw %}',
  '${7*7}',
  'a\u0000b\u0007c\u001b[31m',
  '\ud800 lone',
  '\udfff',
  'emoji 🎉🔥👩‍💻',
  'RTL \u05e9\u05dc\u05d5\u05dd \u0645\u0631\u062d\u0628\u0627 \u202eevil',
];
for (const text of hostile) {
  console.error(text);
}
setTimeout(function hostileTimer() {
  throw new Error('<b>bold</b> {{ 7*7 }}');
}, 50);
