// Issue 20: one bug logged 50 times; only the tick, the address and the order id vary,
// and the id changes shape (UUIDs whose first segment has 8 or 9 characters, plain
// numbers, hex, base36 keys, versions), as ids do between runs and builds.
function orderId(i) {
  const n = String(i).padStart(2, '0');
  if (i < 10) return '5f3c7e2a-91b0-4c1d-8f00-1000000000' + n;   // a UUID
  if (i < 40) return '5f3c12e2a-91b0-4c1d-8f00-1000000000' + n;  // not quite one
  const other = [String(1000 + i), 'a3f9c2e1b' + i, 'k9mtd2gdc' + i, '2.' + i + '.0-rc1',
                 'ORD' + i + 'X7Q', '0000' + i, (i * 7919).toString(36) + '9z',
                 '7c1811ed-e98f-4c9c-a9f9-58c757ff49' + n, String(i), 'f' + i];
  return other[i - 40];
}

function tick(i) {
  const address = '0x' + (0xdeadbeef - i * 4099).toString(16);
  console.error('Tick ' + (i + 1) + ' failed at ' + address + ' for order ' + orderId(i));
}

const PRODUCTS = ['Lisbon Blue', 'Porto Red', 'Faro Sand', 'Braga Green', 'Evora Stone'];

function priceOf(name) {
  throw new Error('No price for ' + name);
}

for (let i = 0; i < 50; i++) tick(i);
PRODUCTS.forEach((name, i) => setTimeout(() => priceOf(name), i));
setTimeout(() => { document.getElementById('status').textContent = 'done'; }, 10);
