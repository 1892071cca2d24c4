// fail-worker-error.html's worker: a console.error from a dedicated worker.
console.error('error inside the worker');
