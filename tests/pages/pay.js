// pay.html: "Pay now" throws only once an e-mail was entered, so a replay
// reproduces the bug only when it fills the field as the test did.
document.getElementById('pay').addEventListener('click', function onPay() {
  const email = document.getElementById('email').value;
  document.getElementById('status').textContent = 'paying';
  if (email) {
    const order = {};
    console.log('paying for ' + email);
    return order.payment.card;  // TypeError: Cannot read properties of undefined
  }
  document.getElementById('status').textContent = 'no e-mail';
});
