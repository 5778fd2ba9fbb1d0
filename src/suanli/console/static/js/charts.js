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
    legend: { orientation: "h", y: -0.2 },
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

export function barChart(node, series, { barmode = "group", horizontal = false, ytitle = "" } = {}) {
  draw(
    node,
    series.map((s) => ({ type: "bar", orientation: horizontal ? "h" : "v", ...s })),
    {
      barmode,
      yaxis: horizontal ? { automargin: true } : { title: { text: ytitle }, rangemode: "tozero" },
      xaxis: horizontal ? { title: { text: ytitle } } : { automargin: true },
    },
  );
}
