// frame-child.html (inside iframe.html): errors from a same-origin iframe.
console.error('error from iframe');
setTimeout(function frameTimer() {
  throw new Error('iframe exception');
}, 100);
