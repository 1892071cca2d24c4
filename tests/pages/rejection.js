// rejection.html: an unhandled promise rejection (not a synchronous throw).
document.getElementById('reject').addEventListener('click', () => {
  Promise.reject(new Error('rejected on purpose'));
});
