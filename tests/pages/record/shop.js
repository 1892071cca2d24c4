// A random id on every load, on an element whose only other handle is its text.
const token = Math.random().toString(36).slice(2, 10);
const dyn = document.getElementById("dyn");
dyn.innerHTML = `<button type="button" id="btn-${token}7" class="c-${token}9">Apply discount</button>`;
dyn.firstElementChild.addEventListener("click", () => { dyn.dataset.applied = "yes"; });

// A shadow-DOM widget: its button lives in an open shadow root.
customElements.define("x-gift", class extends HTMLElement {
  connectedCallback() {
    const root = this.attachShadow({ mode: "open" });
    root.innerHTML = '<button type="button">Wrap as a gift</button>';
    root.querySelector("button").addEventListener("click", () => { this.dataset.wrapped = "yes"; });
  }
});

// The bug: submitting reads a field of an object that is not there.
document.getElementById("checkout").addEventListener("submit", (event) => {
  event.preventDefault();
  const order = { customer: document.getElementById("email").value };
  setTimeout(() => { document.title = "Paying " + order.payment.card; }, 0);
});
