// Lumen & Co. demo shop, shared by index.html and checkout.html. Built by
// scripts/build-demo.sh into ../static/shop.js (minified) and shop.js.map: the demo's
// ticket shows where the deliberate bug is in these files (checkout/receipt.ts).
import { initAnalytics } from "./analytics";
import { restoreCart } from "./cart";
import { initCheckout } from "./checkout/pay";

initAnalytics();
restoreCart();
initCheckout();
