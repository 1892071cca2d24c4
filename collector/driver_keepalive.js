// Preloaded into Playwright's Node driver by collector (NODE_OPTIONS=--require).
// Ctrl-C in a terminal, and SIGTERM/SIGHUP sent to the process group (CI cancel,
// systemd, docker stop, a closed terminal), reach every process of the group; the
// driver must survive them so that collector can still take the last screenshots
// and write the bundle. collector itself turns them into an orderly stop, then
// closes the driver's stdin, which ends it.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => {});
