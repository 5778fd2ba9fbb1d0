// Buyer: browse capacity, price a request live (with and without voucher), submit it,
// follow requests and leases (with the reasons when queued), invoices.
import { api, problem, query } from "../api.js";
import { listed, named, t } from "../i18n.js";
import { provinceName, provinceTiles } from "../provinces.js";
import { badge, card, debounce, fabric, field, h, num, select, stat, subtabs, table, toast, toFen, when, yuan } from "../ui.js";

let current = "market";
let prefill = {};

export async function render(main, me) {
  const wallet = await api("/v1/wallet");
  const head = h(
    "div",
    { class: "stats" },
    stat(t("buy.available"), yuan(wallet.available_fen), "wallet-available"),
    stat(t("buy.escrow"), yuan(wallet.escrow_fen), "wallet-escrow"),
  );
  const body = h("div", {});
  const pick = async (key) => {
    current = key;
    await render(main, me);
  };
  const tabs = subtabs(
    [
      ["market", t("buy.market")],
      ["request", t("buy.new")],
      ["requests", t("buy.requests")],
      ["leases", t("buy.leases")],
      ["invoices", t("buy.invoices")],
    ],
    current,
    pick,
  );
  main.replaceChildren(h("h1", {}, t("page.buyer")), head, tabs, body);
  const pages = { market, request, requests, leases, invoices };
  try {
    await pages[current](body, pick);
  } catch (err) {
    body.replaceChildren(h("p", { class: "error", testid: "page-error" }, problem(err)));
  }
}

// Fabrics a request may ask for between its nodes, at least (the engine's ranks).
const FABRICS = ["ethernet", "roce", "infiniband"];

// The regions and provinces to choose from, as [value, label in the page's language],
// and the label of a province the API names in Chinese.
async function regionOptions() {
  const layout = await provinceTiles();
  const regions = [...new Set(layout.map((p) => p.region))].map((r) => [r, t(`region.${r}`)]);
  const provinces = layout.map((p) => [p.name, provinceName(p)]);
  const labels = new Map(provinces);
  return { regions, provinces, place: (name) => labels.get(name) || name };
}

const centerOf = (o) => named(o.center_zh, o.center);

async function market(body, pick) {
  const all = await api("/v1/offers");
  const { regions, provinces, place } = await regionOptions();
  const models = [...new Set(all.map((o) => o.model))].sort();
  const inters = [...new Set(all.map((o) => o.inter_node))].sort();
  const any = ["", t("common.any")];
  const form = h(
    "form",
    { class: "filters", testid: "offer-filters" },
    field(t("buy.model"), select("model", [any, ...models.map((m) => [m, m])], "", "f-model")),
    field(t("buy.memory"), h("input", { name: "min_memory_gb", type: "number", min: 1, testid: "f-memory" })),
    field(t("buy.region"), select("region", [any, ...regions], "", "f-region")),
    field(t("buy.province"), select("province", [any, ...provinces], "", "f-province")),
    field(t("buy.maxprice"), h("input", { name: "max_price", inputmode: "decimal", placeholder: "¥", testid: "f-price" })),
    field(t("buy.inter"), select("inter_node", [any, ...inters.map((i) => [i, fabric(i)])], "", "f-inter")),
    field(t("buy.minfree"), h("input", { name: "min_free", type: "number", min: 0, testid: "f-free" })),
    h("button", { class: "primary", type: "submit", testid: "f-apply" }, t("buy.search")),
  );
  const results = h("div", {});
  const show = (offers) => {
    results.replaceChildren(
      h("p", { class: "muted", testid: "offer-count" }, `${offers.length} ${t("buy.offers")}`),
      table(
        [
          { label: t("buy.center"), value: centerOf },
          { label: t("buy.province"), value: (o) => `${place(o.province)} ${o.city}` },
          { label: t("buy.model"), value: (o) => o.model },
          { label: t("buy.memory"), value: (o) => `${o.memory_gb} GB`, num: true },
          { label: t("buy.pernode"), value: (o) => o.cards_per_node, num: true },
          { label: "FP16 TFLOPS", value: (o) => num(o.fp16_tflops), num: true },
          { label: t("buy.inter"), value: (o) => fabric(o.inter_node) },
          { label: t("buy.price"), value: (o) => yuan(o.price_fen), num: true },
          { label: t("buy.free"), value: (o) => `${num(o.cards_free)} / ${num(o.cards)}`, num: true },
          {
            label: "",
            value: (o) =>
              h(
                "button",
                {
                  class: "small",
                  type: "button",
                  onclick: async () => {
                    prefill = { model: o.model, province: o.province };
                    await pick("request");
                  },
                },
                t("buy.use"),
              ),
          },
        ],
        offers.map((o) => ({ ...o, __testid: `offer-${o.pool_id}` })),
        "offer-table",
        t("buy.nooffers"),
      ),
    );
  };
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const price = String(data.get("max_price") || "").trim();
    const fen = price ? toFen(price) : null;
    if (price && fen === null) {
      toast(t("buy.badprice"), true);
      return;
    }
    try {
      show(
        await api(
          `/v1/offers${query({
            model: data.get("model"),
            min_memory_gb: data.get("min_memory_gb"),
            region: data.get("region"),
            province: data.get("province"),
            max_price_fen: fen,
            inter_node: data.get("inter_node"),
            min_free: data.get("min_free"),
          })}`,
        ),
      );
    } catch (err) {
      toast(problem(err), true);
    }
  });
  show(all);
  body.replaceChildren(card(t("buy.market"), form, results));
}

