// The sign-in page works as a plain form; this only puts the cursor where the worker starts.

const user = document.getElementById("username");
const pass = document.getElementById("password");
if (user && !user.value) user.focus();
else if (pass) pass.focus();
