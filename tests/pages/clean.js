// clean.html: no errors at all, one console.log on load.
console.log('clean page loaded');
document.getElementById('go').addEventListener('click', () => {
  document.getElementById('out').textContent = 'done';
});