// The request the form describes (for a quote or a submission); throws what is wrong.
// Cards per node left empty: the exchange chooses how to spread the cards over nodes;
// the fabric between nodes is asked for only with cards per node below the cards.
function requestBody(form) {
  const data = new FormData(form);
  const hours = Number(data.get("hours"));
  const price = String(data.get("max_price") || "").trim();
  const perNode = String(data.get("cards_per_node") || "").trim();
  const body = {
    cards: Number(data.get("cards")),
    duration_s: Math.round(hours * 3600),
    accepted_models: data.get("model") ? [data.get("model")] : [],
    provinces: data.get("province") ? [data.get("province")] : [],
    regions: data.get("region") ? [data.get("region")] : [],
    interruptible: data.get("interruptible") === "on",
    use_voucher: data.get("use_voucher") === "on",
  };
  if (price) {
    const fen = toFen(price);
    if (fen === null) throw new Error(t("buy.badprice"));
    body.max_price_fen = fen;
  }
  if (!Number.isInteger(body.cards) || body.cards < 1) throw new Error(t("buy.badcards"));
  if (!(hours > 0)) throw new Error(t("buy.badhours"));
  if (perNode) {
    const n = Number(perNode);
    if (!Number.isInteger(n) || n < 1 || body.cards % n) throw new Error(t("buy.badpernode"));
    body.cards_per_node = n;
    if (n < body.cards && data.get("inter_node")) body.inter_node = data.get("inter_node");
  }
  return body;
}

