// Lumen & Co. demo shop script, shared by index.html and checkout.html.
// It contains one deliberate bug (see showReceipt) for collector's first-run demo.
'use strict';

const shop = {
  cart: [{ sku: 'AUR-LAMP-01', name: 'Aurora Desk Lamp', price: 4900, qty: 1 }],
  currency: 'EUR',
};

function initAnalytics() {
  // A stand-in for a real analytics snippet: it only logs, it never calls the network.
  console.log('[analytics] init: session started, page=' + document.body.dataset.page);
  console.info('[analytics] consent: necessary cookies only');
}

function restoreCart() {
  const items = shop.cart.reduce((n, item) => n + item.qty, 0);
  document.getElementById('cart-count').textContent = String(items);
  console.log('[cart] restored ' + items + ' item(s)');
}

function showReceipt(result) {
  // BUG: assumes every answer from /api/pay has `data`; an error answer does not.
  const card = result.data.card;
  const receipt = result.data.receipt;
  document.getElementById('result').textContent =
    'Thank you — payment received (' + card + ', receipt ' + receipt + ')';
  const pay = document.getElementById('pay');
  pay.textContent = 'Paid';
  console.info('[checkout] paid, receipt ' + receipt);
}

async function pay(event) {
  event.preventDefault();
  const button = document.getElementById('pay');
  button.disabled = true;
  button.textContent = 'Processing…';
  const order = {
    email: document.getElementById('email').value,
    card: document.getElementById('card').value,
    items: shop.cart.map((item) => ({ sku: item.sku, qty: item.qty })),
    amount: shop.cart.reduce((sum, item) => sum + item.price * item.qty, 0),
    currency: shop.currency,
  };
  console.log('[checkout] submitting order for ' + order.amount / 100 + ' ' + order.currency);
  const response = await fetch('/api/pay', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(order),
  });
  if (!response.ok) {
    console.error('Payment failed:', response.status);
  }
  const result = await response.json();
  // Render in the next task, as the real shop's UI framework would: an exception
  // thrown here is an uncaught exception, not a promise rejection.
  setTimeout(() => showReceipt(result), 0);
}

function initCheckout() {
  const form = document.getElementById('checkout-form');
  if (!form) return;
  form.addEventListener('submit', pay);
  console.log('[checkout] ready');
}

initAnalytics();
restoreCart();
initCheckout();
