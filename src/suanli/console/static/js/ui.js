// Small DOM helpers: elements built without innerHTML, numbers and money formatted once.
import { KEYS, lang, t } from "./i18n.js";

export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "testid") node.dataset.testid = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (k === "value") node.value = v;
    else if (k === "checked") node.checked = Boolean(v);
    else node.setAttribute(k, v === true ? "" : String(v));
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

const locale = () => (lang() === "zh" ? "zh-CN" : "en-US");

export function num(value, digits = 0) {
  if (value === null || value === undefined || value === "") return "–";
  return Number(value).toLocaleString(locale(), {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

// fen (integer) -> "¥1,234.56"; BigInt-free: fen values fit in a double exactly here.
export function yuan(fen) {
  if (fen === null || fen === undefined) return "–";
  const sign = fen < 0 ? "-" : "";
  const abs = Math.abs(Number(fen));
  const whole = Math.floor(abs / 100);
  const cents = String(abs % 100).padStart(2, "0");
  return `${sign}¥${whole.toLocaleString(locale())}.${cents}`;
}

// "12.50" (yuan, as typed) -> 1250 fen, exactly; null when not a positive amount.
export function toFen(text) {
  const m = /^\s*(\d+)(?:\.(\d{1,2}))?\s*$/.exec(String(text));
  if (!m) return null;
  const fen = Number(m[1]) * 100 + Number((m[2] || "0").padEnd(2, "0"));
  return fen > 0 ? fen : null;
}

export function pct(ratio, digits = 1) {
  if (ratio === null || ratio === undefined) return "–";
  return `${(Number(ratio) * 100).toFixed(digits)}%`;
}

export function when(iso) {
  if (!iso) return "–";
  return new Date(iso).toLocaleString(locale(), { hour12: false });
}

export function badge(status) {
  return h("span", { class: `badge ${status}` }, t(`status.${status}`));
}

// A fabric between nodes (a pool's inter_node), in words.
export function fabric(value) {
  return KEYS.includes(`inter.${value}`) ? t(`inter.${value}`) : value;
}

export function stat(label, value, testid) {
  return h("div", { class: "stat", testid }, h("div", { class: "label" }, label), h("div", { class: "value" }, value));
}

export function card(title, ...children) {
  return h("section", { class: "card" }, title ? h("h2", {}, title) : null, ...children);
}

// columns: [{label, value: row => text|Node, num: bool}]. A long table scrolls inside
// its box; whole: every row in the page (a short list the reader compares row by row).
export function table(columns, rows, testid, empty, { whole = false } = {}) {
  if (!rows.length) return h("p", { class: "muted", testid }, empty || t("common.none"));
  return h(
    "div",
    { class: whole ? "scroll whole" : "scroll" },
    h(
      "table",
      { testid },
      h("thead", {}, h("tr", {}, columns.map((c) => h("th", { class: c.num ? "num" : "" }, c.label)))),
      h(
        "tbody",
        {},
        rows.map((row) =>
          h(
            "tr",
            { testid: row.__testid },
            columns.map((c) => h("td", { class: c.num ? "num" : "" }, c.value(row))),
          ),
        ),
      ),
    ),
  );
}

let toastTimer = null;
export function toast(text, bad = false) {
  const node = document.getElementById("toast");
  node.textContent = text;
  node.className = bad ? "toast bad" : "toast";
  node.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => {
    node.hidden = true;
  }, 5000);
}

export function field(label, input) {
  return h("label", {}, label, input);
}

export function select(name, options, value, testid) {
  return h(
    "select",
    { name, testid },
    options.map(([v, text]) => h("option", { value: v, selected: String(v) === String(value) ? "" : undefined }, text)),
  );
}

export function subtabs(names, current, onpick) {
  return h(
    "div",
    { class: "subtabs" },
    names.map(([key, label]) =>
      h("button", { type: "button", class: key === current ? "on" : "", testid: `tab-${key}`, onclick: () => onpick(key) }, label),
    ),
  );
}

export function debounce(fn, ms) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}
