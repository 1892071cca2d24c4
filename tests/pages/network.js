// network.html: an HTTP 500, an HTTP 404, a refused connection and a broken image.
// The 500/404 bodies are deliberately never read. Port 2 is closed on any normal host and,
// unlike 9, not on Chromium's unsafe-port list, so it fails with ERR_CONNECTION_REFUSED.
document.getElementById('load').addEventListener('click', async () => {
  const img = document.createElement('img');
  img.id = 'broken-image';
  img.alt = 'missing image';
  img.src = '/status/404';
  document.getElementById('images').append(img);

  const refused = fetch('http://127.0.0.1:2/refused').catch(() => {});
  const r500 = await fetch('/status/500');
  const r404 = await fetch('/status/404');
  const seen = [];
  if (!r500.ok) seen.push(r500.status);
  if (!r404.ok) seen.push(r404.status);
  await refused;
  document.getElementById('status').textContent = 'loaded ' + seen.join(' ');
});
