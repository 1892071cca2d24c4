import { checkoutTotal } from "./cart/checkout";

declare const BUILD: string;

const lines = [
  { sku: "tea", cents: 450, quantity: 2 },
  { sku: "cup", cents: 1200, quantity: 1 },
];

function onPay(): void {
  const code = (document.getElementById("coupon") as HTMLInputElement | null)?.value ?? "";
  const shown = document.getElementById("total");
  if (shown) shown.textContent = checkoutTotal(lines, code);
}

function reportLater(): void {
  try {
    checkoutTotal(lines, "NOPE");
  } catch (error) {
    console.error("checkout failed", error);
  }
}

document.getElementById("pay-" + BUILD)?.addEventListener("click", onPay);
document.getElementById("log-" + BUILD)?.addEventListener("click", reportLater);
