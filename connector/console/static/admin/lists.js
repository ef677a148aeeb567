// 着信拒否・発信制限: the block and restriction lists, one rule at a time or from a CSV file,
// with the rows the import refused (/api/admin/number-lists/<block|restrict>).
import { api, el, fill, guarded, lang, markFields, report, words } from "./api.js";

const t = words();
const root = document.getElementById("admin-root");
const box = document.getElementById("lists-status");
const canDelete = Boolean(root.dataset.canDelete);

async function load(section) {
  const name = section.dataset.list;
  const answer = await api("GET", `admin/number-lists/${name}`);
  const body = section.querySelector("table.rules tbody");
  if (!answer.ok) { report(box, answer); return; }
  const rules = answer.data.rules;
  body.replaceChildren(...(rules.length ? rules.map((rule) => row(section, rule))
    : [el("tr", {}, el("td", { colspan: 4 }, t.no_rows))]));
}

function row(section, rule) {
  const actions = el("td", {});
  if (canDelete) {
    actions.append(el("button", { type: "button", class: "link danger", "data-delete": rule.id,
      onclick: guarded(box, () => remove(section, rule)) }, t.delete));
  }
  return el("tr", { "data-pattern": rule.pattern }, el("td", {}, rule.pattern), el("td", {}, rule.note),
    el("td", {}, new Date(rule.created_at).toLocaleString(document.documentElement.lang)), actions);
}

async function add(section, form) {
  const answer = await api("POST", `admin/number-lists/${section.dataset.list}`,
    { pattern: form.pattern.value.trim(), note: form.note.value.trim() });
  markFields(form, answer);
  report(box, answer, t.saved);
  if (answer.ok) { form.reset(); await load(section); }
}

// 確認 sends the file with ?dry_run=1 (nothing is written) and shows what an import would add
// and refuse; この内容で登録 then imports the same file. アップロード imports at once.
async function upload(section, form, preview) {
  const data = new FormData();
  const [file] = form.file.files;
  if (file) data.append("file", file);
  const path = `admin/number-lists/${section.dataset.list}/import${preview ? "?dry_run=1" : ""}`;
  const answer = await api("POST", path, data);
  const area = section.querySelector(".import-report");
  const rejected = area.querySelector("table.rejected");
  const confirm = area.querySelector(".confirm-import");
  if (!answer.ok) { report(box, answer); area.hidden = true; return; }
  box.hidden = true;
  const found = answer.data;
  area.hidden = false;
  area.querySelector(".report-text").textContent = fill(
    found.dry_run ? t.preview_report : t.import_report,
    { added: found.added, existing: found.existing, errors: found.errors.length });
  rejected.hidden = found.errors.length === 0;
  rejected.tBodies[0].replaceChildren(...found.errors.map((e) => el("tr", {},
    el("td", { class: "num" }, e.row), el("td", {}, e.value), el("td", {}, lang === "ja" ? e.message_ja : e.message_en))));
  confirm.hidden = !(found.dry_run && found.added > 0);
  if (found.dry_run) return;
  form.reset();
  await load(section);
}

async function remove(section, rule) {
  if (!window.confirm(`${t.confirm_delete} ${rule.pattern}`)) return;
  const answer = await api("DELETE", `admin/number-lists/${section.dataset.list}/${rule.id}`);
  report(box, answer, t.deleted_ok);
  if (answer.ok) await load(section);
}

for (const section of document.querySelectorAll("section.number-list")) {
  const adding = section.querySelector("form.add-rule");
  const importing = section.querySelector("form.import-rules");
  if (adding) adding.addEventListener("submit", guarded(box, () => add(section, adding)));
  if (importing) {
    importing.addEventListener("submit", guarded(box, (event) => upload(section, importing,
      event.submitter?.value === "preview")));
    section.querySelector(".confirm-import button").addEventListener("click",
      guarded(box, () => upload(section, importing, false)));
  }
  load(section).catch((error) => { box.hidden = false; box.textContent = String(error); });
}
