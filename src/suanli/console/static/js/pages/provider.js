// Provider: own centers and pools, utilization and earnings over time, price editing.
import { api, problem } from "../api.js";
import { barChart, chartBox } from "../charts.js";
import { named, t } from "../i18n.js";
import { badge, card, fabric, h, num, pct, stat, table, toast, toFen, yuan } from "../ui.js";
import { utilizationCard } from "./operator.js";

const centerName = (c) => named(c.name_zh, c.name);

export async function render(main, me) {
  const [overview, wallet, earnings, centers, pools] = await Promise.all([
    api("/v1/reports/overview"),
    api("/v1/wallet"),
    api("/v1/reports/earnings"),
    api("/v1/centers"),
    api("/v1/pools"),
  ]);
  const mine = new Map(centers.filter((c) => c.provider_id === me.id).map((c) => [c.id, c]));
  const myPools = pools.filter((p) => mine.has(p.center_id));
  const [utilCard, drawUtil] = await utilizationCard(t("pro.utilization"));
  const earnBox = chartBox("earnings-chart");

  const priceCell = (pool) => {
    const input = h("input", { value: (pool.price_fen / 100).toFixed(2), inputmode: "decimal", size: 8, testid: `price-input-${pool.id}` });
    const save = h(
      "button",
      {
        class: "small",
        type: "button",
        testid: `price-save-${pool.id}`,
        onclick: async () => {
          const fen = toFen(input.value);
          if (fen === null) {
            toast(t("buy.badprice"), true);
            return;
          }
          try {
            const updated = await api(`/v1/pools/${pool.id}`, { method: "PATCH", body: { price_fen: fen } });
            input.value = (updated.price_fen / 100).toFixed(2);
            // the input shows the new price; nothing else on the page depends on it, so
            // the page is not drawn again (which replaced the inputs under the user)
            toast(`${pool.name}: ${yuan(updated.price_fen)} ${t("buy.perhour")}`);
          } catch (err) {
            toast(problem(err), true);
          }
        },
      },
      t("pro.save"),
    );
    return h("span", {}, "¥", input, " ", save);
  };

  main.replaceChildren(
    h("h1", {}, t("page.provider")),
    h(
      "div",
      { class: "stats" },
      stat(t("pro.centers"), num(mine.size), "stat-centers"),
      stat(t("op.cards"), num(overview.cards), "stat-cards"),
      stat(t("op.allocated"), num(overview.allocated_cards), "stat-allocated"),
      stat(t("op.util24"), pct(overview.utilization_24h), "stat-util"),
      stat(t("pro.earned"), yuan(earnings.total_fen), "stat-earned"),
      stat(t("pro.balance"), yuan(wallet.earnings_fen), "stat-balance"),
    ),
    h("div", { class: "grid" }, utilCard, card(t("pro.earnings"), earnBox)),
    card(
      t("pro.pools"),
      table(
        [
          { label: "#", value: (p) => p.id },
          { label: t("buy.center"), value: (p) => centerName(mine.get(p.center_id)) },
          { label: t("pro.pool"), value: (p) => p.name },
          { label: t("buy.model"), value: (p) => p.model },
          { label: t("buy.free"), value: (p) => `${num(p.cards_free)} / ${num(p.cards)}`, num: true },
          { label: t("buy.inter"), value: (p) => fabric(p.inter_node) },
          { label: t("buy.status"), value: (p) => badge(p.active ? "active" : "cancelled") },
          { label: t("buy.price"), value: priceCell },
        ],
        myPools.map((p) => ({ ...p, __testid: `pool-${p.id}` })),
        "pool-table",
      ),
    ),
    card(
      t("pro.centers"),
      table(
        [
          { label: "#", value: (c) => c.id },
          { label: t("buy.center"), value: centerName },
          { label: t("buy.province"), value: (c) => `${c.province} ${c.city}` },
          { label: "PUE", value: (c) => c.pue, num: true },
          { label: t("buy.free"), value: (c) => `${num(c.cards_free)} / ${num(c.cards)}`, num: true },
          { label: t("buy.status"), value: (c) => badge(c.status) },
        ],
        [...mine.values()],
        "center-table",
      ),
    ),
  );
  drawUtil();
  barChart(earnBox, [
    { name: t("pro.earnings"), x: earnings.points.map((p) => p.start), y: earnings.points.map((p) => p.revenue_fen / 100) },
  ], { ytitle: "¥" });
}
