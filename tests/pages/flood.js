// flood.html?n=COUNT&big=MB: COUNT console errors in ticks of 1000, then one huge one.
const params = new URLSearchParams(location.search);
const total = params.has('n') ? Number(params.get('n')) : 100000;
const bigMb = params.has('big') ? Number(params.get('big')) : 1;
const padding = 'x'.repeat(80);
const perTick = 1000;
let i = 0;

function tick() {
  const end = Math.min(i + perTick, total);
  for (; i < end; i++) {
    console.error('flood message ' + i + ' ' + padding);
  }
  if (i < total) {
    setTimeout(tick, 0);
    return;
  }
  if (bigMb > 0) {
    console.error('y'.repeat(Math.floor(bigMb * 1024 * 1024)));
  }
  document.title = 'flood done';
  document.getElementById('status').textContent = 'done';
}

setTimeout(tick, 0);
