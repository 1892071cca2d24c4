// checkout-steps.html: the bug is behind a first step (Continue), as in a real shop.
// The replay tests serve edited copies of this page: #next renamed, the bug fixed,
// or fixed with a new error in its place.
document.getElementById('next').addEventListener('click', () => {
  document.getElementById('payment').hidden = false;
});
document.getElementById('pay').addEventListener('click', () => {
  console.error('payment failed');
  const result = {};
  setTimeout(function showReceipt() {
    document.getElementById('result').textContent = result.data.card;
  }, 0);
});
