// bodies.html: #pay posts to an endpoint that answers 503 with a JSON body holding a token,
// then the page reports it (console.error) and throws on the missing receipt. The other
// endpoints are fetched by the test's `evaluate` steps (tests/conftest.py serves /body/*).
document.getElementById('pay').addEventListener('click', async () => {
  const answer = await fetch('/body/card');
  const data = await answer.json();
  console.error('payment failed: ' + data.error + ' at /body/card?' + 'x'.repeat(300));
  document.getElementById('msg').textContent = data.receipt.number;
});
