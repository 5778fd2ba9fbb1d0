// Voucher issuer: programmes and their burn, applications waiting, redemptions, flags.
import { api, problem, query } from "../api.js";
import { chartBox } from "../charts.js";
import { t } from "../i18n.js";
import { badge, card, h, pct, stat, table, toast, toFen, when, yuan } from "../ui.js";
import { burnChart } from "./operator.js";

export async function render(main, me) {
  const [report, waiting, redemptions, flags] = await Promise.all([
    api("/v1/reports/vouchers"),
    api(`/v1/vouchers/grants${query({ status: "applied" })}`),
    api("/v1/vouchers/redemptions"),
    api(`/v1/vouchers/flags${query({ status: "open" })}`),
  ]);
  const programs = report.programs;
  const names = new Map(programs.map((p) => [p.id, p.name]));
  const rerender = () => render(main, me);

  const decide = (grant, approve, amount) => async () => {
    const body = { approve, reason: approve ? "" : t("iss.rejectreason") };
    if (approve) {
      const fen = toFen(amount.value);
      if (fen === null) {
        toast(t("buy.badprice"), true);
        return;
      }
      body.approved_fen = fen;
    }
    try {
      const done = await api(`/v1/vouchers/grants/${grant.id}/decision`, { method: "POST", body });
      toast(`${t("iss.grant")} #${done.id}: ${t(`status.${done.status}`)}`);
      await rerender();
    } catch (err) {
      toast(problem(err), true);
    }
  };
  const resolve = (flag, status) => async () => {
    try {
      await api(`/v1/vouchers/flags/${flag.id}/resolve`, {
        method: "POST",
        body: { status, resolution: t(`iss.resolution.${status}`) },
      });
      await rerender();
    } catch (err) {
      toast(problem(err), true);
    }
  };
  const scan = async () => {
    try {
      const found = await api("/v1/vouchers/flags/scan", { method: "POST" });
      toast(`${t("iss.scanned")}: ${Array.isArray(found) ? found.length : 0}`);
      await rerender();
    } catch (err) {
      toast(problem(err), true);
    }
  };

  const burnBox = chartBox("burn-chart");
  const totals = programs.reduce(
    (acc, p) => ({ budget: acc.budget + p.budget_fen, redeemed: acc.redeemed + p.redeemed_fen, committed: acc.committed + p.committed_fen }),
    { budget: 0, redeemed: 0, committed: 0 },
  );
  main.replaceChildren(
    h("h1", {}, t("page.issuer")),
    h(
      "div",
      { class: "stats" },
      stat(t("iss.programs"), String(programs.length), "stat-programs"),
      stat(t("iss.budget"), yuan(totals.budget), "stat-budget"),
      stat(t("iss.redeemed"), yuan(totals.redeemed), "stat-redeemed"),
      stat(t("iss.committed"), yuan(totals.committed), "stat-committed"),
      stat(t("iss.waiting"), String(waiting.length), "stat-waiting"),
      stat(t("iss.flags"), String(flags.length), "stat-flags"),
    ),
    h(
      "div",
      { class: "grid" },
      card(
        t("iss.programs"),
        table(
          [
            { label: "#", value: (p) => p.id },
            { label: t("iss.program"), value: (p) => p.name },
            { label: t("buy.status"), value: (p) => badge(p.status) },
            { label: t("iss.budget"), value: (p) => yuan(p.budget_fen), num: true },
            { label: t("iss.redeemed"), value: (p) => yuan(p.redeemed_fen), num: true },
            { label: t("iss.remaining"), value: (p) => yuan(p.remaining_fen), num: true },
            { label: t("iss.used"), value: (p) => pct(p.used_share), num: true },
            { label: t("iss.caps"), value: (p) => (p.within_caps && p.within_budget ? "✓" : "✗") },
          ],
          programs,
          "program-table",
        ),
      ),
      card(t("op.burn"), burnBox),
    ),
    card(
      t("iss.waiting"),
      table(
        [
          { label: "#", value: (g) => g.id },
          { label: t("iss.program"), value: (g) => names.get(g.program_id) || `#${g.program_id}` },
          { label: t("iss.buyer"), value: (g) => g.buyer_name || `#${g.buyer_id}` },
          { label: t("iss.purpose"), value: (g) => g.purpose },
          { label: t("iss.requested"), value: (g) => yuan(g.requested_fen), num: true },
          { label: t("iss.applied"), value: (g) => when(g.applied_at) },
          {
            label: t("iss.decide"),
            value: (g) => {
              const amount = h("input", { value: (g.requested_fen / 100).toFixed(2), size: 9, inputmode: "decimal", testid: `grant-amount-${g.id}` });
              return h(
                "span",
                {},
                "¥",
                amount,
                " ",
                h("button", { class: "small", type: "button", testid: `approve-${g.id}`, onclick: decide(g, true, amount) }, t("iss.approve")),
                " ",
                h("button", { class: "small", type: "button", testid: `reject-${g.id}`, onclick: decide(g, false, amount) }, t("iss.reject")),
              );
            },
          },
        ],
        waiting.map((g) => ({ ...g, __testid: `grant-${g.id}` })),
        "grant-table",
        t("iss.nowaiting"),
      ),
    ),
    card(
      t("iss.flags"),
      h("p", {}, h("button", { class: "small", type: "button", testid: "scan", onclick: scan }, t("iss.scan"))),
      table(
        [
          { label: "#", value: (f) => f.id },
          { label: t("iss.kind"), value: (f) => t(`flag.${f.kind}`) },
          { label: t("iss.summary"), value: (f) => f.summary },
          { label: t("buy.lease"), value: (f) => (f.lease_id ? `#${f.lease_id}` : "–") },
          {
            label: "",
            value: (f) =>
              h(
                "span",
                {},
                h("button", { class: "small", type: "button", onclick: resolve(f, "dismissed") }, t("iss.dismiss")),
                " ",
                h("button", { class: "small", type: "button", onclick: resolve(f, "confirmed") }, t("iss.confirm")),
              ),
          },
        ],
        flags.map((f) => ({ ...f, __testid: `flag-${f.id}` })),
        "flag-table",
        t("iss.noflags"),
      ),
    ),
    card(
      t("iss.redemptions"),
      table(
        [
          { label: "#", value: (r) => r.id },
          { label: t("iss.program"), value: (r) => names.get(r.program_id) || `#${r.program_id}` },
          { label: t("buy.lease"), value: (r) => `#${r.lease_id}` },
          { label: t("iss.buyer"), value: (r) => r.buyer_name || `#${r.buyer_id}` },
          { label: t("iss.provider"), value: (r) => r.provider_name || `#${r.provider_id}` },
          { label: t("iss.charge"), value: (r) => yuan(r.charge_fen), num: true },
          { label: t("iss.rate"), value: (r) => pct(r.rate, 0), num: true },
          { label: t("iss.paid"), value: (r) => yuan(r.amount_fen - r.clawed_back_fen), num: true },
          { label: t("buy.created"), value: (r) => when(r.created_at) },
        ],
        [...redemptions].sort((a, b) => b.id - a.id),
        "redemption-table",
      ),
    ),
  );
  burnChart(burnBox, programs);
}
