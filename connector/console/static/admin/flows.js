// コールフロー: list, view the TOML, validate and import a flow file (/api/admin/flows).
// The checks are the flows API's own; their problems come back with line, node and field.
import { api, el, fill, guarded, report, words } from "./api.js";

const t = words();
const root = document.getElementById("admin-root");
const table = document.querySelector("#flows-table tbody");
const box = document.getElementById("flows-status");
const form = document.getElementById("flow-form");
const result = document.getElementById("flow-result");
const problems = document.getElementById("flow-problems");
const canDelete = Boolean(root.dataset.canDelete);

async function load() {
  const answer = await api("GET", "admin/flows");
  if (!answer.ok) { report(box, answer); return; }
  const flows = answer.data.flows;
  table.replaceChildren(...(flows.length ? flows.map(row) : [el("tr", {}, el("td", { colspan: 8 }, t.no_rows))]));
}

function row(flow) {
  const actions = el("td", {}, el("button", { type: "button", class: "link", "data-show": flow.name,
    onclick: guarded(box, () => show(flow)) }, t.show_toml));
  if (canDelete) {
    actions.append(" ", el("button", { type: "button", class: "link danger", "data-delete": flow.name,
      onclick: guarded(box, () => remove(flow)) }, t.delete));
  }
  return el("tr", { "data-flow": flow.name },
    el("td", {}, flow.name), el("td", { class: "num", "data-col": "version" }, flow.version), el("td", {}, flow.description),
    el("td", {}, flow.entry), el("td", { class: "num" }, flow.nodes),
    el("td", {}, new Date(flow.created_at).toLocaleString(document.documentElement.lang)), el("td", {}, flow.created_by), actions);
}

async function show(flow) {
  const answer = await api("GET", `admin/flows/${encodeURIComponent(flow.name)}`);
  if (!answer.ok) { report(box, answer); return; }
  document.getElementById("flow-source-title").textContent = `${flow.name} (${flow.version})`;
  document.getElementById("flow-toml").textContent = answer.text;
  form.text.value = answer.text;
  document.getElementById("flow-source").hidden = false;
}

async function remove(flow) {
  if (!window.confirm(`${t.confirm_delete} ${flow.name}`)) return;
  const answer = await api("DELETE", `admin/flows/${encodeURIComponent(flow.name)}`);
  report(box, answer, t.deleted_ok);
  if (answer.ok) await load();
}

function showProblems(answer) {
  const found = answer.data?.error?.details?.problems || [];
  problems.hidden = found.length === 0;
  problems.tBodies[0].replaceChildren(...found.map((p) => el("tr", {},
    el("td", { class: "num" }, p.line ?? ""), el("td", {}, p.node ?? ""), el("td", {}, p.field ?? ""),
    el("td", { class: "details" }, p.message))));
}

function flowName(text) {
  // Only to build the URL: the API checks that [flow] name and the URL agree.
  const header = text.split(/\r?\n/).findIndex((line) => /^\s*\[flow\]\s*$/.test(line));
  const lines = header < 0 ? [] : text.split(/\r?\n/).slice(header + 1);
  for (const line of lines) {
    if (/^\s*\[/.test(line)) break;
    const match = line.match(/^\s*name\s*=\s*"([^"]*)"/);
    if (match) return match[1];
  }
  return "";
}

async function check() {
  const answer = await api("POST", "admin/flows/check", form.text.value);
  showProblems(answer);
  report(result, answer, answer.ok ? fill(t.valid_flow, answer.data) : "");
}

async function upload() {
  const text = form.text.value;
  const name = flowName(text) || "_";
  const answer = await api("PUT", `admin/flows/${encodeURIComponent(name)}`, text);
  showProblems(answer);
  const flow = answer.data?.flow || {};
  report(result, answer, answer.ok ? fill(answer.data.changed ? t.imported : t.unchanged, flow) : "");
  if (answer.ok) await load();
}

form.file.addEventListener("change", guarded(result, async () => {
  const [file] = form.file.files;
  if (file) form.text.value = await file.text();
}));
document.getElementById("flow-check").addEventListener("click", guarded(result, check));
form.addEventListener("submit", guarded(result, upload));
load().catch((error) => { box.hidden = false; box.textContent = String(error); });
