// Operator / regulator: where capacity sleeps, national totals, prices, voucher burn.
import { api } from "../api.js";
import { barChart, chartBox, lineChart } from "../charts.js";
import { t } from "../i18n.js";
import { provinceGrid, provinceTiles } from "../provinces.js";
import { card, h, num, pct, stat, table, yuan } from "../ui.js";

// The last 24 hours' utilization, hour by hour: [card, draw once it is in the page].
export async function utilizationCard(title) {
  const series = await api("/v1/reports/utilization/series");
  const box = chartBox("utilization-chart");
  const draw = () =>
    lineChart(
      box,
      [
        {
          name: t("op.util"),
          x: series.points.map((p) => p.start),
          y: series.points.map((p) => Number(p.utilization)),
        },
      ],
      { yPercent: true },
    );
  return [card(title, box), draw];
}

// Each programme's budget as one bar of 100%: redeemed, promised to approved grants, and
// the rest, so a small programme reads as well as a large one (the amounts are in the
// table beside it).
export function burnChart(node, programs) {
  const y = programs.map((p) => p.name);
  const part = (name, color, fen) => ({
    name,
    y,
    x: programs.map((p) => (p.budget_fen > 0 ? fen(p) / p.budget_fen : 0)),
    marker: { color },
    hovertemplate: `%{y}<br>${name}: %{x:.2%}<extra></extra>`,
  });
  barChart(
    node,
    [
      part(t("iss.redeemed"), "#c8102e", (p) => p.redeemed_fen),
      part(t("iss.committed"), "#f0a04b", (p) => p.committed_fen),
      part(t("iss.uncommitted"), "#d5dde6", (p) => Math.max(0, p.remaining_fen - p.committed_fen)),
    ],
    { barmode: "stack", horizontal: true, percent: true, ytitle: t("iss.ofbudget") },
  );
}

export async function render(main) {
  const [overview, prices, vouchers, layout] = await Promise.all([
    api("/v1/reports/overview"),
    api("/v1/reports/prices"),
    api("/v1/reports/vouchers"),
    provinceTiles(),
  ]);
  const refresh = h("button", { class: "small", type: "button", testid: "refresh", onclick: () => render(main) }, t("common.refresh"));
  const totals = h(
    "div",
    { class: "stats", testid: "totals" },
    stat(t("op.centers"), `${num(overview.active_centers)} / ${num(overview.centers)}`, "stat-centers"),
    stat(t("op.cards"), num(overview.cards), "stat-cards"),
    stat(t("op.scu"), num(overview.scu_per_hour, 0), "stat-scu"),
    stat(t("op.allocated"), num(overview.allocated_cards), "stat-allocated"),
    stat(t("op.idle"), num(overview.idle_cards), "stat-idle"),
    stat(t("op.unmet"), `${num(overview.unmet_cards)} (${num(overview.queued_requests)})`, "stat-unmet"),
    stat(t("op.util24"), pct(overview.utilization_24h), "stat-util"),
  );

  const priceBox = chartBox("price-chart");
  const priceRows = prices.models.map((m) => ({ ...m, __testid: `price-${m.model}` }));
  const priceTable = table(
    [
      { label: t("buy.model"), value: (m) => m.model },
      { label: t("op.pools"), value: (m) => num(m.pools), num: true },
      { label: t("op.freecards"), value: (m) => `${num(m.cards_free)} / ${num(m.cards)}`, num: true },
      { label: t("op.listprice"), value: (m) => yuan(m.mean_price_fen), num: true },
      { label: t("op.range"), value: (m) => `${yuan(m.min_price_fen)} – ${yuan(m.max_price_fen)}`, num: true },
      { label: t("op.paid"), value: (m) => yuan(m.paid_mean_price_fen), num: true },
      { label: t("op.perscu"), value: (m) => yuan(m.fen_per_scu), num: true },
    ],
    priceRows,
    "price-table",
    undefined,
    { whole: true },
  );

  const burnBox = chartBox("burn-chart");
  const programs = vouchers.programs;
  const burnTable = table(
    [
      { label: t("iss.program"), value: (p) => p.name },
      { label: t("iss.budget"), value: (p) => yuan(p.budget_fen), num: true },
      { label: t("iss.redeemed"), value: (p) => yuan(p.redeemed_fen), num: true },
      { label: t("iss.committed"), value: (p) => yuan(p.committed_fen), num: true },
      { label: t("iss.remaining"), value: (p) => yuan(p.remaining_fen), num: true },
      { label: t("iss.used"), value: (p) => pct(p.used_share), num: true },
    ],
    programs,
    "burn-table",
  );

  const [utilCard, drawUtil] = await utilizationCard(t("op.overtime"));
  main.replaceChildren(
    h("h1", {}, t("op.title"), " ", refresh),
    totals,
    h(
      "div",
      { class: "grid" },
      card(t("op.map"), provinceGrid(layout, overview.by_province)),
      utilCard,
    ),
    h("div", { class: "grid" }, card(t("op.prices"), priceBox, priceTable), card(t("op.burn"), burnBox, burnTable)),
  );
  drawUtil();
  barChart(
    priceBox,
    [
      { name: t("op.listprice"), x: prices.models.map((m) => m.model), y: prices.models.map((m) => m.mean_price_fen / 100) },
      {
        name: t("op.paid"),
        x: prices.models.map((m) => m.model),
        y: prices.models.map((m) => (m.paid_mean_price_fen === null ? null : m.paid_mean_price_fen / 100)),
      },
    ],
    { ytitle: t("op.yuanperhour") },
  );
  burnChart(burnBox, programs);
}
