/**
 * What upstreams that echo a request header do to it: the encoders of common servers and
 * libraries, applied to a token inside the text around it. Tests assert that the proxy finds
 * the token in each (and that the agent receives it in none).
 */

/** A valid header value with every character some encoding escapes: a space, quotes, slash, backslash, `<&>`, `+`, `~`, `*`, `=`. */
export const ECHO_TOKEN = `FAKE-echo/tok+en"q\\<&>'~* x=do-not-leak`;

const hex = (c: string, upper: boolean) => {
  const h = c.charCodeAt(0).toString(16).padStart(2, "0");
  return upper ? h.toUpperCase() : h;
};
const each = (t: string, f: (c: string) => string) => [...t].map(f).join("");
const htmlNamed = (t: string, apostrophe: string) =>
  t.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, apostrophe);

/** `[name, echoed text]`: each encoder applied to `token` as an echo would carry it. */
export function echoEncodings(token: string): [string, string][] {
  const header = `x-api-key: ${token}`;
  const json = JSON.stringify({ headers: { "x-api-key": token } });
  const out: [string, string][] = [
    ["raw", `{"x-api-key": "${token}"}`],
    ["url encodeURIComponent", `?echo=${encodeURIComponent(token)}&x=1`],
    ["url lower-case hex", `?echo=${encodeURIComponent(token).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase())}`],
    ["url form (URLSearchParams)", new URLSearchParams({ echo: token }).toString()],
    ["url every byte", each(token, (c) => `%${hex(c, true)}`)],
    ["url python quote", each(token, (c) => (/[A-Za-z0-9\-._~/]/.test(c) ? c : `%${hex(c, true)}`))],
    ["url go path escape", each(token, (c) => (/[A-Za-z0-9\-._~$&+:=@]/.test(c) ? c : `%${hex(c, true)}`))],
    ["hex", Buffer.from(header).toString("hex")],
    ["hex upper-case", Buffer.from(header).toString("hex").toUpperCase()],
    ["json", json],
    ["json with escaped slashes", json.replace(/\//g, "\\/")],
    ["json html-safe", json.replace(/</g, "\\u003c").replace(/>/g, "\\u003e").replace(/&/g, "\\u0026")],
    ["json every character", `"${each(token, (c) => `\\u00${hex(c, false)}`)}"`],
    ["json every character, upper-case", `"${each(token, (c) => `\\u00${hex(c, true)}`)}"`],
    ["html escape", `<td>${htmlNamed(token, "&#39;")}</td>`],
    ["html escape (python)", `<td>${htmlNamed(token, "&#x27;")}</td>`],
    ["html escape (apos)", `<td>${htmlNamed(token, "&apos;")}</td>`],
    ["html escape (go)", `<td>${htmlNamed(token, "&#39;").replace(/&quot;/g, "&#34;")}</td>`],
    ["html decimal entities", each(token, (c) => `&#${c.charCodeAt(0)};`)],
    ["html hex entities", each(token, (c) => `&#x${hex(c, false)};`)],
    ["html hex entities, upper-case", each(token, (c) => `&#x${hex(c, true)};`)],
  ];
  for (const lead of ["", "a", "ab"]) {
    out.push([`base64 after ${lead.length}`, Buffer.from(`${lead}${header}`).toString("base64")]);
    out.push([`base64url after ${lead.length}`, Buffer.from(`${lead}${header}`).toString("base64url")]);
    out.push([`basic auth base64 after ${lead.length}`, Buffer.from(`${lead}user:${token}`).toString("base64")]);
  }
  return out;
}
