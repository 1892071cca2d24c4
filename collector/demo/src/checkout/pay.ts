import { cartTotal, shop } from "../cart";
import { type PayResult, showReceipt } from "./receipt";

function field(id: string): string {
  return (document.getElementById(id) as HTMLInputElement | HTMLSelectElement).value;
}

export async function pay(event: Event): Promise<void> {
  event.preventDefault();
  const button = document.getElementById("pay") as HTMLButtonElement;
  button.disabled = true;
  button.textContent = "Processing…";
  const order = {
    email: field("email"),
    card: field("card"),
    items: shop.cart.map((item) => ({ sku: item.sku, qty: item.qty })),
    amount: cartTotal(),
    currency: shop.currency,
  };
  console.log("[checkout] submitting order for " + order.amount / 100 + " " + order.currency);
  const response = await fetch("/api/pay", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(order),
  });
  if (!response.ok) {
    console.error("Payment failed:", response.status);
  }
  const result = (await response.json()) as PayResult;
  // Render in the next task, as the real shop's UI framework would: an exception
  // thrown here is an uncaught exception, not a promise rejection.
  setTimeout(() => showReceipt(result), 0);
}

export function initCheckout(): void {
  const form = document.getElementById("checkout-form");
  if (!form) return;
  form.addEventListener("submit", pay);
  console.log("[checkout] ready");
}
