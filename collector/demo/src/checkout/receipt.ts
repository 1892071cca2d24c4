// What the payment service answers, when it answers well.
export interface PayResult {
  data?: { card: string; receipt: string };
  error?: string;
}

export function showReceipt(result: PayResult): void {
  // BUG: assumes every answer from /api/pay has `data`; an error answer does not.
  const card = result.data!.card;
  const receipt = result.data!.receipt;
  const shown = document.getElementById("result");
  if (shown) shown.textContent = "Thank you — payment received (" + card + ", receipt " + receipt + ")";
  const pay = document.getElementById("pay");
  if (pay) pay.textContent = "Paid";
  console.info("[checkout] paid, receipt " + receipt);
}
