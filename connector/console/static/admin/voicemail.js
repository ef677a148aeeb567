// 留守番電話: the flows' voicemail boxes for supervisors — listen, mark handled, bulk delete
// (/api/voicemail). Playback uses the message's signed, expiring recording link.
import { api, el, guarded, report, words } from "./api.js";

const t = words();
const table = document.querySelector("#voicemail-table tbody");
const box = document.getElementById("voicemail-status");
const filter = document.getElementById("voicemail-filter");

function query() {
  const params = new URLSearchParams();
  if (filter.box.value.trim()) params.set("box", filter.box.value.trim());
  if (filter.unhandled.checked) params.set("handled", "false");
  const text = params.toString();
  return text ? `voicemail?${text}` : "voicemail";
}

async function load() {
  const answer = await api("GET", query());
  if (!answer.ok) { report(box, answer); return; }
  const messages = answer.data.voicemail;
  table.replaceChildren(...(messages.length ? messages.map(row) : [el("tr", {}, el("td", { colspan: 7 }, t.no_rows))]));
}

function playable(url) {
  // The link names the connector's public address; this page is served by the same connector.
  const link = new URL(url, window.location.href);
  return `${link.pathname}${link.search}`;
}

function length(seconds) {
  if (seconds === null || seconds === undefined) return "";
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
}

function row(message) {
  const player = message.recording_url
    ? el("audio", { controls: true, preload: "none", src: playable(message.recording_url), "aria-label": t.play })
    : "";
  const caller = [message.caller, message.caller_name].filter(Boolean).join(" ");
  return el("tr", { "data-call": message.call_sid },
    el("td", {}, el("input", { type: "checkbox", name: "pick", value: message.call_sid, "aria-label": caller })),
    el("td", {}, new Date(message.started_at).toLocaleString(document.documentElement.lang)),
    el("td", {}, message.box), el("td", {}, caller), el("td", { class: "num" }, length(message.seconds)),
    el("td", {}, player),
    el("td", { "data-col": "handled" }, message.handled ? `${t.handled}（${message.handled_by}）` : ""));
}

function picked() {
  return [...table.querySelectorAll('input[name="pick"]:checked')].map((input) => input.value);
}

async function mark(handled) {
  const sids = picked();
  if (!sids.length) return;
  const answer = await api("POST", "voicemail/handled", { call_sids: sids, handled });
  report(box, answer, t.saved);
  if (answer.ok) await load();
}

async function remove() {
  const sids = picked();
  if (!sids.length || !window.confirm(`${t.confirm_delete} (${sids.length})`)) return;
  const answer = await api("POST", "voicemail/delete", { call_sids: sids });
  report(box, answer, t.deleted_ok);
  if (answer.ok) await load();
}

filter.addEventListener("submit", guarded(box, load));
document.getElementById("vm-handled")?.addEventListener("click", guarded(box, () => mark(true)));
document.getElementById("vm-unhandle")?.addEventListener("click", guarded(box, () => mark(false)));
document.getElementById("vm-delete")?.addEventListener("click", guarded(box, remove));
load().catch((error) => { box.hidden = false; box.textContent = String(error); });
