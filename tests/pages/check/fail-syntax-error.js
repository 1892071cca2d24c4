// fail-syntax-error.html: this file does not parse.
const broken = {;
