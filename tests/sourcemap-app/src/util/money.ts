// Prices in cents: the cart never keeps floating-point money.
export interface Line {
  sku: string;
  cents: number;
  quantity: number;
}

export function lineTotal(line: Line): number {
  return line.cents * line.quantity;
}

export function formatCents(cents: number): string {
  return (cents / 100).toFixed(2);
}
