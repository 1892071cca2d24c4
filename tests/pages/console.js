// console.html: one click = one console.error, nothing thrown.
document.getElementById('log').addEventListener('click', function onLog() {
  console.error('order 42 could not be saved');
});
