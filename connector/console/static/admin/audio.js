// 音声ファイル: announcements' audio, checked by content on upload (/api/admin/flow-audio).
import { api, el, guarded, markFields, report, words } from "./api.js";

const t = words();
const root = document.getElementById("admin-root");
const table = document.querySelector("#audio-table tbody");
const box = document.getElementById("audio-status");
const form = document.getElementById("audio-form");
const canDelete = Boolean(root.dataset.canDelete);

async function load() {
  const answer = await api("GET", "admin/flow-audio");
  if (!answer.ok) { report(box, answer); return; }
  const files = answer.data.audio;
  table.replaceChildren(...(files.length ? files.map(row) : [el("tr", {}, el("td", { colspan: 5 }, t.no_rows))]));
}

// 再生 loads the file through the console's admin API (the session cookie authorises it)
// into one player under the table, so only the file asked for is fetched.
function play(audio) {
  const player = document.getElementById("audio-player");
  player.src = `/console/api/admin/flow-audio/${encodeURIComponent(audio.name)}/content`;
  player.dataset.playing = audio.name;
  player.hidden = false;
  player.play().catch(() => {});  // a browser may refuse autoplay; the controls remain
}

function row(audio) {
  const actions = el("td", {}, el("button", { type: "button", class: "link", "data-play": audio.name,
    onclick: () => play(audio) }, t.play));
  if (canDelete) {
    actions.append(el("button", { type: "button", class: "link danger", "data-delete": audio.name,
      onclick: guarded(box, () => remove(audio)) }, t.delete));
  }
  return el("tr", { "data-audio": audio.name }, el("td", {}, audio.name), el("td", {}, audio.content_type),
    el("td", {}, audio.description), el("td", { class: "num" }, `${Math.ceil(audio.size / 1024)} KB`), actions);
}

async function upload() {
  const data = new FormData();
  const [file] = form.file.files;
  if (file) data.append("file", file);
  if (form.name.value.trim()) data.append("name", form.name.value.trim());
  const answer = await api("POST", "admin/flow-audio", data);
  markFields(form, answer);
  const saved = answer.data?.audio;
  report(box, answer, saved ? `${t.saved} ${saved.name}: ${saved.description}` : t.saved);
  if (answer.ok) { form.reset(); await load(); }
}

async function remove(audio) {
  if (!window.confirm(`${t.confirm_delete} ${audio.name}`)) return;
  const answer = await api("DELETE", `admin/flow-audio/${encodeURIComponent(audio.name)}`);
  report(box, answer, t.deleted_ok);
  if (answer.ok) await load();
}

if (form) form.addEventListener("submit", guarded(box, upload));
load().catch((error) => { box.hidden = false; box.textContent = String(error); });
