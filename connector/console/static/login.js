// Console sign-in: the product's one sign-in (/api/auth/login), then the console's cookie.
const form = document.getElementById("signin-form");
const problem = document.getElementById("signin-error");

async function signIn(event) {
  event.preventDefault();
  problem.textContent = "";
  const body = { username: form.username.value.trim(), password: form.password.value };
  const login = await fetch("/api/auth/login", {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  });
  const tokens = await login.json().catch(() => ({}));
  if (!login.ok) {
    problem.textContent = tokens.error?.message || `HTTP ${login.status}`;
    return;
  }
  const next = document.body.dataset.next || "/console/";
  const session = await fetch(`/console/session?next=${encodeURIComponent(next)}`, {
    method: "POST", headers: { Authorization: `Bearer ${tokens.access_token}` },
  });
  const answer = await session.json().catch(() => ({}));
  if (!session.ok) {
    problem.textContent = answer.error?.message || `HTTP ${session.status}`;
    return;
  }
  window.location.assign(answer.next);
}

form.addEventListener("submit", (event) => { signIn(event).catch((e) => { problem.textContent = String(e); }); });
