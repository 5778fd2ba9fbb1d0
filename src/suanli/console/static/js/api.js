// The API the CLI and the SDK use, called with the key the user logged in with.
import { KEYS, lang, t } from "./i18n.js";

const KEY = "suanli.key";

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export function getKey() {
  return sessionStorage.getItem(KEY);
}

export function setKey(key) {
  if (key) sessionStorage.setItem(KEY, key);
  else sessionStorage.removeItem(KEY);
}

function message(status, body) {
  if (body && body.error && body.error.message) return [body.error.code || "error", body.error.message];
  if (body && Array.isArray(body.detail)) {
    return ["invalid", body.detail.map((d) => `${(d.loc || []).slice(1).join(".")}: ${d.msg}`).join("; ")];
  }
  if (body && typeof body.detail === "string") return ["error", body.detail];
  return [status >= 500 ? "server" : "error", `HTTP ${status}`];
}

export async function api(path, { method = "GET", body, key, raw = false } = {}) {
  const headers = { Authorization: `Bearer ${key || getKey() || ""}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    throw new ApiError(0, "network", String(err.message || err));
  }
  if (!response.ok) {
    let parsed = null;
    try {
      parsed = await response.json();
    } catch {
      parsed = null;
    }
    const [code, text] = message(response.status, parsed);
    throw new ApiError(response.status, code, text);
  }
  if (raw) return response;
  if (response.status === 204) return null;
  return response.json();
}

// An error as the console shows it: for the common cases (a refused key, no connection,
// not enough money...) a label in the page's language, then the server's own words.
export function problem(err) {
  const text = String((err && err.message) || err);
  const label = err instanceof ApiError ? `err.${err.code}` : null;
  if (!label || !KEYS.includes(label)) return text;
  return `${t(label)}${lang() === "zh" ? "：" : ": "}${text}`;
}

export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === "") continue;
    q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : "";
}
