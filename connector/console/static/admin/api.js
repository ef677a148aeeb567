// The admin screens' shared helpers: calls to /console/api/... (the product's admin JSON APIs
// behind the console's cookie and CSRF token), small DOM builders and error display.
export const csrf = document.body.dataset.csrf;
export const lang = document.body.dataset.lang || "ja";

/** The words of this screen (data-words on the element #admin-root). */
export function words() {
  return JSON.parse(document.getElementById("admin-root").dataset.words || "{}");
}

/** Fill `{name}` placeholders of a text. */
export function fill(text, values) {
  return text.replace(/\{(\w+)\}/g, (_, key) => (key in values ? String(values[key]) : `{${key}}`));
}

/**
 * Call one API: `body` is an object (sent as JSON), a FormData, a string (sent as text) or
 * undefined. Returns {ok, status, data, text}; `data` is the parsed JSON answer when there is one.
 */
export async function api(method, path, body) {
  const options = { method, credentials: "same-origin", headers: {} };
  if (method !== "GET") options.headers["X-CSRF-Token"] = csrf;
  if (body instanceof FormData) {
    options.body = body;
  } else if (typeof body === "string") {
    options.headers["Content-Type"] = "text/plain; charset=utf-8";
    options.body = body;
  } else if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch(`/console/api/${path}`, options);
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  return { ok: response.ok, status: response.status, data, text };
}

/** An element: el("td", {class: "num"}, "12", otherNode). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (value === true) node.setAttribute(key, "");
    else node.setAttribute(key, String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** Say what an answer means in the status box `box` (role=status / alert). */
export function report(box, answer, okText) {
  box.replaceChildren();
  box.hidden = false;
  if (answer.ok) {
    box.className = "status";
    box.setAttribute("role", "status");
    box.textContent = okText;
    return;
  }
  box.className = "error-summary";
  box.setAttribute("role", "alert");
  const error = answer.data?.error || {};
  const t = words();
  box.append(el("p", {}, `${t.error_http} ${answer.status}: ${error.message || answer.text.slice(0, 200)}`));
  const fields = error.details?.fields;
  if (fields && typeof fields === "object") {
    box.append(el("ul", { class: "problems" },
      Object.entries(fields).map(([name, problem]) => el("li", { "data-field": name }, `${name}: ${problem}`))));
  }
  if (error.details?.message_ja && lang === "ja") box.append(el("p", {}, error.details.message_ja));
}

/** Mark the inputs of `form` named by the answer's field errors (aria-invalid). */
export function markFields(form, answer) {
  for (const input of form.querySelectorAll("[name]")) input.removeAttribute("aria-invalid");
  const fields = answer.data?.error?.details?.fields || {};
  for (const name of Object.keys(fields)) {
    const input = form.querySelector(`[name="${name}"]`);
    if (input) input.setAttribute("aria-invalid", "true");
  }
}

/** Run an async handler, showing any thrown error in `box`. */
export function guarded(box, handler) {
  return (event) => {
    if (event?.preventDefault) event.preventDefault();
    handler(event).catch((error) => {
      box.hidden = false;
      box.className = "error-summary";
      box.textContent = String(error);
    });
  };
}

/**
 * Show each field error of an answer next to its field: the element `[data-field="name"]`
 * of `form` gets the text and its inputs aria-invalid. Returns the names that found no place.
 */
export function fieldErrors(form, answer) {
  for (const old of form.querySelectorAll(".field-error")) old.remove();
  for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
  const fields = answer.data?.error?.details?.fields || {};
  const unplaced = [];
  for (const [name, problem] of Object.entries(fields)) {
    const place = form.querySelector(`[data-field="${CSS.escape(name)}"]`);
    if (!place) { unplaced.push(name); continue; }
    const id = `error-${name.replace(/[^\w-]/g, "_")}`;
    for (const input of place.querySelectorAll("input, select, textarea")) {
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("aria-describedby", id);
    }
    place.append(el("span", { class: "field-error", id, "data-error-for": name }, problem));
  }
  return unplaced;
}
