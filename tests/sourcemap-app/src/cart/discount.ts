import { type Line, lineTotal } from "../util/money";

export interface Coupon {
  code: string;
  percent: number;
}

const COUPONS: Record<string, Coupon> = {
  SPRING: { code: "SPRING", percent: 10 },
};

export function findCoupon(code: string): Coupon | undefined {
  return COUPONS[code];
}

// The bug: an unknown code gives no coupon, and its percent is read anyway.
export function applyDiscount(lines: Line[], code: string): number {
  const subtotal = lines.reduce((sum, line) => sum + lineTotal(line), 0);
  const coupon = findCoupon(code) as Coupon;
  const off = Math.round((subtotal * coupon.percent) / 100);
  return subtotal - off;
}
