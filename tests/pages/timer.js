// timer.html: the exception fires 1200 ms after the click, after the step ended.
document.getElementById('late').addEventListener('click', () => {
  setTimeout(function lateTimer() {
    throw new Error('late boom');
  }, 1200);
});
