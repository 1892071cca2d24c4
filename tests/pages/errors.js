// errors.html: one click = a console error, an HTTP 500 and an uncaught TypeError.
document.getElementById('boom').addEventListener('click', function onBoom() {
  console.error('boom clicked');
  fetch('/status/500');
  throw new TypeError('kaboom');
});
