// The ossemu inspector: every read and change goes through the control API's JSON.
"use strict";
const API = "/_ossemu";
const main = document.getElementById("main");
let timer = null;

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (name === "onclick") node.addEventListener("click", value);
    else if (value !== null && value !== undefined) node.setAttribute(name, value);
  }
  for (const child of children.flat()) node.append(child instanceof Node ? child : String(child ?? ""));
  return node;
}

function say(text, error) {
  const status = document.getElementById("status");
  status.textContent = text;
  status.className = error ? "error" : "";
}

async function api(method, path, body) {
  const init = { method, headers: {} };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(API + path, init);
  if (!response.ok) {
    let message = response.status + " " + response.statusText;
    try { message = (await response.json()).error || message; } catch (e) { /* not JSON */ }
    say(message, true);
    throw new Error(message);
  }
  return response;
}
const getJSON = async (path) => (await api("GET", path)).json();
const q = (params) => new URLSearchParams(Object.entries(params).filter(([, v]) => v)).toString();

function size(bytes) {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let n = bytes, i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return (i ? n.toFixed(1) : n) + " " + units[i];
}

function show(name) {
  clearInterval(timer);
  for (const tab of document.querySelectorAll("nav a")) tab.classList.toggle("active", tab.id === "tab-" + name);
  main.replaceChildren(document.getElementById("t-" + name).content.cloneNode(true));
}

async function route() {
  const [, view, ...rest] = location.hash.split("/");
  say("");
  try {
    if (view === "bucket") await bucketView(decodeURIComponent(rest[0]), decodeURIComponent(rest.slice(1).join("/")));
    else if (view === "journal") await journalView();
    else if (view === "faults") await faultsView();
    else await bucketsView();
  } catch (e) { say(e.message, true); }
}

async function bucketsView() {
  show("buckets");
  const rows = (await getJSON("/buckets")).map((b) => el("tr", {},
    el("td", {}, el("a", { href: "#/bucket/" + encodeURIComponent(b.name) + "/", class: "bucket" }, b.name)),
    el("td", { class: "num" }, b.objects), el("td", { class: "num" }, size(b.bytes)),
    el("td", {}, b.region), el("td", {}, b.created)));
  main.querySelector("#buckets tbody").replaceChildren(...rows);
  if (!rows.length) say("no buckets yet");
}

async function bucketView(bucket, prefix) {
  show("buckets");
  main.replaceChildren(document.getElementById("t-bucket").content.cloneNode(true));
  const base = "#/bucket/" + encodeURIComponent(bucket) + "/";
  const crumbs = [el("a", { href: base }, bucket)];
  let path = "";
  for (const part of prefix.split("/").slice(0, -1)) {
    path += part + "/";
    crumbs.push(" / ", el("a", { href: base + path }, part));
  }
  main.querySelector(".crumbs").replaceChildren(...crumbs);
  const tbody = main.querySelector("#objects tbody");
  const more = main.querySelector("#more-objects");
  let marker = "";
  const page = async () => {
    const data = await getJSON(`/buckets/${encodeURIComponent(bucket)}/objects?` + q({ prefix, marker, limit: 100 }));
    for (const p of data.prefixes) tbody.append(el("tr", { class: "folder" },
      el("td", { colspan: 8 }, el("a", { href: base + p }, "📁 " + p.slice(prefix.length)))));
    for (const o of data.objects) tbody.append(objectRow(bucket, o, prefix));
    marker = data.next_marker;
    more.hidden = !marker;
  };
  more.addEventListener("click", page);
  await page();
  await uploadsTable(bucket, prefix);
  const form = main.querySelector("#trigger");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const f = new FormData(form);
    const variables = {};
    for (const line of f.get("vars").split("\n")) {
      const at = line.indexOf("=");
      if (at > 0) variables[line.slice(0, at).trim()] = line.slice(at + 1);
    }
    const callback = { callbackUrl: f.get("url"), callbackBody: f.get("body"), callbackBodyType: f.get("type") };
    const result = await (await api("POST", "/callbacks/trigger", { bucket, key: f.get("key"), callback, variables })).json();
    say(`callback #${result.id}: ${result.outcome} ${result.status ?? ""} ${result.message}`, result.outcome !== "ok");
  });
}

