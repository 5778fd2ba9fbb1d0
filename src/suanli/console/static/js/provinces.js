// The province tile grid, coloured by utilization.
import { lang, t } from "./i18n.js";
import { h, num, pct } from "./ui.js";

let tiles = null;

export async function provinceTiles() {
  if (!tiles) tiles = await (await fetch("/console/provinces.json")).json();
  return tiles;
}

// Where the long English names may break, between syllables, when a tile is too narrow
// for the whole word (a zero-width space: nothing shows otherwise). The title has the name.
const BREAKS = {
  Heilongjiang: "Hei\u200blong\u200bjiang",
  Guangdong: "Guang\u200bdong",
  Chongqing: "Chong\u200bqing",
  Shanghai: "Shang\u200bhai",
  Shandong: "Shan\u200bdong",
  Zhejiang: "Zhe\u200bjiang",
  Xinjiang: "Xin\u200bjiang",
  Liaoning: "Liao\u200bning",
};

// A province's name in the page's language (tiles from provinceTiles()).
export function provinceName(tile) {
  return lang() === "zh" ? tile.name : tile.name_en;
}

// 0 -> pale, 1 -> deep red; the same scale in the legend.
export function heat(ratio) {
  const r = Math.max(0, Math.min(1, Number(ratio)));
  const light = 94 - r * 56;
  return `hsl(${8 - r * 8}, ${55 + r * 30}%, ${light}%)`;
}

// rows: [{province, centers, cards, allocated_cards, utilization_24h}]
export function provinceGrid(layout, rows) {
  const by = new Map(rows.map((r) => [r.province, r]));
  const cols = Math.max(...layout.map((p) => p.col)) + 1;
  const grid = h("div", { class: "tiles", testid: "province-grid" });
  grid.style.gridTemplateColumns = `repeat(${cols}, minmax(0, 1fr))`;
  for (const p of layout) {
    const row = by.get(p.name);
    const name = provinceName(p);
    const label = lang() === "zh" ? name : BREAKS[name] || name;
    let tile;
    if (!row) {
      tile = h("div", { class: "tile none", title: `${name}: ${t("op.nocenters")}` }, h("b", {}, label));
    } else {
      const u = Number(row.utilization_24h);
      tile = h(
        "div",
        {
          class: "tile",
          testid: `province-${p.name}`,
          title: `${name}: ${row.centers} ${t("op.centers")}, ${num(row.cards)} ${t("op.cards")}, ${t("op.util24")} ${pct(u)}`,
        },
        h("b", {}, label),
        h("span", {}, pct(u, 0)),
      );
      tile.style.background = heat(u);
      tile.style.color = u > 0.55 ? "#fff" : "#1d2733";
    }
    tile.style.gridRow = String(p.row + 1);
    tile.style.gridColumn = String(p.col + 1);
    grid.append(tile);
  }
  const legend = h(
    "div",
    { class: "legend" },
    t("op.legend"),
    [0, 0.25, 0.5, 0.75, 1].map((v) => {
      const swatch = h("i");
      swatch.style.background = heat(v);
      return [swatch, pct(v, 0)];
    }),
  );
  return h("div", {}, grid, legend);
}
