// グループ: ring strategy, queue, targets, voice, ACW and members' skills of each group
// (GET/POST/PATCH /api/acd/groups, DELETE /api/admin/groups). The API validates; its field
// errors are shown next to the fields they name.
import { api, el, fieldErrors, guarded, report, words } from "./api.js";

const t = words();
const root = document.getElementById("admin-root");
const agents = JSON.parse(root.dataset.agents || "[]");
const table = document.querySelector("#groups-table tbody");
const box = document.getElementById("groups-status");
const form = document.getElementById("group-form");
const canDelete = Boolean(root.dataset.canDelete);
let editing = null; // the name of the group in the form, or null for a new one
let members = []; // [{username, skill}] in ring order

async function load() {
  const answer = await api("GET", "acd/groups");
  if (!answer.ok) { report(box, answer); return; }
  const groups = answer.data.groups;
  table.replaceChildren(...(groups.length ? groups.map(row) : [el("tr", {}, el("td", { colspan: 8 }, t.no_rows))]));
}

function targetText(target) {
  return target ? `${target.type}${target.value ? `:${target.value}` : ""}` : "";
}

function row(group) {
  const actions = el("td", {});
  if (form) actions.append(el("button", { type: "button", class: "link", "data-edit": group.name, onclick: () => edit(group) }, t.edit), " ");
  if (canDelete) {
    actions.append(el("button", { type: "button", class: "link danger", "data-delete": group.name,
      onclick: guarded(box, () => remove(group)) }, t.delete));
  }
  const s = group.settings;
  return el("tr", { "data-group": group.name },
    el("td", {}, group.name), el("td", {}, group.display_name), el("td", { "data-col": "strategy" }, s.strategy),
    el("td", { "data-col": "members" }, group.members.map((m) => `${m}:${group.skills[m] ?? 1}`).join(", ")),
    el("td", { class: "num" }, s.max_waiting), el("td", { "data-col": "overflow" }, targetText(s.overflow)),
    el("td", { "data-col": "timeout" }, targetText(s.timeout)), actions);
}

function drawMembers() {
  const body = document.querySelector("#members-table tbody");
  body.replaceChildren(...members.map((member, index) => el("tr", { "data-member": member.username },
    el("td", {}, label(member.username)),
    el("td", { "data-field": `skills.${member.username}` },
      el("input", { type: "number", min: 1, max: 9, value: member.skill, class: "tiny", name: `skills.${member.username}`,
        "aria-label": `${t.skill}: ${member.username}`, oninput: (event) => { member.skill = event.target.value; } })),
    el("td", {}, el("button", { type: "button", class: "link danger", onclick: () => { members.splice(index, 1); drawMembers(); } }, t.remove)))));
  const choice = document.getElementById("member-choice");
  const inGroup = new Set(members.map((m) => m.username));
  choice.replaceChildren(...agents.filter((a) => !inGroup.has(a.username))
    .map((a) => el("option", { value: a.username }, label(a.username))));
}

function label(username) {
  const agent = agents.find((a) => a.username === username);
  return agent && agent.name !== username ? `${agent.name} (${username})` : username;
}

function fill(settings) {
  for (const input of form.querySelectorAll("[name^='settings.']")) {
    const name = input.name.slice("settings.".length);
    if (input.dataset.kind === "target-value") continue;
    if (input.dataset.kind === "target-type") {
      const target = settings ? settings[name] : null;
      input.value = target ? target.type : "";
      form.querySelector(`[name="settings.${name}.value"]`).value = target ? target.value : "";
    } else {
      input.value = settings ? settings[name] : input.dataset.default;
    }
  }
}

function edit(group) {
  editing = group.name;
  form.name.value = group.name;
  form.name.readOnly = true;
  form.display_name.value = group.display_name;
  members = group.members.map((username) => ({ username, skill: group.skills[username] ?? 1 }));
  fill(group.settings);
  drawMembers();
  document.getElementById("group-form-title").textContent = `${t.edit}: ${group.name}`;
  fieldErrors(form, {});
  form.scrollIntoView({ block: "nearest" });
  form.display_name.focus();
}

function clear() {
  editing = null;
  form.name.readOnly = false;
  members = [];
  fill(null);
  drawMembers();
  const title = document.getElementById("group-form-title");
  title.textContent = title.dataset.new;
  fieldErrors(form, {});
}

function collect() {
  const settings = {};
  for (const input of form.querySelectorAll("[name^='settings.']")) {
    const name = input.name.slice("settings.".length);
    if (input.dataset.kind === "target-value") continue;
    if (input.dataset.kind === "target-type") {
      const value = form.querySelector(`[name="settings.${name}.value"]`).value.trim();
      settings[name] = input.value ? { type: input.value, value } : null;
    } else if (input.dataset.kind === "int") {
      // A number when it is one; anything else goes as typed so the API can name the field.
      settings[name] = /^-?\d+$/.test(input.value.trim()) ? Number(input.value) : input.value;
    } else {
      settings[name] = input.value.trim();
    }
  }
  const skills = Object.fromEntries(members.map((m) => [m.username, /^\d+$/.test(String(m.skill)) ? Number(m.skill) : m.skill]));
  return { display_name: form.display_name.value.trim(), members: members.map((m) => m.username), settings, skills };
}

async function save() {
  const body = collect();
  const answer = editing
    ? await api("PATCH", `acd/groups/${encodeURIComponent(editing)}`, body)
    : await api("POST", "acd/groups", { name: form.name.value.trim(), ...body });
  fieldErrors(form, answer);
  report(box, answer, t.saved);
  if (answer.ok) { form.reset(); await load(); }
}

async function remove(group) {
  if (!window.confirm(`${t.confirm_delete} ${group.name}`)) return;
  const answer = await api("DELETE", `admin/groups/${encodeURIComponent(group.name)}`);
  report(box, answer, t.deleted_ok);
  if (answer.ok) await load();
}

if (form) {
  form.addEventListener("submit", guarded(box, save));
  form.addEventListener("reset", () => setTimeout(clear));
  document.getElementById("member-add").addEventListener("click", () => {
    const choice = document.getElementById("member-choice");
    if (!choice.value) return;
    members.push({ username: choice.value, skill: 1 });
    drawMembers();
  });
  clear();
}
load().catch((error) => { box.hidden = false; box.textContent = String(error); });
