// anyctl console: one EventSource feeds every page; pages render from the
// latest view. No framework, no build step.
"use strict";
const S = {view: null, session: null, gslb: null, gslbFor: "", explain: null, confirm: null, message: null};
const $ = (sel, el = document) => el.querySelector(sel);
const esc = s => String(s ?? "").replace(/[&<>"']/g, c => ({"&":"&amp;","<":"&lt;",">":"&gt;",'"':"&quot;","'":"&#39;"}[c]));
const ago = t => { if (!t) return "—"; const s = Math.max(0, (Date.now() - new Date(t)) / 1000);
  return s < 90 ? s.toFixed(0) + "s ago" : s < 5400 ? (s / 60).toFixed(0) + "m ago" : (s / 3600).toFixed(1) + "h ago"; };
const badge = step => `<span class="badge step-${esc(step)}">${esc(step)}</span>`;
const PALETTE = ["#1f6feb", "#1a7f37", "#bf3989", "#bc4c00", "#8250df", "#0a7ea4", "#9a6700", "#cf222e"];

// Equirectangular: x = lon + 180, y = 90 - lat, in a 360 x 180 box.
const X = lon => lon + 180, Y = lat => 90 - lat;
function worldSVG(fill) {
  let g = "";
  for (let lon = -150; lon <= 150; lon += 30) g += `<line class="grat" x1="${X(lon)}" y1="0" x2="${X(lon)}" y2="180"/>`;
  for (let lat = -60; lat <= 75; lat += 15) g += `<line class="grat" x1="0" y1="${Y(lat)}" x2="360" y2="${Y(lat)}"/>`;
  const land = WORLD.map(s => {
    const d = "M" + s.p.map(([lo, la]) => X(lo).toFixed(1) + "," + Y(la).toFixed(1)).join("L") + "Z";
    const f = fill ? fill(s) : null;
    return `<path class="${f ? "area" : "land"}" d="${d}" data-region="${s.c || s.r}" data-continent="${s.r}"${f ? ` data-origin="${esc(f.origin)}" fill="${f.color}"` : ""}/>`;
  }).join("");
  return g + land;
}

function tip(html, ev) {
  const t = $("#tip");
  if (!html) { t.hidden = true; return; }
  t.innerHTML = html; t.hidden = false;
  t.style.left = Math.min(ev.clientX + 14, innerWidth - 370) + "px"; t.style.top = (ev.clientY + 14) + "px";
}

function popTip(p) {
  const sess = p.sessions.map(s => `${esc(s.address)} AS${s.peerAsn}: <b>${esc(s.state)}</b>${s.lastProblem && s.state !== "established" ? " — " + esc(s.lastProblem) : ""}`).join("<br>") || "no sessions";
  return `<b>${esc(p.name)}</b> ${esc(p.city)} ${badge(p.step)}<br>${esc(p.why)}<br><br><b>Sessions</b><br>${sess}<br><br><b>Announcing</b>: ${esc(p.announcing.join(", ") || "nothing")}<br><span class="muted">report ${ago(p.reportedAt)}</span>`;
}

// ---- pages ----
function pageMap(v) {
  const pops = v.pops.map(p => `<g><circle id="pop-${esc(p.name)}" class="pop ${esc(p.step)}" data-pop="${esc(p.name)}" data-step="${esc(p.step)}" cx="${X(p.lon)}" cy="${Y(p.lat)}" r="3.2"/><text x="${X(p.lon) + 4}" y="${Y(p.lat) + 1}">${esc(p.name)}</text></g>`).join("");
  const counts = {};
  v.pops.forEach(p => counts[p.step] = (counts[p.step] || 0) + 1);
  const legend = ["serving", "draining", "drained", "failing", "silent"].map(s => `<span>${badge(s)} ${counts[s] || 0}</span>`).join("");
  const svc = v.services.map(s => `<tr data-service="${esc(s.name)}"><td>${esc(s.name)}</td>
    <td class="${s.below ? "bad" : "ok"}">${s.announcing.length} / min ${s.min}</td>
    <td>${esc(s.announcing.join(", ") || "—")}</td>
    <td class="${s.held.length ? "warn" : ""}">${s.held.length ? "holding " + esc(s.held.join(", ")) : "—"}</td></tr>`).join("");
  const rows = v.pops.map(p => `<tr><td><a href="#/pop/${esc(p.name)}">${esc(p.name)}</a></td><td>${esc(p.city)}</td><td>${badge(p.step)}</td><td>${esc(p.why)}</td><td>${ago(p.reportedAt)}</td></tr>`).join("");
  return `<h1>Fleet</h1>
  <div class="grid"><div>
    <svg class="map" id="fleet-map" viewBox="0 5 360 150" role="img" aria-label="world map of PoPs">${worldSVG()}${pops}</svg>
    <p class="legend">${legend}</p>
  </div><div>
    <div class="card"><b>Services</b> <span class="muted">announcing PoPs against the minimum; budget holds</span>
    <table id="services"><tr><th>Service</th><th>PoPs</th><th>Announcing</th><th>Budget</th></tr>${svc}</table></div>
    <div class="card"><table id="pops"><tr><th>PoP</th><th>City</th><th>Step</th><th>Why</th><th>Report</th></tr>${rows}</table></div>
  </div></div>`;
}

function bindMap() {
  document.querySelectorAll("circle.pop").forEach(c => {
    const p = () => S.view.pops.find(x => x.name === c.dataset.pop);
    c.addEventListener("mousemove", ev => tip(popTip(p()), ev));
    c.addEventListener("mouseleave", () => tip(null));
    c.addEventListener("click", () => { tip(null); location.hash = "#/pop/" + c.dataset.pop; });
  });
}

function pagePop(v, name) {
  const p = v.pops.find(x => x.name === name);
  if (!p) return `<h1>PoP ${esc(name)}</h1><p class="error">No PoP named ${esc(name)}.</p>`;
  const can = S.session && S.session.caller.canDrain;
  let actions = "";
  if (can) {
    const out = p.drainStep !== "none" && p.draining;
    actions = `<div class="card" id="actions">
      ${out ? `<button id="undrain-btn" class="primary">Undrain ${esc(p.name)}</button>` : `<button id="drain-btn" class="danger">Drain ${esc(p.name)}…</button>`}
      ${S.confirm === p.name ? confirmPanel(v, p) : ""}
      ${S.message ? `<p id="action-msg" class="${S.message.ok ? "ok" : "error"}">${esc(S.message.text)}</p>` : ""}</div>`;
  }
  const sess = p.sessions.map(s => `<tr><td>${esc(s.address)}</td><td>AS${s.peerAsn}</td><td class="${s.state === "established" ? "ok" : "bad"}">${esc(s.state)}</td>
    <td>${s.upSince ? ago(s.upSince) : "—"}</td><td>${s.sent} / ${s.received}</td><td>${esc(s.lastProblem || "—")} ${s.lastProblemAt ? `<span class="muted">${ago(s.lastProblemAt)}</span>` : ""}</td></tr>`).join("");
  const pre = p.prefixes.map(x => `<tr><td><code>${esc(x.prefix)}</code></td><td>${esc(x.service)}</td><td class="${x.announced ? "ok" : "bad"}">${x.announced ? "announced" : "not announced"}</td><td>${esc(x.mode)}</td><td>${esc(x.reason)}</td></tr>`).join("");
  const chk = p.checks.map(c => `<tr><td>${esc(c.service)}</td><td class="${c.healthy ? "ok" : "bad"}">${c.healthy ? "healthy" : "unhealthy"}</td><td>${esc(c.lastResult)}</td><td>${c.streak}</td><td>${c.flaps}</td><td>${c.holdDownLeftSeconds > 0 ? c.holdDownLeftSeconds.toFixed(1) + "s" : "—"}</td></tr>`).join("");
  return `<h1>PoP ${esc(p.name)} ${badge(p.step)} <span id="pop-step" data-step="${esc(p.step)}" class="muted">${esc(p.city)}, ${esc(p.country)}</span></h1>
  <p>${esc(p.why)}. Drain step: <b id="drain-step">${esc(p.drainStep)}</b>${p.drainSince ? " since " + ago(p.drainSince) : ""}. Config revision ${p.configRevision} (desired ${v.revision}); agent ${esc(p.agentVersion || "—")}; report ${ago(p.reportedAt)}.</p>
  ${actions}
  <h2>Sessions</h2><table id="sessions"><tr><th>Peer</th><th>ASN</th><th>State</th><th>Up</th><th>Sent / received</th><th>Why down (last problem)</th></tr>${sess || `<tr><td colspan="6" class="muted">none reported</td></tr>`}</table>
  <h2>Prefixes</h2><table id="prefixes"><tr><th>Prefix</th><th>Service</th><th>State</th><th>Mode</th><th>Why</th></tr>${pre || `<tr><td colspan="5" class="muted">none reported</td></tr>`}</table>
  <h2>Checks</h2><table id="checks"><tr><th>Service</th><th>Health</th><th>Last result</th><th>Streak</th><th>Flaps</th><th>Hold-down left</th></tr>${chk || `<tr><td colspan="6" class="muted">none reported</td></tr>`}</table>`;
}

// confirmPanel says what a drain would do to each service's minimum; the
// controller checks the same guard and refuses unless forced.
function confirmPanel(v, p) {
  const hurt = v.services.filter(s => s.announcing.includes(p.name) && s.announcing.length - 1 < s.min);
  const warn = hurt.length ? `<p class="error">Below minimum after the drain: ${hurt.map(s => `${esc(s.name)} (${s.announcing.length - 1} of ${s.min})`).join(", ")}. The controller refuses unless forced.</p>` : `<p>Every service keeps its minimum of announcing PoPs.</p>`;
  return `<div class="card confirm" id="confirm"><p>Drain <b>${esc(p.name)}</b>: out of GSLB answers, then GRACEFUL_SHUTDOWN, then withdrawn.</p>${warn}
    <button id="confirm-drain" class="danger">Confirm drain</button> ${hurt.length || S.forceOffered ? `<button id="force-drain" class="danger">Force drain</button>` : ""} <button id="cancel-drain">Cancel</button></div>`;
}

async function act(path, body) {
  const r = await fetch(path, {method: "POST", headers: {"Content-Type": "application/json", "X-Anyctl-CSRF": S.session.csrf}, body: JSON.stringify(body || {})});
  let j = {}; try { j = await r.json(); } catch (e) {}
  return {ok: r.ok, status: r.status, error: j.error};
}

function bindPop(name) {
  const on = (id, f) => { const b = $("#" + id); if (b) b.addEventListener("click", f); };
  on("drain-btn", () => { S.confirm = name; S.message = null; S.forceOffered = false; render(); });
  on("cancel-drain", () => { S.confirm = null; render(); });
  const drain = force => async () => {
    const r = await act(`/api/pops/${encodeURIComponent(name)}/drain`, {force});
    if (r.ok) { S.confirm = null; S.message = {ok: true, text: `Drain of ${name} started.`}; }
    else { S.message = {ok: false, text: r.error || ("HTTP " + r.status)}; S.forceOffered = r.status === 409; }
    render();
  };
  on("confirm-drain", drain(false));
  on("force-drain", drain(true));
  on("undrain-btn", async () => {
    const r = await act(`/api/pops/${encodeURIComponent(name)}/undrain`);
    S.message = r.ok ? {ok: true, text: `Undrain of ${name} started.`} : {ok: false, text: r.error || ("HTTP " + r.status)};
    render();
  });
}

function pageOrigins(v) {
  const head = v.origins.map(o => `<th>${esc(o.name)}</th>`).join("");
  const rows = v.pops.map(p => `<tr><td><a href="#/pop/${esc(p.name)}">${esc(p.name)}</a></td>${v.origins.map(o => {
    const r = p.probes.find(x => x.origin === o.name);
    if (!r) return `<td class="muted">no probe</td>`;
    return `<td class="${r.healthy ? "ok" : "bad"}" data-pop="${esc(p.name)}" data-origin="${esc(o.name)}">${r.healthy ? "✓ up" : "✗ down"} ${r.rttMs ? r.rttMs.toFixed(1) + " ms" : ""}<br><span class="muted">${esc(r.lastResult)}</span></td>`;
  }).join("")}</tr>`).join("");
  const verdicts = v.origins.map(o => `<tr><td>${esc(o.name)}</td><td>${esc(o.city)}</td><td class="${o.healthy ? "ok" : "bad"}"><b>${o.healthy ? "healthy" : "down"}</b></td><td>${esc(o.reason)}</td><td>${o.weight}</td><td>${o.dial}%</td><td>${esc(o.addresses.join(" "))}</td></tr>`).join("");
  return `<h1>Origins</h1><p class="muted">Each PoP's probes of each origin; the fleet's verdict is a quorum of the PoPs that report.</p>
  <table id="matrix"><tr><th>PoP \\ origin</th>${head}</tr>${rows}</table>
  <h2>Quorum verdict, dial and weight</h2>
  <table id="verdicts"><tr><th>Origin</th><th>City</th><th>Verdict</th><th>Why</th><th>Weight</th><th>Traffic dial</th><th>Addresses</th></tr>${verdicts}</table>`;
}

function originColors(v) {
  const names = v.origins.map(o => o.name).concat(v.pops.map(p => p.name));
  const m = {}; names.forEach((n, i) => m[n] = PALETTE[i % PALETTE.length]); return m;
}

function pageGslb(v) {
  if (!v.records.length) return `<h1>GSLB</h1><p class="muted">No GslbRecord is applied.</p>`;
  const cur = S.gslbFor || (v.records[0].name + "/" + v.records[0].type);
  const opts = v.records.map(r => { const k = r.name + "/" + r.type; return `<option value="${esc(k)}"${k === cur ? " selected" : ""}>${esc(r.name)} ${esc(r.type)} (${esc(r.record)}, ${esc(r.policy)})</option>`; }).join("");
  const colors = originColors(v);
  const g = S.gslb && S.gslb.key === cur ? S.gslb.data : null;
  let map = "", table = "", legend = "";
  if (g) {
    const by = {}; g.regions.forEach(r => by[r.id] = r);
    const pick = r => r && r.chosen && r.chosen.length ? {origin: r.chosen.join("+"), color: colors[r.chosen[0]] || "#999"} : {origin: r ? r.rcode : "", color: "#c9ced4"};
    map = worldSVG(s => pick(by[s.c] || by[s.r]));
    map += g.regions.filter(r => r.kind === "country").map(r => { const f = pick(r); return `<circle cx="${X(r.lon)}" cy="${Y(r.lat)}" r="1.8" fill="${f.color}" stroke="#fff" stroke-width=".4" data-country="${esc(r.id)}"/>`; }).join("");
    map += v.origins.map(o => `<rect class="origin" x="${X(o.lon) - 1.5}" y="${Y(o.lat) - 1.5}" width="3" height="3"/><text x="${X(o.lon) + 2.5}" y="${Y(o.lat) - 1.5}">${esc(o.name)}</text>`).join("");
    legend = Object.keys(colors).filter(n => g.regions.some(r => (r.chosen || []).includes(n))).map(n => `<span><svg width="10" height="10"><circle cx="5" cy="5" r="5" fill="${colors[n]}"/></svg> ${esc(n)}</span>`).join("");
    table = g.regions.map(r => `<tr data-region="${esc(r.id)}"><td>${esc(r.label)}</td><td><b>${esc((r.chosen || []).join(", ") || "—")}</b></td><td>${esc(r.rcode)}</td><td><code>${esc((r.answer || []).join(" | "))}</code></td><td class="muted" title="${esc((r.excluded || []).join("; "))}">${esc((r.excluded || []).map(x => x.split(":")[0]).join(", ") || "—")}</td></tr>`).join("");
  }
  const ex = S.explain;
  return `<h1>GSLB</h1>
  <p><label>Record <select id="record">${opts}</select></label> <span class="muted">what the DNS server's code answers now for a client in each region (revision ${g ? g.revision : "…"})</span></p>
  <div class="grid"><div><svg class="map" id="gslb-map" viewBox="0 5 360 150">${map || worldSVG()}</svg><p class="legend">${legend}</p></div>
  <div class="card"><table id="regions"><tr><th>Clients in</th><th>Get</th><th>Rcode</th><th>Answer</th><th>Excluded</th></tr>${table}</table></div></div>
  <h2>Explain</h2>
  <form class="explain" id="explain-form">
   <label>Name <input name="name" size="32" value="${esc(ex ? ex.q.name : v.records[0].name)}"></label>
   <label>Type <input name="type" size="5" value="${esc(ex ? ex.q.type : "A")}"></label>
   <label>Client (IP or IP/LEN) <input name="client" size="22" value="${esc(ex ? ex.q.client : "198.51.100.7")}"></label>
   <label>Default location (LAT,LON[,CC[,CONT]]) <input name="location" size="26" value="${esc(ex ? ex.q.location : "50.1109,8.6821,DE,EU")}"></label>
   <button class="primary">Explain</button></form>
  <div id="explain-out">${ex ? explainHTML(ex) : ""}</div>`;
}

function explainHTML(ex) {
  if (ex.error) return `<p class="error">${esc(ex.error)}</p>`;
  const e = ex.r.explanation, L = e.Located || {};
  const loc = L.Location || {};
  const cands = (e.Candidates || []).slice().sort((a, b) => (a.Rank || 99) - (b.Rank || 99)).map(c => `<tr><td>${c.Rank || "—"}</td><td>${esc(c.Name)}</td><td>${esc(c.Kind)}</td><td class="${c.Healthy ? "ok" : "bad"}">${c.Healthy ? "healthy" : "down"}</td><td>${c.DistanceKm.toFixed(0)} km</td><td>${esc((c.Addresses || []).join(" "))}</td><td>${c.Answered ? "<b>answered</b>" : esc(c.Excluded || c.Note || "")}</td></tr>`).join("");
  return `<div class="card"><table>
   <tr><th>Query</th><td>${esc(e.Name)} ${esc(e.Type)}</td></tr>
   <tr><th>Client</th><td>${esc(e.Client)}</td></tr>
   <tr><th>Zone / record</th><td>${esc(e.Zone || "none: the name is in no zone served")} ${e.Record ? `/ GslbRecord ${esc(e.Record)}, policy ${esc(e.Policy)}` : ""}</td></tr>
   <tr><th>Located</th><td>${esc(L.Source)}${L.Pop ? " (PoP " + esc(L.Pop) + ")" : ""}: ${esc([loc.City, loc.Country, loc.Continent].filter(Boolean).join(", "))} (${(loc.Latitude || 0).toFixed(2)}, ${(loc.Longitude || 0).toFixed(2)})</td></tr>
   <tr><th>Rcode</th><td id="explain-rcode">${esc(e.Rcode)}</td></tr>
   <tr><th>Answer</th><td id="explain-answer"><code>${esc((e.Answer || []).join("\n")) || "—"}</code></td></tr>
   <tr><th>TTL / ECS scope</th><td>${e.TTL}s / /${e.Scope}</td></tr></table>
   ${cands ? `<h2>Candidates</h2><table><tr><th>Rank</th><th>Candidate</th><th>Kind</th><th>Health</th><th>Distance</th><th>Addresses</th><th>Outcome</th></tr>${cands}</table>` : ""}
   ${(e.Notes || []).length ? `<h2>Notes</h2><ul>${e.Notes.map(n => `<li>${esc(n)}</li>`).join("")}</ul>` : ""}</div>`;
}

function bindGslb(v) {
  const sel = $("#record");
  if (sel) sel.addEventListener("change", () => { S.gslbFor = sel.value; loadGslb(v, true); });
  const f = $("#explain-form");
  if (f) f.addEventListener("submit", async ev => {
    ev.preventDefault();
    const q = Object.fromEntries(new FormData(f));
    const r = await fetch("/api/explain?" + new URLSearchParams(q));
    const j = await r.json();
    S.explain = r.ok ? {q, r: j} : {q, error: j.error};
    render();
  });
  loadGslb(v, false);
}

async function loadGslb(v, force) {
  if (!v.records.length) return;
  const cur = S.gslbFor || (v.records[0].name + "/" + v.records[0].type);
  if (!force && S.gslb && S.gslb.key === cur && S.gslb.data.gslbKey === v.gslbKey) return;
  const [name, type] = cur.split("/");
  const r = await fetch(`/api/gslb?name=${encodeURIComponent(name)}&type=${encodeURIComponent(type)}`);
  if (!r.ok) return;
  S.gslb = {key: cur, data: await r.json()};
  if (route().page === "gslb") render();
}

function pageEvents(v) {
  const items = v.events.slice().reverse().map(e => `<li data-kind="${esc(e.kind)}"><span class="muted">${new Date(e.at).toLocaleTimeString()}</span> <span class="kind">${esc(e.kind)}</span> ${esc(e.text)}</li>`).join("");
  return `<h1>Events</h1><p class="muted">Health transitions, withdrawals, drain steps, budget holds, applies and console actions, newest first, as this controller saw them since it started.</p>
  <ul class="events" id="events">${items || `<li class="muted">Nothing has happened yet.</li>`}</ul>`;
}

// ---- routing and rendering ----
function route() {
  const h = location.hash.replace(/^#\/?/, "").split("/");
  return {page: h[0] || "map", arg: decodeURIComponent(h[1] || "")};
}

function render() {
  const v = S.view;
  if (!v) return;
  const {page, arg} = route();
  document.querySelectorAll("nav a").forEach(a => a.classList.toggle("on", a.dataset.page === page));
  $("#pop-links").innerHTML = v.pops.map(p => `<a href="#/pop/${esc(p.name)}">${esc(p.name)}</a>`).join("");
  const main = $("#main");
  const focus = document.activeElement && document.activeElement.name;
  if (page === "pop") { main.innerHTML = pagePop(v, arg); bindPop(arg); }
  else if (page === "origins") main.innerHTML = pageOrigins(v);
  else if (page === "gslb") { main.innerHTML = pageGslb(v); bindGslb(v); }
  else if (page === "events") main.innerHTML = pageEvents(v);
  else { main.innerHTML = pageMap(v); bindMap(); }
  if (focus) { const el = main.querySelector(`[name="${focus}"]`); if (el) el.focus(); }
}

async function start() {
  const r = await fetch("/api/session");
  const j = await r.json();
  if (!r.ok) { $("#main").innerHTML = `<p class="error">${esc(j.error)}</p>`; return; }
  S.session = j;
  $("#who").textContent = `${j.caller.name} (${j.caller.role})`;
  const es = new EventSource("/api/stream");
  const live = $("#live");
  es.onopen = () => { live.textContent = "live"; live.classList.remove("off"); };
  es.onerror = () => { live.textContent = "reconnecting"; live.classList.add("off"); };
  es.addEventListener("view", ev => {
    S.view = JSON.parse(ev.data);
    S.receivedAt = Date.now();
    // Keep typing undisturbed on the GSLB page: re-render it only when
    // what it shows may have changed.
    if (route().page === "gslb" && document.activeElement && document.activeElement.tagName === "INPUT") { loadGslb(S.view, false); return; }
    render();
  });
  addEventListener("hashchange", () => { S.confirm = null; S.message = null; render(); });
}
start();
