// A stand-in for a real analytics snippet: it only logs, it never calls the network.
export function initAnalytics(): void {
  console.log("[analytics] init: session started, page=" + document.body.dataset.page);
  console.info("[analytics] consent: necessary cookies only");
}
