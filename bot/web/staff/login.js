"use strict";
// The login form: POST /staff/api/login, then the console. No data is kept in the page.
document.getElementById("login").addEventListener("submit", async (event) => {
  event.preventDefault();
  const error = document.getElementById("login-error");
  const button = document.getElementById("login-submit");
  error.hidden = true;
  button.disabled = true;
  try {
    const response = await fetch("/staff/api/login", {
      method: "POST",
      credentials: "same-origin",
      headers: {"Content-Type": "application/json"},
      body: JSON.stringify({
        username: document.getElementById("username").value,
        password: document.getElementById("password").value,
      }),
    });
    if (response.ok) {
      window.location.assign("/staff");
      return;
    }
    const body = await response.json().catch(() => null);
    error.textContent = body && body.error ? body.error.message : "Anmeldung fehlgeschlagen.";
  } catch (err) {
    error.textContent = "Der Server ist nicht erreichbar. Bitte versuchen Sie es erneut.";
  }
  error.hidden = false;
  button.disabled = false;
  document.getElementById("password").value = "";
});