function objectRow(bucket, o, prefix) {
  const where = `/buckets/${encodeURIComponent(bucket)}/object?` + q({ key: o.key });
  const meta = Object.entries(o.metadata).map(([k, v]) => k.replace("x-oss-meta-", "") + "=" + v).join(", ");
  const row = el("tr", { class: "object", "data-key": o.key },
    el("td", {}, el("code", {}, o.key.slice(prefix.length))), el("td", { class: "num" }, size(o.size)),
    el("td", {}, el("code", {}, o.etag)), el("td", {}, o.content_type), el("td", {}, meta),
    el("td", {}, o.last_modified), el("td", {}, o.acl),
    el("td", {},
      el("a", { href: API + where, class: "download" }, "Download"), " ",
      el("button", { class: "delete", onclick: async () => {
        if (!confirm(`Delete oss://${bucket}/${o.key}?`)) return;
        await api("DELETE", where);
        row.remove();
        say(`deleted ${o.key}`);
      } }, "Delete"), " ",
      el("button", { class: "use", onclick: () => { main.querySelector("#trigger [name=key]").value = o.key; } }, "Callback…")));
  return row;
}

async function uploadsTable(bucket, prefix) {
  const data = await getJSON(`/buckets/${encodeURIComponent(bucket)}/uploads?` + q({ prefix }));
  const rows = data.uploads.map((u) => {
    const parts = u.parts.map((p) => `#${p.number} ${size(p.size)}`).join(", ") || "none";
    const row = el("tr", { class: "upload", "data-key": u.key },
      el("td", {}, el("code", {}, u.key)), el("td", {}, el("code", {}, u.upload_id)),
      el("td", {}, u.initiated), el("td", {}, parts + (u.more_parts ? " …" : "")),
      el("td", {}, el("button", { class: "abort", onclick: async () => {
        if (!confirm(`Abort the upload of ${u.key}?`)) return;
        await api("DELETE", `/buckets/${encodeURIComponent(bucket)}/uploads/${encodeURIComponent(u.upload_id)}?` + q({ key: u.key }));
        row.remove();
        say(`aborted ${u.upload_id}`);
      } }, "Abort")));
    return row;
  });
  main.querySelector("#uploads tbody").replaceChildren(...rows);
}

function pre(text) { return el("pre", {}, text); }
function bodyOf(record) {
  if (!record) return "";
  if (record.body_base64 !== undefined) return "(binary, base64) " + record.body_base64;
  return (record.body || "") + (record.body_truncated ? `\n… (cut; ${record.body_size} bytes in all)` : "");
}

function entryView(e, open) {
  const failed = e.outcome !== "ok";
  const last = e.attempts[e.attempts.length - 1] || {};
  const status = last.response ? last.response.status : "no answer";
  const attempts = e.attempts.map((a, i) => {
    const req = a.request || {}, res = a.response;
    const sig = a.signature || {};
    return el("div", { class: "attempt" },
      el("div", {}, el("b", {}, `URL ${i + 1}: `), el("code", {}, a.url), ` (${a.address || "not connected"}) `,
        el("span", { class: a.ok ? "sig-ok" : "sig-bad" }, a.ok ? "accepted" : "failed: " + a.message), ` ${a.duration_ms} ms`),
      a.error ? el("div", { class: "muted" }, "why: " + a.error) : "",
      el("div", {}, "Request sent: ", el("span", { class: sig.verified ? "sig-ok signature" : "sig-bad signature" },
        sig.verified ? "signature verifies" : sig.verified === false ? "signature does NOT verify" : "signature not checked: " + (sig.why || ""))),
      pre(`${req.method} ${req.target} ${req.version}\n` + (req.headers || []).map(([k, v]) => `${k}: ${v}`).join("\n") + "\n\n" + bodyOf(req)),
      sig.signed_prefix !== undefined ? el("div", { class: "muted" }, "signed: ", el("code", {}, sig.signed_prefix), " + LF + the body above (RSA-MD5, key at x-oss-pub-key-url)") : "",
      res ? el("div", {}, "App answered:", pre(`${res.status} ${res.reason || ""}\n` + (res.headers || []).map(([k, v]) => `${k}: ${v}`).join("\n") + "\n\n" + bodyOf(res))) : el("div", { class: "muted" }, "no answer"));
  });
  const urlInput = el("input", { placeholder: "another URL (optional)", class: "replay-url" });
  const details = el("details", { class: "entry" + (failed ? " failed" : ""), "data-id": e.id },
    el("summary", {},
      el("span", { class: "badge outcome" }, failed ? "203 failed" : "200 ok"),
      el("span", {}, `#${e.id}`), el("span", {}, e.time), el("span", {}, e.operation),
      el("code", { class: "where" }, `${e.bucket}/${e.key}`),
      el("span", {}, `app: ${status}`), el("span", {}, `${e.duration_ms} ms`),
      e.replay_of ? el("span", { class: "muted" }, `replay of #${e.replay_of}`) : "",
      failed ? el("span", { class: "muted" }, e.message) : ""),
    el("div", { class: "body" },
      el("div", {}, `Callback: ${e.callback.body_type}`, e.callback.host ? `, Host ${e.callback.host}` : "", `; request ${e.request_id || "-"}`),
      attempts,
      el("p", { class: "row" }, urlInput, el("button", { class: "replay", onclick: async () => {
        const result = await (await api("POST", `/callbacks/${e.id}/replay`, urlInput.value ? { url: urlInput.value } : {})).json();
        say(`replayed as #${result.id}: ${result.outcome}`, result.outcome !== "ok");
        await refreshJournal();
      } }, "Replay (signed afresh)"))));
  details.open = open;
  return details;
}

