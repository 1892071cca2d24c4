// Injected into the second build only: more code, so the minifier picks other names.
export function track(event: string, detail: string): void {
  const queue = ((window as unknown as { __q?: string[] }).__q ??= []);
  queue.push(event + ":" + detail);
}
track("build", "v2");
