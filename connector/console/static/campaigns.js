// The キャンペーン screen's buttons: start / pause / resume / stop through the campaign API
// (/console/api/campaigns/<id>/<action>, checked against the permission table and audited),
// then the page is read again so the table shows the new state and figures.
import { api, fill, guarded, report, words } from "./admin/api.js";

const box = document.getElementById("campaign-status");
const t = words();

async function act(button) {
  const row = button.closest("tr");
  const { action, name } = button.dataset;
  if (action === "stop" && !window.confirm(fill(t.c_confirm_stop, { name }))) return;
  for (const other of row.querySelectorAll("button")) other.disabled = true;
  const answer = await api("POST", `campaigns/${row.dataset.campaign}/${action}`);
  if (!answer.ok) {
    report(box, answer, "");
    for (const other of row.querySelectorAll("button")) other.disabled = false;
    return;
  }
  sessionStorage.setItem("cti.campaign.done", fill(t.c_done, { name, action: t[`c_${action}`] }));
  window.location.reload();
}

for (const button of document.querySelectorAll("#campaigns-table button[data-action]")) {
  button.addEventListener("click", guarded(box, () => act(button)));
}
const done = sessionStorage.getItem("cti.campaign.done");
if (done) {
  sessionStorage.removeItem("cti.campaign.done");
  report(box, { ok: true }, done);
}
