// checkout-fixed.html: the same checkout after the fix; no errors.
document.getElementById('pay').addEventListener('click', () => {
  document.getElementById('result').textContent = 'paid';
});