async function request(body, pick) {
  const all = await api("/v1/offers");
  const { regions, provinces, place } = await regionOptions();
  const models = [...new Set(all.map((o) => o.model))].sort();
  const any = ["", t("common.any")];
  const cards = h("input", { name: "cards", type: "number", min: 1, value: "8", testid: "r-cards" });
  const perNode = h("input", {
    name: "cards_per_node",
    type: "number",
    min: 1,
    max: 64,
    placeholder: t("buy.auto"),
    title: t("buy.pernodehelp"),
    testid: "r-pernode",
  });
  const inter = select("inter_node", [any, ...FABRICS.map((f) => [f, fabric(f)])], "", "r-inter");
  inter.title = t("buy.interhelp");
  // the fabric between nodes matters only when the cards per node are fewer than the cards
  const gang = () => {
    inter.disabled = !(Number(perNode.value) > 0 && Number(perNode.value) < Number(cards.value));
  };
  const form = h(
    "form",
    { class: "inline", testid: "request-form" },
    field(t("buy.cards"), cards),
    field(t("buy.pernode"), perNode),
    field(t("buy.inter"), inter),
    field(t("buy.model"), select("model", [any, ...models.map((m) => [m, m])], prefill.model || "", "r-model")),
    field(t("buy.hours"), h("input", { name: "hours", type: "number", min: 0.1, step: "any", value: "4", testid: "r-hours" })),
    field(t("buy.maxprice"), h("input", { name: "max_price", inputmode: "decimal", placeholder: "¥", testid: "r-price" })),
    field(t("buy.region"), select("region", [any, ...regions], "", "r-region")),
    field(t("buy.province"), select("province", [any, ...provinces], prefill.province || "", "r-province")),
    h("label", { class: "check" }, h("input", { type: "checkbox", name: "use_voucher", checked: true, testid: "r-voucher" }), t("buy.usevoucher")),
    h("label", { class: "check" }, h("input", { type: "checkbox", name: "interruptible", testid: "r-interruptible" }), t("buy.interruptible")),
    h("button", { class: "primary", type: "submit", testid: "r-submit" }, t("buy.submit")),
  );
  prefill = {};
  const estimate = h("div", { testid: "estimate" });
  const result = h("div", {});
  const quote = debounce(async () => {
    let payload;
    try {
      payload = requestBody(form);
    } catch (err) {
      estimate.replaceChildren(h("p", { class: "error" }, err.message));
      return;
    }
    try {
      const q = await api("/v1/quotes", { method: "POST", body: payload });
      estimate.replaceChildren(quoteView(q, place));
    } catch (err) {
      estimate.replaceChildren(h("p", { class: "error", testid: "estimate-error" }, problem(err)));
    }
  }, 250);
  for (const event of ["input", "change"]) {
    form.addEventListener(event, gang);
    form.addEventListener(event, quote);
  }
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    let payload;
    try {
      payload = requestBody(form);
    } catch (err) {
      toast(err.message, true);
      return;
    }
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const created = await api("/v1/requests", { method: "POST", body: payload });
      result.replaceChildren(submitted(created));
      toast(`${t("buy.request")} #${created.id}: ${t(`status.${created.status}`)}`);
    } catch (err) {
      result.replaceChildren(h("p", { class: "error", testid: "submit-error" }, problem(err)));
    } finally {
      button.disabled = false;
    }
  });
  body.replaceChildren(card(t("buy.new"), form, estimate), result);
  gang();
  quote();
  void pick;
}

function quoteView(q, place) {
  if (!q.placeable) {
    const nearest = listed(q.nearest, q.nearest_zh);
    return h(
      "div",
      { testid: "estimate-queued" },
      h("p", {}, badge("queued"), " ", t("buy.wouldqueue")),
      reasonList(q),
      nearest.length ? h("p", { class: "muted", testid: "estimate-nearest" }, `${t("buy.nearest")}: ${nearest.join("; ")}`) : null,
    );
  }
  return h(
    "div",
    {},
    h("p", { class: "muted", testid: "estimate-where" }, `${centerOf(q)} · ${place(q.province)} · ${q.model} · ${yuan(q.price_fen)} ${t("buy.perhour")}`),
    h(
      "div",
      { class: "estimate" },
      stat(t("buy.cost"), yuan(q.cost_fen), "est-cost"),
      stat(t("buy.voucherpays"), yuan(q.voucher_fen), "est-voucher"),
      stat(t("buy.youpay"), yuan(q.cost_after_voucher_fen), "est-net"),
    ),
    q.voucher_note ? h("p", { class: "muted", testid: "est-note" }, q.voucher_note) : null,
  );
}

