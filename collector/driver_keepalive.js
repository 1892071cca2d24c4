// Preloaded into Playwright's Node driver by collector (NODE_OPTIONS=--require).
// Ctrl-C in a terminal reaches every process of the foreground group; the driver
// must survive it so that collector can still take the last screenshots and
// write the bundle. collector itself turns Ctrl-C into an orderly stop.
process.on('SIGINT', () => {});
