// fail-uncaught-exception.html: an uncaught TypeError at line 3, column 9.
function explode() {
  throw new TypeError('uncaught on load');
}
explode();