function submitted(r) {
  return card(
    `${t("buy.request")} #${r.id}`,
    h(
      "div",
      { testid: "submit-result" },
      h("p", {}, badge(r.status), r.lease_id ? ` ${t("buy.lease")} #${r.lease_id}` : ""),
      reasonList(r),
    ),
  );
}

// Why a request (or a quote) waits: the engine's reasons in the page's language, as a
// list; nothing when it has none.
function reasonList(r) {
  const reasons = listed(r.reasons, r.reasons_zh);
  return reasons.length ? h("ul", { class: "reasons" }, reasons.map((x) => h("li", {}, x))) : null;
}

async function requests(body) {
  const rows = await api("/v1/requests");
  rows.sort((a, b) => b.id - a.id);
  body.replaceChildren(
    card(
      t("buy.requests"),
      table(
        [
          { label: "#", value: (r) => r.id },
          { label: t("buy.cards"), value: (r) => r.cards, num: true },
          { label: t("buy.model"), value: (r) => r.accepted_models.join(", ") || t("common.any") },
          { label: t("buy.hours"), value: (r) => num(r.duration_s / 3600, 1), num: true },
          { label: t("buy.status"), value: (r) => badge(r.status) },
          { label: t("buy.lease"), value: (r) => (r.lease_id ? `#${r.lease_id}` : "–") },
          { label: t("buy.why"), value: reasonList },
          { label: t("buy.created"), value: (r) => when(r.created_at) },
        ],
        rows.map((r) => ({ ...r, __testid: `request-${r.id}` })),
        "request-table",
      ),
    ),
  );
}

async function leases(body) {
  const rows = await api("/v1/leases");
  rows.sort((a, b) => b.id - a.id);
  body.replaceChildren(
    card(
      t("buy.leases"),
      table(
        [
          { label: "#", value: (l) => l.id },
          { label: t("buy.model"), value: (l) => l.model },
          { label: t("buy.cards"), value: (l) => l.cards, num: true },
          { label: t("buy.price"), value: (l) => yuan(l.price_fen), num: true },
          { label: t("buy.status"), value: (l) => badge(l.status) },
          { label: t("buy.charged"), value: (l) => yuan(l.charged_fen), num: true },
          { label: t("buy.voucherpays"), value: (l) => yuan(l.subsidy_fen), num: true },
          { label: t("buy.note"), value: (l) => l.voucher_note || l.end_reason || "" },
          { label: t("buy.placed"), value: (l) => when(l.placed_at) },
        ],
        rows.map((l) => ({ ...l, __testid: `lease-${l.id}` })),
        "lease-table",
      ),
    ),
  );
}

async function download(path, name) {
  try {
    const response = await api(path, { raw: true });
    const url = URL.createObjectURL(await response.blob());
    const a = h("a", { href: url, download: name });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  } catch (err) {
    toast(problem(err), true);
  }
}

async function invoices(body) {
  const rows = await api("/v1/invoices");
  body.replaceChildren(
    card(
      t("buy.invoices"),
      table(
        [
          { label: t("buy.number"), value: (i) => i.number },
          { label: t("buy.period"), value: (i) => i.period },
          { label: t("buy.gross"), value: (i) => yuan(i.gross_fen), num: true },
          { label: t("buy.voucherpays"), value: (i) => yuan(i.voucher_fen), num: true },
          { label: t("buy.net"), value: (i) => yuan(i.net_fen), num: true },
          { label: t("buy.lines"), value: (i) => i.line_count, num: true },
          {
            label: "",
            value: (i) => [
              h("button", { class: "small", type: "button", testid: `invoice-csv-${i.id}`, onclick: () => download(`/v1/invoices/${i.id}.csv`, `${i.number}.csv`) }, "CSV"),
              " ",
              h("button", { class: "small", type: "button", testid: `invoice-html-${i.id}`, onclick: () => download(`/v1/invoices/${i.id}.html`, `${i.number}.html`) }, "HTML"),
            ],
          },
        ],
        rows,
        "invoice-table",
        t("buy.noinvoices"),
      ),
    ),
  );
}
