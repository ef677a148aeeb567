// The real-time board: polls /console/api/board and redraws; supervisors change statuses here.
const root = document.getElementById("board");
const labels = JSON.parse(root.dataset.labels);
const words = JSON.parse(root.dataset.words);
const canUpdate = Boolean(root.dataset.canUpdate);
const canMonitor = Boolean(root.dataset.canMonitor);
const timeZone = root.dataset.tz || "Asia/Tokyo"; // the console's zone, not the browser's
const lang = document.documentElement.lang;
const csrf = document.body.dataset.csrf;
const hoursSelect = document.getElementById("hours");
const problem = document.getElementById("board-error");
let chart = null;
let busy = false;
const monitoring = new Map(); // agent id → {session, mode}: this supervisor's own monitorings
let lastAgents = [];

function cell(row, text, className = "") {
  const td = document.createElement("td");
  td.textContent = text;
  if (className) td.className = className;
  row.append(td);
  return td;
}

function duration(seconds) {
  if (seconds === null || seconds === undefined) return "";
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return (h ? `${h}:${String(m).padStart(2, "0")}` : `${m}`) + `:${String(s).padStart(2, "0")}`;
}

function renderGroups(groups) {
  const body = document.querySelector("#groups-table tbody");
  body.replaceChildren(...groups.map((g) => {
    const row = document.createElement("tr");
    row.dataset.group = g.id === null ? "all" : String(g.id);
    cell(row, g.id === null ? words.overall : g.name);
    for (const key of ["calls", "answered", "abandoned", "overflow", "timed_out"]) {
      cell(row, String(g[key]), "num").dataset.col = key;
    }
    cell(row, g.answer_rate === null ? "-" : `${g.answer_rate}%`, "num").dataset.col = "answer_rate";
    cell(row, `${g.agents_online}/${g.agents_total}`, "num").dataset.col = "online";
    for (const key of ["on_call", "available", "paused", "waiting"]) {
      cell(row, String(g[key]), "num").dataset.col = key;
    }
    return row;
  }));
}

function renderWaiting(waiting, groups) {
  const names = new Map(groups.map((g) => [g.id, g.name]));
  const body = document.querySelector("#waiting-table tbody");
  body.replaceChildren(...waiting.map((w) => {
    const row = document.createElement("tr");
    cell(row, names.get(w.group_id) || "");
    cell(row, w.number);
    cell(row, duration(w.seconds), "num");
    return row;
  }));
}

function statusControl(agent) {
  const select = document.getElementById("status-choice").content.firstElementChild.cloneNode(true);
  select.dataset.agent = String(agent.id);
  select.value = agent.status;
  select.addEventListener("change", () => changeStatus(agent.id, select.value));
  return select;
}

function monitorControls(agent) {
  // 「モニター」「ウィスパー」「割り込み」 for an agent on a call, 「終了」 once this supervisor is on it.
  const box = document.createElement("div");
  box.className = "monitor-controls";
  const mine = monitoring.get(agent.id);
  if (!mine && agent.status !== "on_call") return box;
  for (const mode of ["monitor", "whisper", "barge"]) {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = words[mode];
    button.dataset.mode = mode;
    button.setAttribute("aria-pressed", String(mine?.mode === mode));
    button.addEventListener("click", () => monitorAction(agent.id, mode));
    box.append(button);
  }
  if (mine) {
    const stop = document.createElement("button");
    stop.type = "button";
    stop.className = "stop";
    stop.textContent = words.stop;
    stop.dataset.mode = "stop";
    stop.addEventListener("click", () => monitorAction(agent.id, "stop"));
    box.append(stop);
  }
  return box;
}

