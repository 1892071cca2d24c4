// The cart of the Lumen & Co. demo shop: prices in cents.
export interface Item {
  sku: string;
  name: string;
  price: number;
  qty: number;
}

export const shop = {
  cart: [{ sku: "AUR-LAMP-01", name: "Aurora Desk Lamp", price: 4900, qty: 1 }] as Item[],
  currency: "EUR",
};

export function restoreCart(): void {
  const items = shop.cart.reduce((n, item) => n + item.qty, 0);
  const count = document.getElementById("cart-count");
  if (count) count.textContent = String(items);
  console.log("[cart] restored " + items + " item(s)");
}

export function cartTotal(): number {
  return shop.cart.reduce((sum, item) => sum + item.price * item.qty, 0);
}
