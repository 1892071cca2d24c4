// Loaded under several names, each with a broken map: each logs one error at load.
console.error(new Error("bad map " + document.currentScript?.getAttribute("src")).stack);