let journalFilter = {};
let loadedBefore = null;
async function refreshJournal() {
  const box = main.querySelector("#entries");
  if (!box) return;
  const open = new Set([...box.querySelectorAll("details.entry[open]")].map((d) => d.dataset.id));
  const response = await api("GET", "/callbacks?" + q({ order: "newest", verify: "1", limit: 50, ...journalFilter }));
  const entries = await response.json();
  const ids = entries.map((e) => e.id).join(",");
  if (box.dataset.ids === ids && entries.length) return; // unchanged: keep the DOM (and the reader's place)
  box.dataset.ids = ids;
  box.replaceChildren(...entries.map((e) => entryView(e, open.has(String(e.id)))));
  loadedBefore = response.headers.get("X-Ossemu-Next-Before");
  main.querySelector("#older").hidden = !loadedBefore;
  if (!entries.length) box.append(el("p", { class: "muted" }, "No callback deliveries yet."));
}

async function journalView() {
  show("journal");
  const form = main.querySelector("#filter");
  for (const [k, v] of Object.entries(journalFilter)) form.elements[k].value = v;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    journalFilter = Object.fromEntries(new FormData(form));
    await refreshJournal();
  });
  main.querySelector("#older").addEventListener("click", async () => {
    const response = await api("GET", "/callbacks?" + q({ order: "newest", verify: "1", limit: 50, before: loadedBefore, ...journalFilter }));
    main.querySelector("#entries").append(...(await response.json()).map((e) => entryView(e, false)));
    loadedBefore = response.headers.get("X-Ossemu-Next-Before");
    main.querySelector("#older").hidden = !loadedBefore;
  });
  await refreshJournal();
  // Live: the newest page again every 2 s, while nothing older has been loaded below it.
  timer = setInterval(() => {
    if (main.querySelectorAll("details.entry").length <= 50) refreshJournal().catch(() => {});
  }, 2000);
}

async function faultsView() {
  show("faults");
  const rules = await getJSON("/faults");
  main.querySelector("#faults tbody").replaceChildren(...rules.map((f) => el("tr", { class: "fault" },
    el("td", {}, f.id), el("td", {}, f.action), el("td", {}, f.operation || "any"), el("td", {}, f.bucket || "any"),
    el("td", {}, f.key || "any"), el("td", {}, f.part_number ?? "any"), el("td", { class: "num" }, f.times),
    el("td", {}, f.action === "error" ? `${f.status} ${f.code}` : "-"), el("td", {}, f.delay), el("td", { class: "num" }, f.hits))));
  main.querySelector("#clear-faults").addEventListener("click", async () => { await api("DELETE", "/faults"); await faultsView(); });
  const form = main.querySelector("#add-fault");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const fields = {};
    for (const [k, v] of new FormData(form)) {
      if (v === "") continue;
      fields[k] = ["part_number", "times", "status"].includes(k) ? parseInt(v, 10) : k === "delay" ? parseFloat(v) : v;
    }
    await api("POST", "/faults", fields);
    await faultsView();
    say("rule added");
  });
}

window.addEventListener("hashchange", route);
route();