async function monitorAction(agentId, mode) {
  const mine = monitoring.get(agentId);
  let request;
  if (mode === "stop") request = { method: "DELETE", url: `/console/api/monitor/${mine.session}` };
  else if (mine) request = { method: "PATCH", url: `/console/api/monitor/${mine.session}`, body: { mode } };
  else request = { method: "POST", url: "/console/api/monitor", body: { agent_id: agentId, mode } };
  const response = await fetch(request.url, {
    method: request.method, credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
    body: request.body ? JSON.stringify(request.body) : undefined,
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    problem.textContent = data.error?.message || `HTTP ${response.status}`;
  } else {
    problem.textContent = "";
    if (mode === "stop") monitoring.delete(agentId);
    else monitoring.set(agentId, { session: data.session, mode: data.mode });
  }
  renderAgents(lastAgents);
}

async function loadMonitoring() {
  if (!canMonitor) return;
  const response = await fetch("/console/api/monitor", { credentials: "same-origin" });
  if (!response.ok) return;
  const data = await response.json();
  monitoring.clear();
  for (const s of data.sessions) monitoring.set(s.agent_id, { session: s.session, mode: s.mode });
}

function renderAgents(agents) {
  const body = document.querySelector("#agents-table tbody");
  lastAgents = agents;
  if (document.activeElement?.classList.contains("status-select")) return; // choosing: keep it
  body.replaceChildren(...agents.map((a) => {
    const row = document.createElement("tr");
    row.dataset.agent = a.username;
    cell(row, `${a.name} (${a.username})`);
    cell(row, a.extension);
    const status = cell(row, "");
    const pill = document.createElement("span");
    pill.className = `pill ${a.status}`;
    pill.dataset.status = a.status;
    pill.textContent = labels[a.status] + (a.stop_status ? `: ${a.stop_status}` : "");
    status.append(pill);
    cell(row, duration(a.seconds), "num");
    cell(row, String(a.today_calls), "num").dataset.col = "today_calls";
    if (canUpdate) cell(row, "").append(statusControl(a));
    if (canMonitor) cell(row, "").append(monitorControls(a));
    return row;
  }));
}

function renderChart(series) {
  const labelsX = series.map((p) => new Date(p.at).toLocaleTimeString(lang, { hour: "2-digit", minute: "2-digit", timeZone }));
  const rates = series.map((p) => p.rate);
  const counts = series.map((p) => p.calls);
  if (!window.Chart) return;
  if (!chart) {
    chart = new window.Chart(document.getElementById("rate-chart"), {
      data: { labels: labelsX, datasets: [
        { type: "line", label: `${words.answer_rate} (%)`, data: rates, yAxisID: "rate", spanGaps: true, borderColor: "#188038", pointRadius: 0 },
        { type: "bar", label: words.incoming, data: counts, yAxisID: "calls", backgroundColor: "#9ec5ee" },
      ] },
      options: { animation: false, responsive: true, scales: { rate: { min: 0, max: 100, position: "left" }, calls: { beginAtZero: true, position: "right", grid: { drawOnChartArea: false } } } },
    });
    window.__boardChart = chart;
    return;
  }
  chart.data.labels = labelsX;
  chart.data.datasets[0].data = rates;
  chart.data.datasets[1].data = counts;
  chart.update("none");
}

async function refresh() {
  if (busy) return;
  busy = true;
  try {
    const response = await fetch(`/console/api/board?hours=${hoursSelect.value}`, { credentials: "same-origin" });
    const data = await response.json();
    if (!response.ok) throw new Error(data.error?.message || `HTTP ${response.status}`);
    renderGroups(data.groups);
    renderWaiting(data.waiting, data.groups);
    renderAgents(data.agents);
    renderChart(data.chart);
    const updated = document.getElementById("updated");
    updated.textContent = new Date(data.at).toLocaleTimeString(lang, { timeZone });
    updated.dateTime = data.at;
    root.dataset.at = data.at;
    problem.textContent = "";
  } catch (error) {
    problem.textContent = String(error.message || error);
  } finally {
    busy = false;
  }
}

async function changeStatus(agentId, value) {
  const [status, stop] = value.split(":");
  const response = await fetch(`/console/api/agents/${agentId}/status`, {
    method: "POST", credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
    body: JSON.stringify({ status, stop_status_id: stop ? Number(stop) : null }),
  });
  const data = await response.json().catch(() => ({}));
  problem.textContent = response.ok ? "" : (data.error?.message || `HTTP ${response.status}`);
  document.activeElement?.blur();
  await refresh();
}

async function start() {
  await loadMonitoring(); // a reload keeps showing the monitorings going on
  refresh();
  setInterval(loadMonitoring, 5000); // a call that ended ends its monitoring too
  setInterval(refresh, Number(root.dataset.refresh) || 1000);
  hoursSelect.addEventListener("change", () => { chart?.destroy(); chart = null; refresh(); });
}

if (document.readyState === "complete") start(); else window.addEventListener("load", start);
window.__consoleBoard = { refresh };
