import { formatCents, type Line } from "../util/money";
import { applyDiscount } from "./discount";

export function checkoutTotal(lines: Line[], code: string): string {
  const total = applyDiscount(lines, code);
  return formatCents(total);
}
