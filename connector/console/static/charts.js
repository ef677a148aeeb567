// Draws the chart of a statistics page from its <script type="application/json" id="chart-data">.
const COLORS = ["#0b5cad", "#d93025", "#f29900", "#7b1fa2", "#188038", "#5f6368", "#00838f",
  "#c2185b"];

function draw() {
  const source = document.getElementById("chart-data");
  const canvas = document.getElementById("chart");
  if (!source || !canvas || !window.Chart) return;
  const spec = JSON.parse(source.textContent);
  const datasets = spec.series.map((s, i) => ({
    type: "bar", label: s.label, data: s.data, stack: s.stack, backgroundColor: COLORS[i % COLORS.length],
    yAxisID: "y",
  }));
  const scales = { x: { stacked: true }, y: { stacked: true, beginAtZero: true } };
  if (spec.line) {
    datasets.push({ type: "line", label: spec.line.label, data: spec.line.data, yAxisID: "rate",
      borderColor: "#188038", backgroundColor: "#188038", spanGaps: true });
    scales.rate = { position: "right", min: 0, max: 100, grid: { drawOnChartArea: false } };
  }
  const options = { responsive: true, maintainAspectRatio: false, animation: false, scales };
  if (spec.horizontal) {
    options.indexAxis = "y";
    options.scales = { x: { stacked: true, beginAtZero: true }, y: { stacked: true } };
  }
  window.__consoleChart = new window.Chart(canvas, { data: { labels: spec.labels, datasets }, options });
}

if (window.Chart) draw(); else window.addEventListener("load", draw);
