// Loaded by fail-third-party.html from another origin: a widget that logs and throws.
console.error('widget: tracking failed');
throw new Error('widget exploded');
