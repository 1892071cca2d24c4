// secrets.html: a careless page that leaks the password into the console, a URL
// query parameter and an Authorization header. The collector must redact all three.
document.getElementById('login').addEventListener('click', async () => {
  const pw = document.getElementById('password').value;
  console.log('logging in with ' + pw);
  await fetch('/echo?access_token=' + encodeURIComponent(pw), {
    headers: { Authorization: 'Bearer ' + pw },
  });
  document.getElementById('status').textContent = 'logged in';
});
