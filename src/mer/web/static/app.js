/* mer dashboard: what every page shares — the API key (typed by the person, kept in sessionStorage only),
   the reviewer's name, JSON calls with the key, feedback, and a polite status message. */
"use strict";
(function () {
  const KEY = "mer.apiKey", WHO = "mer.reviewer";
  const body = document.body;
  const keyRequired = body.dataset.keyRequired === "true";
  const MOODS = ["happy", "sad", "angry", "relax"];

  function apiKey() { try { return sessionStorage.getItem(KEY) || ""; } catch (e) { return ""; } }
  function reviewer() { try { return localStorage.getItem(WHO) || ""; } catch (e) { return ""; } }
  function source() { const who = reviewer().trim(); return who ? "web:" + who : "web"; }

  let toastTimer = null;
  function toast(message, bad) {
    const el = document.getElementById("toast");
    if (!el) return;
    el.textContent = message;
    el.classList.toggle("bad", !!bad);
    el.classList.add("show");
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => el.classList.remove("show"), bad ? 6000 : 2500);
  }

  function headers(extra) {
    const h = Object.assign({}, extra || {});
    const key = apiKey();
    if (key) h["X-API-Key"] = key;
    return h;
  }

  function askForKey() {
    const box = document.getElementById("keybox");
    if (box) { box.open = true; const input = document.getElementById("api-key"); if (input) input.focus(); }
  }

  async function detail(response) {
    try { const j = await response.json(); return j.detail || response.statusText; }
    catch (e) { return response.statusText || ("HTTP " + response.status); }
  }

  /* JSON call to the API; throws Error(detail) on a non-2xx answer (401 opens the key box). */
  async function api(path, options) {
    const opts = Object.assign({}, options || {});
    opts.headers = headers(opts.headers);
    if (opts.json !== undefined) {
      opts.body = JSON.stringify(opts.json);
      opts.headers["Content-Type"] = "application/json";
      delete opts.json;
    }
    const r = await fetch(path, opts);
    if (!r.ok) {
      const why = await detail(r);
      if (r.status === 401) askForKey();
      const err = new Error(r.status === 401 ? "This server needs its API key: enter it under “API key” at the top. (" + why + ")" : why);
      err.status = r.status;
      throw err;
    }
    return r.status === 204 ? null : r.json();
  }

  async function feedback(trackId, windowId, label) {
    const payload = { track_id: Number(trackId), label: label, source: source() };
    if (windowId) payload.window_id = Number(windowId);
    return api("/v1/feedback", { method: "POST", json: payload });
  }

  function updateKeyState() {
    const state = document.getElementById("key-state");
    if (!state) return;
    const who = reviewer();
    if (keyRequired) state.textContent = apiKey() ? "API key set" + (who ? " · " + who : "") : "API key needed to write";
    else state.textContent = who ? "Reviewer: " + who : "Who are you?";
  }

  function initKeyForm() {
    const form = document.getElementById("key-form");
    if (!form) return;
    const name = document.getElementById("reviewer");
    if (name) name.value = reviewer();
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const input = document.getElementById("api-key");
      try {
        if (input && input.value) sessionStorage.setItem(KEY, input.value);
        if (name) localStorage.setItem(WHO, name.value.trim());
      } catch (e) { /* storage refused: the key lives for this page only */ }
      if (input) input.value = "";
      updateKeyState();
      document.getElementById("keybox").open = false;
      toast("Saved for this tab");
    });
    const forget = document.getElementById("key-forget");
    if (forget) forget.addEventListener("click", () => {
      try { sessionStorage.removeItem(KEY); } catch (e) { /* nothing stored */ }
      updateKeyState();
      toast("API key forgotten");
    });
    updateKeyState();
  }

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "text") node.textContent = v;
      else if (k === "class") node.className = v;
      else node.setAttribute(k, v === true ? "" : v);
    }
    for (const child of [].concat(children || [])) {
      if (child !== null && child !== undefined) node.append(child);
    }
    return node;
  }

  function pct(x) { return x === null || x === undefined ? "—" : Math.round(x * 100) + " %"; }
  function clock(s) {
    if (s === null || s === undefined || !isFinite(s)) return "—";
    s = Math.round(s);
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    return (h ? h + ":" + String(m).padStart(2, "0") : m) + ":" + String(sec).padStart(2, "0");
  }

  window.MER = { MOODS, apiKey, api, feedback, toast, source, el, pct, clock, keyRequired, askForKey };
  document.addEventListener("DOMContentLoaded", initKeyForm);
})();
