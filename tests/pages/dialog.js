// dialog.html: an alert and a confirm; the log lines prove the page continued.
document.getElementById('alert').addEventListener('click', () => {
  alert('hello from alert');
  console.log('after alert');
  document.getElementById('out').textContent = 'alerted';
});
document.getElementById('confirm').addEventListener('click', () => {
  const answer = confirm('sure?');
  console.log('confirm returned ' + answer);
  document.getElementById('out').textContent = 'confirm ' + answer;
});
