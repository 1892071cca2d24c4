// popup.html: the popup logs before any listener attached after window.open could see it.
document.getElementById('open').addEventListener('click', () => {
  window.open('popup-child.html');
});
