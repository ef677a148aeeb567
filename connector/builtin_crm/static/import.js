/* CSV import: upload with a mapping, dry run first, and a per-row report. */

import { $, clear, el, status } from './dom.js';
import { ApiError, api, failed, may } from './session.js';

export async function importPage() {
  if (!may('admin')) {
    status('CSV の取り込みは管理者だけができます。', true);
    $('import-form').hidden = true;
    return;
  }
  $('import-form').addEventListener('submit', function (event) {
    event.preventDefault();
    runImport().catch(failed);
  });
}

async function runImport() {
  const file = $('i-file').files[0];
  if (!file) { status('CSV ファイルを選んでください。', true); $('i-file').focus(); return; }
  const form = new FormData();
  form.append('file', file);
  $('i-map').value.split(/\r?\n/).forEach(function (line) {
    if (line.trim()) { form.append('map', line.trim()); }
  });
  form.append('dry_run', $('i-dry-run').checked ? 'true' : 'false');
  form.append('allow_duplicates', $('i-allow').checked ? 'true' : 'false');
  status('処理しています…');
  let report;
  try {
    report = await api('/api/crm/import', { method: 'POST', form: form });
  } catch (error) {
    if (error instanceof ApiError && error.details.fields) {
      status(Object.values(error.details.fields).join(' '), true);
      return;
    }
    throw error;
  }
  status('');
  showReport(report);
}

function showReport(report) {
  const verb = report.dry_run ? '取り込めます' : '取り込みました';
  $('report-summary').textContent = report.rows + ' 行中 ' + report.imported + ' 件を' + verb +
    '（スキップ ' + report.skipped + ' 行、文字コード ' + (report.encoding || '不明') + '）。';
  const rows = $('report-problems').tBodies[0];
  clear(rows);
  report.errors.concat(report.warnings).forEach(function (problem, index) {
    const skipped = index < report.errors.length;
    rows.appendChild(el('tr', {}, [
      el('td', { text: problem.row ? String(problem.row) : 'ファイル' }),
      el('td', { text: problem.column }), el('td', { text: problem.message }),
      el('td', { text: problem.value }),
      el('td', { text: skipped ? 'スキップ' : '取り込み（注意）' })]));
  });
  $('report-problems').hidden = rows.children.length === 0;
  $('report').hidden = false;
  $('report-title').focus();
}
