// Charts with Plotly (served by this server from the plotly package; see index.html).
import { t } from "./i18n.js";

const CONFIG = { displayModeBar: false, responsive: true, locale: "en" };
const FONT = { family: "Noto Sans CJK SC, Noto Sans SC, system-ui, sans-serif", size: 12 };

function layout(extra) {
  return {
    margin: { l: 56, r: 16, t: 8, b: 40 },
    font: FONT,
    paper_bgcolor: "rgba(0,0,0,0)",
    plot_bgcolor: "rgba(0,0,0,0)",
    legend: { orientation: "h", x: 0, y: 1.02, yanchor: "bottom", traceorder: "normal" },
    ...extra,
  };
}

function ready() {
  return typeof window.Plotly !== "undefined";
}

export function chartBox(testid) {
  const node = document.createElement("div");
  node.className = "chart";
  node.dataset.testid = testid;
  return node;
}

function draw(node, traces, extra) {
  if (!ready()) {
    node.textContent = t("common.nochart");
    return;
  }
  window.Plotly.newPlot(node, traces, layout(extra), CONFIG);
}

// series: [{name, x: [...], y: [...]}]
export function lineChart(node, series, { yPercent = false, ytitle = "" } = {}) {
  draw(
    node,
    series.map((s) => ({ type: "scatter", mode: "lines", line: { shape: "hv", width: 2 }, ...s })),
    { yaxis: { title: { text: ytitle }, tickformat: yPercent ? ".0%" : undefined, rangemode: "tozero" } },
  );
}

// percent: the values are shares (0..1), the value axis runs from 0 to 100%.
export function barChart(node, series, { barmode = "group", horizontal = false, ytitle = "", percent = false } = {}) {
  const values = { title: { text: ytitle }, ...(percent ? { tickformat: ".0%", range: [0, 1] } : { rangemode: "tozero" }) };
  // horizontal bars: the first row on top, as in a table
  const labels = horizontal ? { automargin: true, autorange: "reversed" } : { automargin: true };
  draw(
    node,
    series.map((s) => ({ type: "bar", orientation: horizontal ? "h" : "v", ...s })),
    { barmode, xaxis: horizontal ? values : labels, yaxis: horizontal ? labels : values },
  );
}
