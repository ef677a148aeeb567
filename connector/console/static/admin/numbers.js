// 電話番号: our numbers, their route and fallback (GET/POST/PATCH/DELETE /api/admin/numbers).
import { api, el, guarded, markFields, report, words } from "./api.js";

const t = words();
const root = document.getElementById("admin-root");
const table = document.querySelector("#numbers-table tbody");
const box = document.getElementById("numbers-status");
const form = document.getElementById("number-form");
const canDelete = Boolean(root.dataset.canDelete);
const TEXT_FIELDS = ["label", "route", "fallback", "caller_id_name", "transfer_caller_id", "overflow",
  "ring_popup_url", "answer_popup_url"];

async function load() {
  const answer = await api("GET", "admin/numbers");
  if (!answer.ok) { report(box, answer); return; }
  const numbers = answer.data.numbers;
  table.replaceChildren(...(numbers.length ? numbers.map(row) : [el("tr", {}, el("td", { colspan: 8 }, t.no_rows))]));
}

function row(number) {
  const actions = el("td", {});
  if (form) actions.append(el("button", { type: "button", class: "link", "data-edit": number.id, onclick: () => edit(number) }, t.edit), " ");
  if (canDelete) {
    actions.append(el("button", { type: "button", class: "link danger", "data-delete": number.id,
      onclick: guarded(box, () => remove(number)) }, t.delete));
  }
  return el("tr", { "data-number": number.e164 },
    el("td", {}, number.display), el("td", {}, number.label), el("td", { "data-col": "route" }, number.route),
    el("td", { "data-col": "fallback" }, number.fallback), el("td", {}, number.caller_id_name),
    el("td", { class: "center" }, number.recording ? "●" : ""), el("td", { class: "center" }, number.active ? t.yes : t.no),
    actions);
}

function edit(number) {
  form.id.value = number.id;
  form.e164.value = number.display;
  form.e164.readOnly = true;
  for (const name of TEXT_FIELDS) form[name].value = number[name] || "";
  form.max_channels.value = String(number.max_channels || 0);
  form.recording.checked = number.recording;
  form.active.checked = number.active;
  document.getElementById("number-form-title").textContent = `${t.edit}: ${number.display}`;
  form.scrollIntoView({ block: "nearest" });
  form.label.focus();
}

function clear() {
  form.id.value = "";
  form.e164.readOnly = false;
  const title = document.getElementById("number-form-title");
  title.textContent = title.dataset.new;
  markFields(form, {});
}

async function save() {
  const body = {};
  for (const name of TEXT_FIELDS) body[name] = form[name].value.trim();
  // A number, or the text as typed so that the server names the field ("must be between 0 …").
  const channels = form.max_channels.value.trim();
  body.max_channels = /^\d+$/.test(channels) ? Number(channels) : channels;
  body.recording = form.recording.checked;
  body.active = form.active.checked;
  if (!body.route) delete body.route;
  if (!body.fallback) delete body.fallback;
  if (!body.overflow) delete body.overflow;
  let answer;
  if (form.id.value) {
    answer = await api("PATCH", `admin/numbers/${form.id.value}`, body);
  } else {
    answer = await api("POST", "admin/numbers", { e164: form.e164.value.trim(), ...body });
  }
  markFields(form, answer);
  report(box, answer, t.saved);
  if (answer.ok) { form.reset(); clear(); await load(); }
}

async function remove(number) {
  if (!window.confirm(`${t.confirm_delete} ${number.display}`)) return;
  const answer = await api("DELETE", `admin/numbers/${number.id}`);
  report(box, answer, t.deleted_ok);
  if (answer.ok) await load();
}

async function choices() {
  const list = document.getElementById("route-choices");
  const options = ["voicemail", "none"];
  const [groupsAnswer, flowsAnswer] = await Promise.all([api("GET", "admin/groups"), api("GET", "admin/flows")]);
  if (groupsAnswer.ok) options.push(...groupsAnswer.data.groups.map((g) => `group:${g.name}`));
  if (flowsAnswer.ok) options.push(...flowsAnswer.data.flows.map((f) => `flow:${f.name}`));
  list.replaceChildren(...options.map((value) => el("option", { value })));
}

if (form) {
  form.addEventListener("submit", guarded(box, save));
  form.addEventListener("reset", () => setTimeout(clear));
  choices().catch(() => {});
}
load().catch((error) => { box.hidden = false; box.textContent = String(error); });
