/* Analyse a track: upload (drag-and-drop or file chooser) with progress → waveform (decoded in the browser),
   emotion timeline (per-window probabilities, inline SVG), verdict, valence/arousal, notes, feedback. */
"use strict";
(function () {
  const M = window.MER;
  const { el, pct, clock, MOODS } = M;
  const SVGNS = "http://www.w3.org/2000/svg";
  const COLOURS = { happy: "#E69F00", sad: "#0072B2", angry: "#D55E00", relax: "#009E73" };
  // about 0.3 CPU-s of feature extraction per 30-s window plus decoding; the estimate errs long, then learns this
  // server's own pace from each analysis (kept in localStorage: a speed, nothing private)
  const SECONDS_FIXED = 1.5, PACE_KEY = "mer.secondsPerWindow";
  function pace() {
    try { const v = Number(localStorage.getItem(PACE_KEY)); return v > 0 && v < 60 ? v : 0.6; } catch (e) { return 0.6; }
  }
  function learnPace(seconds, windows) {
    if (!(windows > 0) || !(seconds > 0)) return;
    const measured = Math.max(0.05, (seconds - SECONDS_FIXED) / windows);
    try { localStorage.setItem(PACE_KEY, String(0.5 * pace() + 0.5 * measured)); } catch (e) { /* no storage */ }
  }
  const $ = (id) => document.getElementById(id);
  let view = null;          // what is drawn: the upload response (plus window ids) or a stored track
  let peaks = null;         // [min, max] pairs per pixel column, once the browser has decoded the audio

  function svg(tag, attrs, children) {
    const node = document.createElementNS(SVGNS, tag);
    for (const [k, v] of Object.entries(attrs || {})) if (v !== null && v !== undefined) node.setAttribute(k, v);
    for (const c of [].concat(children || [])) if (c) node.append(c);
    return node;
  }

  /* ---------------------------------------------------------------------------------------- upload -- */
  function initUpload() {
    const zone = $("dropzone"), input = $("file-input");
    if (!zone) return;
    const choose = () => {
      if (input.showPicker) { try { input.showPicker(); return; } catch (e) { /* fall back to a click */ } }
      input.click();
    };
    zone.addEventListener("click", (ev) => { if (ev.target.tagName !== "LABEL" && ev.target !== input) choose(); });
    zone.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); choose(); }
    });
    ["dragenter", "dragover"].forEach((t) => zone.addEventListener(t, (ev) => {
      ev.preventDefault(); zone.classList.add("over");
    }));
    ["dragleave", "drop"].forEach((t) => zone.addEventListener(t, () => zone.classList.remove("over")));
    zone.addEventListener("drop", (ev) => {
      ev.preventDefault();
      const file = ev.dataTransfer && ev.dataTransfer.files[0];
      if (file) analyse(file);
    });
    input.addEventListener("change", () => { if (input.files[0]) analyse(input.files[0]); input.value = ""; });
  }

  function showError(message) {
    const box = $("upload-error");
    box.textContent = message;
    box.hidden = !message;
  }

  function setProgress(label, value, detail) {
    $("progress").hidden = false;
    $("progress-label").textContent = label;
    const bar = $("progress-bar");
    if (value === null) bar.removeAttribute("value"); else bar.value = value;
    $("progress-detail").textContent = detail || "";
  }

  async function analyse(file) {
    showError("");
    $("result").hidden = true;
    peaks = null;
    view = null;
    const player = $("player");
    if (player.dataset.url) URL.revokeObjectURL(player.dataset.url);
    player.dataset.url = URL.createObjectURL(file);
    player.src = player.dataset.url;
    player.hidden = false;
    const decoded = decodeForWaveform(file);   // in parallel with the upload
    let audioSeconds = null;
    decoded.then((d) => { if (d) audioSeconds = d.duration; });
    setProgress("Uploading " + file.name + "…", 0, "");
    document.body.setAttribute("aria-busy", "true");
    try {
      const result = await upload(file, () => audioSeconds);
      setProgress("Drawing…", 100, "");
      result.windows.forEach((w) => { if (w.window_id) w.id = w.window_id; });
      // the same audio uploaded again is the same catalog track: show the feedback it already has
      const stored = await M.api("/v1/tracks/" + result.track_id).catch(() => null);
      if (stored) {
        result.windows.forEach((w, i) => { if (!w.id && stored.windows[i]) w.id = stored.windows[i].id; });
        result.feedback = (stored.feedback || []).map((f) => ({ label: f.label, window_id: f.window_id }));
      }
      view = result;
      const d = await decoded;
      if (d) peaks = d;
      render();
      $("progress").hidden = true;
      M.toast("Analysed " + file.name + ": " + (result.track.label || "no mood") + ", " + result.track.decision);
      $("verdict-title").focus({ preventScroll: true });
    } catch (err) {
      $("progress").hidden = true;
      showError(err.message || String(err));
    } finally {
      document.body.removeAttribute("aria-busy");
    }
  }

  /* XMLHttpRequest, not fetch: it reports upload progress. While the server works, the bar follows an estimate
     from the track's length (the browser decodes it meanwhile) and the elapsed time is shown. */
  function upload(file, audioSeconds) {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open("POST", "/v1/predict/audio");
      const key = M.apiKey();
      if (key) xhr.setRequestHeader("X-API-Key", key);
      xhr.responseType = "json";
      let started = null, timer = null;
      xhr.upload.onprogress = (ev) => {
        if (ev.lengthComputable) {
          const p = Math.round(100 * ev.loaded / ev.total);
          setProgress("Uploading " + file.name + ": " + p + " %", p,
                      (ev.loaded / 1048576).toFixed(1) + " of " + (ev.total / 1048576).toFixed(1) + " MB");
        }
      };
      xhr.upload.onload = () => {
        started = performance.now();
        const tick = () => {
          const elapsed = (performance.now() - started) / 1000;
          const secs = audioSeconds();
          if (secs) {
            const windows = Math.max(1, Math.ceil(secs / 30));
            const estimate = SECONDS_FIXED + windows * pace();
            const p = Math.min(95, Math.round(100 * elapsed / estimate));
            const left = Math.max(0, estimate - elapsed);
            setProgress("Analysing " + windows + " window" + (windows > 1 ? "s" : "") + " of 30 s: " + p + " % (estimate)",
                        p, elapsed.toFixed(0) + " s elapsed" + (left > 0.5 ? ", about " + left.toFixed(0) + " s left"
                        : ", finishing") + " · track length " + clock(secs));
          } else {
            setProgress("Analysing…", null, elapsed.toFixed(0) + " s elapsed");
          }
        };
        tick();
        timer = setInterval(tick, 250);
      };
      xhr.onload = () => {
        clearInterval(timer);
        if (xhr.status === 200) {
          if (started !== null && xhr.response) learnPace((performance.now() - started) / 1000, xhr.response.windows.length);
          resolve(xhr.response);
          return;
        }
        const why = (xhr.response && xhr.response.detail) || ("HTTP " + xhr.status);
        if (xhr.status === 401) { M.askForKey(); reject(new Error("This server needs its API key: enter it under “API key” at the top, then drop the file again. (" + why + ")")); return; }
        reject(new Error(xhr.status === 413 ? "Too large: " + why : xhr.status === 422 ? "Cannot analyse this file: " + why : why));
      };
      xhr.onerror = () => { clearInterval(timer); reject(new Error("The upload failed: the server could not be reached.")); };
      const form = new FormData();
      form.append("file", file, file.name);
      xhr.send(form);
    });
  }

  /* ------------------------------------------------------------------------------------- waveform -- */
  async function decodeForWaveform(source) {
    try {
      const buffer = source instanceof Blob ? await source.arrayBuffer() : source;
      const rate = buffer.byteLength > 20 * 1048576 ? 3000 : 8000;  // an envelope needs little; memory stays small
      const ctx = new OfflineAudioContext(1, 1, rate);
      const audio = await ctx.decodeAudioData(buffer);
      return { duration: audio.duration, channels: [...Array(audio.numberOfChannels).keys()].map((c) => audio.getChannelData(c)) };
    } catch (e) {
      return null;   // a format the browser cannot decode: the server may still can
    }
  }

  function drawWaveform() {
    const canvas = $("waveform"), note = $("wave-note");
    const width = Math.max(300, Math.floor(canvas.clientWidth || 800)), height = 110;
    const ratio = window.devicePixelRatio || 1;
    canvas.width = width * ratio; canvas.height = height * ratio;
    const g = canvas.getContext("2d");
    g.setTransform(ratio, 0, 0, ratio, 0, 0);
    g.clearRect(0, 0, width, height);
    if (!peaks) {
      canvas.hidden = true;
      note.textContent = $("track-data") && !view.audio_url
        ? "The audio is not on this server (uploads are scored, not kept), so there is no waveform here."
        : "This browser could not decode the file, so there is no waveform (the analysis is unaffected).";
      return;
    }
    canvas.hidden = false;
    note.textContent = "";
    const data = peaks.channels, n = data[0].length, duration = view ? view.duration_s : peaks.duration;
    const span = Math.min(1, peaks.duration / (duration || peaks.duration));
    const cols = Math.max(1, Math.floor(width * span)), per = n / cols;
    // window boundaries, faintly
    g.fillStyle = "#eef1f4";
    (view ? view.windows : []).forEach((w, i) => { if (i % 2) g.fillRect(w.start_s / duration * width, 0, (w.end_s - w.start_s) / duration * width, height); });
    g.fillStyle = "#3b4754";
    const mid = height / 2;
    for (let x = 0; x < cols; x++) {
      let lo = 0, hi = 0;
      const a = Math.floor(x * per), b = Math.min(n, Math.floor((x + 1) * per));
      for (const ch of data) for (let i = a; i < b; i++) { const v = ch[i]; if (v < lo) lo = v; else if (v > hi) hi = v; }
      const top = mid - hi * mid * 0.95, bottom = mid - lo * mid * 0.95;
      g.fillRect(x, top, 1, Math.max(1, bottom - top));
    }
    canvas.setAttribute("aria-label", "Waveform of " + (view ? view.file : "the track") + ", " + clock(peaks.duration));
  }

  /* ------------------------------------------------------------------------------------- timeline -- */
  function patterns() {
    const defs = svg("defs");
    const add = (id, w, h, children) => defs.append(svg("pattern", { id, width: w, height: h, patternUnits: "userSpaceOnUse" }, children));
    add("pat-happy", 6, 6, [svg("rect", { width: 6, height: 6, fill: COLOURS.happy })]);
    add("pat-sad", 8, 8, [svg("rect", { width: 8, height: 8, fill: COLOURS.sad }),
      svg("path", { d: "M-2,2 l4,-4 M0,8 l8,-8 M6,10 l4,-4", stroke: "rgba(255,255,255,.45)", "stroke-width": 2 })]);
    add("pat-angry", 6, 6, [svg("rect", { width: 6, height: 6, fill: COLOURS.angry }),
      svg("rect", { y: 0, width: 6, height: 2, fill: "rgba(0,0,0,.22)" })]);
    add("pat-relax", 6, 6, [svg("rect", { width: 6, height: 6, fill: COLOURS.relax }),
      svg("circle", { cx: 3, cy: 3, r: 1.4, fill: "rgba(255,255,255,.55)" })]);
    add("pat-unscorable", 6, 6, [svg("rect", { width: 6, height: 6, fill: "#e6e9ec" }),
      svg("path", { d: "M-1,1 l2,-2 M0,6 l6,-6 M5,7 l2,-2", stroke: "#aab3bc", "stroke-width": 2 })]);
    return defs;
  }

  function drawTimeline() {
    const box = $("timeline");
    box.textContent = "";
    const W = Math.max(320, Math.round(box.clientWidth || 1000)), H = 200, top = 8, bottom = 28, left = 34, right = 6, plotH = H - top - bottom, plotW = W - left - right;
    const duration = view.duration_s || (view.windows.length ? view.windows[view.windows.length - 1].end_s : 1);
    const x = (t) => left + (t / duration) * plotW;
    const y = (p) => top + (1 - p) * plotH;
    const root = svg("svg", { viewBox: "0 0 " + W + " " + H, role: "img", "aria-labelledby": "timeline-title timeline-desc" });
    const summary = view.windows.map((w) => clock(w.start_s) + " " + (w.decision === "unscorable" ? "cannot be judged" : w.label + " " + pct(w.confidence))).join("; ");
    root.append(svg("desc", { id: "timeline-desc" }, [document.createTextNode(summary.slice(0, 2000))]));
    root.append(patterns());
    // axes: probability 0..1 and time
    [0, 0.25, 0.5, 0.75, 1].forEach((p) => {
      root.append(svg("line", { x1: left, x2: W - right, y1: y(p), y2: y(p), stroke: "#d0d7de", "stroke-width": 1 }));
      const t = svg("text", { x: left - 4, y: y(p) + 4, "text-anchor": "end", "font-size": 11, fill: "#59636e" });
      t.textContent = Math.round(p * 100) + "%";
      root.append(t);
    });
    const ticks = Math.max(2, Math.floor(plotW / 80));
    const step = [30, 60, 120, 300, 600, 900, 1800].find((s) => duration / s <= ticks) || 3600;
    for (let t = 0; t <= duration + 1e-6; t += step) {
      const anchor = t === 0 ? "start" : x(t) > W - right - 20 ? "end" : "middle";
      const label = svg("text", { x: x(t), y: H - 10, "text-anchor": anchor, "font-size": 11, fill: "#59636e" });
      label.textContent = clock(t);
      root.append(label);
    }
    view.windows.forEach((w, i) => {
      const g = svg("g", { class: "win", "data-index": i });
      const x0 = x(w.start_s), wd = Math.max(1, x(w.end_s) - x0 - (view.windows.length > 1 ? 1 : 0));
      const title = svg("title");
      if (w.decision === "unscorable" || !w.probabilities) {
        g.append(svg("rect", { x: x0, y: y(1), width: wd, height: plotH, fill: "url(#pat-unscorable)" }));
        title.textContent = clock(w.start_s) + "–" + clock(w.end_s) + ": cannot be judged" + (w.reason ? " (" + w.reason + ")" : "");
      } else {
        let acc = 0;
        MOODS.forEach((m) => {
          const p = w.probabilities[m] || 0;
          if (p > 0) g.append(svg("rect", { x: x0, y: y(acc + p), width: wd, height: p * plotH, fill: "url(#pat-" + m + ")", class: "seg-" + m }));
          acc += p;
        });
        title.textContent = clock(w.start_s) + "–" + clock(w.end_s) + ": " + MOODS.map((m) => m + " " + pct(w.probabilities[m])).join(", ") + " → " + w.label + " (" + w.decision + ")";
        if (wd > 44) {
          const t = svg("text", { x: x0 + wd / 2, y: top + 14, "text-anchor": "middle", "font-size": 12, "font-weight": 700, fill: "#111", stroke: "#fff", "stroke-width": 3, "paint-order": "stroke" });
          t.textContent = w.label;
          g.append(t);
        }
      }
      g.append(title);
      root.append(g);
    });
    // the accept threshold, when known
    if (view.threshold) root.append(svg("line", { x1: left, x2: W - right, y1: y(view.threshold), y2: y(view.threshold), stroke: "#24292f", "stroke-dasharray": "6 4", "stroke-width": 1 }));
    box.append(root);
  }

  /* -------------------------------------------------------------------------------------- verdict -- */
  function moodChip(label, big) {
    return label ? el("span", { class: "chip mood-" + label + (big ? " big" : ""), text: label }) : el("span", { class: "chip none" + (big ? " big" : ""), text: "no mood" });
  }
  function badge(decision) { return el("span", { class: "badge decision-" + decision, text: decision }); }
  function signed(v) { return v === null || v === undefined ? "—" : (v >= 0 ? "+" : "") + v.toFixed(2); }

  function drawVerdict() {
    const t = view.track, box = $("verdict");
    box.textContent = "";
    if (t.decision === "unscorable") {
      box.append(el("div", { class: "verdict-main" }, [
        el("span", { class: "chip none big", text: "cannot be judged" }), badge(t.decision)]));
      if (t.label) box.append(el("p", { class: "muted small", text: "The model's untrusted guess: " + t.label + " " + pct(t.confidence) + "." }));
    } else {
      box.append(el("div", { class: "verdict-main" }, [
        moodChip(t.label, true), el("span", { class: "conf", text: pct(t.confidence) + " confident" }), badge(t.decision)]));
    }
    if (t.reason) box.append(el("p", { class: "reason", id: "verdict-reason", text: "Why: " + t.reason }));
    const facts = el("dl", { class: "facts" });
    const fact = (k, v) => { facts.append(el("dt", { text: k }), el("dd", { text: v })); };
    fact("File", view.file);
    fact("Length", clock(view.duration_s) + " · " + view.windows.length + " window" + (view.windows.length === 1 ? "" : "s"));
    if (t.top2 && t.top2.length) fact("Top two", t.top2.join(", "));
    if (t.scorable_share !== undefined && t.scorable_share !== null) fact("Can be judged", pct(t.scorable_share) + " of the time");
    if (view.model) fact("Model", (view.model.name || "?") + " v" + (view.model.version || "?") + (view.model.alias ? " (" + view.model.alias + ")" : ""));
    if (view.aggregate_method) fact("Windows combined by", view.aggregate_method);
    box.append(facts);
    if (t.probabilities) {
      const list = el("ul", { class: "shares", "aria-label": "Track probabilities" });
      MOODS.forEach((m) => {
        const p = t.probabilities[m];
        const share = t.shares && t.scorable_share ? " · " + pct(t.shares[m]) + " of the time" : "";
        list.append(el("li", {}, [el("span", { class: "bar", "aria-hidden": "true" }, [el("span", { class: "fill mood-" + m, style: "width:" + (100 * p).toFixed(1) + "%" })]),
          el("span", { text: m + " " + pct(p) + share })]));
      });
      box.append(list);
    }
    const fb = $("track-feedback");
    fb.textContent = "";
    const given = (view.feedback || []).filter((f) => !f.window_id).map((f) => f.label);
    MOODS.forEach((m) => {
      const b = el("button", { type: "button", class: "mood-btn mood-" + m, "data-label": m, "aria-pressed": String(given[given.length - 1] === m), text: m });
      b.addEventListener("click", () => sendFeedback(b, null, m, $("track-feedback-note")));
      fb.append(b);
    });
    $("track-feedback-note").textContent = given.length ? "Labelled so far: " + given.join(", ") : "";
  }

  function drawVA() {
    const box = $("va");
    box.textContent = "";
    box.className = "va";
    const t = view.track;
    if (t.valence === undefined || t.valence === null || t.decision === "unscorable") {
      box.append(el("p", { class: "muted", text: t.decision === "unscorable" ? "Not available: the track cannot be judged." : "Not given by this server's model version." }));
      return;
    }
    const S = 220, c = S / 2, r = S / 2 - 18;
    const px = (v) => c + v * r, py = (a) => c - a * r;
    const root = svg("svg", { viewBox: "0 0 " + S + " " + S, role: "img", "aria-label": "Valence " + signed(t.valence) + ", arousal " + signed(t.arousal) });
    const quads = [["angry", -1, 1], ["happy", 1, 1], ["sad", -1, -1], ["relax", 1, -1]];
    quads.forEach(([m, v, a]) => {
      root.append(svg("rect", { x: v < 0 ? c - r : c, y: a > 0 ? c - r : c, width: r, height: r, fill: COLOURS[m], "fill-opacity": 0.12 }));
      const label = svg("text", { x: c + v * r * 0.55, y: c - a * r * 0.82, "text-anchor": "middle", "font-size": 12, fill: "#24292f" });
      label.textContent = m;
      root.append(label);
    });
    root.append(svg("line", { x1: c - r, x2: c + r, y1: c, y2: c, stroke: "#8c959f" }), svg("line", { x1: c, x2: c, y1: c - r, y2: c + r, stroke: "#8c959f" }));
    const axis = (text, xx, yy, anchor) => { const n = svg("text", { x: xx, y: yy, "text-anchor": anchor, "font-size": 10, fill: "#59636e" }); n.textContent = text; root.append(n); };
    axis("valence →", c + r, c + 13, "end"); axis("arousal ↑", c + 4, c - r - 4, "start");
    view.windows.forEach((w) => {
      if (w.valence !== null && w.valence !== undefined && w.decision !== "unscorable")
        root.append(svg("circle", { cx: px(w.valence), cy: py(w.arousal), r: 3, fill: "#59636e", "fill-opacity": 0.5 }));
    });
    root.append(svg("circle", { cx: px(t.valence), cy: py(t.arousal), r: 7, fill: t.label ? COLOURS[t.label] : "#6e7781", stroke: "#111", "stroke-width": 2 }));
    box.append(root);
    box.append(el("p", { class: "muted small", text: "Track: valence " + signed(t.valence) + ", arousal " + signed(t.arousal) + (view.windows.length > 1 ? " · grey dots: windows" : "") }));
  }

  function drawNotes() {
    const list = $("notes");
    list.textContent = "";
    const t = view.track;
    if (t.decision === "unscorable") list.append(el("li", { text: "The track cannot be judged: " + (t.reason || "no reason given") }));
    const notes = [];
    view.windows.forEach((w) => {
      const when = clock(w.start_s) + "–" + clock(w.end_s);
      if (w.decision === "unscorable") notes.push(when + ": cannot be judged — " + (w.reason || "no reason given"));
      else if (w.ood) notes.push(when + ": outside the training data's range" + (w.ood_features && w.ood_features.length ? " (" + w.ood_features.join(", ") + ")" : "") + "; treat with care");
    });
    const SHOWN = 4;
    notes.slice(0, SHOWN).forEach((text) => list.append(el("li", { text })));
    if (notes.length > SHOWN) list.append(el("li", { text: "… and " + (notes.length - SHOWN) + " more windows like these (see the Windows table)" }));
    const last = view.windows[view.windows.length - 1];
    if (last && last.partial) list.append(el("li", { text: clock(last.start_s) + "–" + clock(last.end_s) + ": a shorter last window" }));
  }

  function drawWindows() {
    const body = $("windows-body");
    body.textContent = "";
    view.windows.forEach((w) => {
      const given = (view.feedback || []).filter((f) => f.window_id && f.window_id === w.id).map((f) => f.label);
      const buttons = el("div", { class: "fb-buttons", role: "group", "aria-label": "Label window " + clock(w.start_s) });
      MOODS.forEach((m) => {
        const b = el("button", { type: "button", class: "mood-btn mood-" + m, "data-label": m, "aria-pressed": String(given[given.length - 1] === m), text: m, disabled: !w.id });
        b.addEventListener("click", () => sendFeedback(b, w.id, m, null));
        buttons.append(b);
      });
      body.append(el("tr", { class: "win-" + w.decision, "data-window-id": w.id || "" }, [
        el("td", { text: clock(w.start_s) + "–" + clock(w.end_s) }),
        el("td", {}, [w.decision === "unscorable" ? el("span", { class: "chip none", text: "—" }) : moodChip(w.label)]),
        el("td", { text: w.decision === "unscorable" ? "—" : pct(w.confidence) }),
        el("td", {}, [badge(w.decision)]),
        el("td", { class: "reason", text: w.reason || "" }),
        el("td", {}, [buttons])]));
    });
  }

  async function sendFeedback(button, windowId, label, note) {
    const group = button.parentElement;
    group.querySelectorAll("button").forEach((b) => { b.disabled = true; });
    try {
      const saved = await M.feedback(view.track_id, windowId, label);
      group.querySelectorAll("button").forEach((b) => b.setAttribute("aria-pressed", String(b === button)));
      (view.feedback = view.feedback || []).push({ label, window_id: windowId });
      const what = windowId ? "window" : "track";
      M.toast("Saved: this " + what + " is " + label + " (feedback #" + saved.id + ")");
      if (note) note.textContent = "Saved: " + label + " (feedback #" + saved.id + " from " + saved.source + "). The track leaves the review queue.";
    } catch (err) {
      M.toast(err.message, true);
      if (note) note.textContent = err.message;
    } finally {
      group.querySelectorAll("button").forEach((b) => { b.disabled = false; });
    }
  }

  function render() {
    $("result").hidden = false;
    drawVerdict();
    drawVA();
    drawTimeline();
    drawNotes();
    drawWindows();
    drawWaveform();
  }

  async function initStored() {
    const data = $("track-data");
    if (!data) return;
    view = JSON.parse(data.textContent);
    render();
    if (view.audio_url) {
      const player = $("player");
      player.src = view.audio_url;
      player.hidden = false;
      try {
        const r = await fetch(view.audio_url);
        if (r.ok) { peaks = await decodeForWaveform(await r.arrayBuffer()); drawWaveform(); }
      } catch (e) { /* no waveform */ }
    }
  }

  let resizeTimer = null;
  window.addEventListener("resize", () => { clearTimeout(resizeTimer); resizeTimer = setTimeout(() => { if (view) { drawTimeline(); drawWaveform(); } }, 150); });
  $("verdict-title").setAttribute("tabindex", "-1");
  initUpload();
  initStored();
})();
