// frame-child.html (inside iframe.html): errors from a same-origin iframe.
console.error('error from iframe');
setTimeout(function frameTimer() {
  // The steps wait for this mark before leaving the page (the next step would end the timer).
  parent.document.documentElement.dataset.frame = 'threw';
  throw new Error('iframe exception');
}, 100);
