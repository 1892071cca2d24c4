// worker.js (started by worker.html): a console error and an uncaught exception in a worker.
console.error('error from worker');
setTimeout(function workerTimer() {
  throw new Error('worker exception');
}, 50);
