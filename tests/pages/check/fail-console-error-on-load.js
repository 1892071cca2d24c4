// fail-console-error-on-load.html: a console.error while the page loads.
console.error('error on load');
