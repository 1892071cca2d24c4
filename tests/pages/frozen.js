// frozen.html: buttons that make the page's script busy forever (a hung renderer).
function spin() {
  for (;;) { /* busy: the renderer never answers again */ }
}
document.getElementById('freeze').addEventListener('click', spin);
document.getElementById('freeze-later').addEventListener('click', () => setTimeout(spin, 200));
document.getElementById('throw').addEventListener('click', () => {
  throw new TypeError('thrown before the freeze');
});
