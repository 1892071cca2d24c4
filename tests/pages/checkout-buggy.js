// checkout-buggy.html: the demo shop's bug in miniature.
document.getElementById('pay').addEventListener('click', () => {
  console.error('payment failed');
  const result = {};
  setTimeout(function showReceipt() {
    document.getElementById('result').textContent = result.data.card;
  }, 0);
});
