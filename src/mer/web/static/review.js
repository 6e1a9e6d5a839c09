/* Review queue: confirm or correct each item with one click or one key; labelled items leave the queue. */
"use strict";
(function () {
  const M = window.MER;
  const queue = document.getElementById("queue");
  if (!queue) return;
  const totalEl = document.getElementById("queue-total");
  const items = () => [...queue.querySelectorAll(".qitem:not(.done)")];

  function focusItem(item) { if (item) { item.focus(); item.scrollIntoView({ block: "nearest" }); } }

  async function label(item, mood) {
    if (!item || item.classList.contains("done") || item.dataset.busy) return;
    item.dataset.busy = "1";
    const buttons = item.querySelectorAll("button");
    buttons.forEach((b) => { b.disabled = true; });
    try {
      const saved = await M.feedback(item.dataset.trackId, item.dataset.windowId || null, mood);
      const confirmed = mood === item.dataset.label;
      const next = items()[items().indexOf(item) + 1] || items()[items().indexOf(item) - 1];
      item.classList.add("done");
      item.remove();
      totalEl.textContent = String(Math.max(0, Number(totalEl.textContent) - 1));
      M.toast((confirmed ? "Confirmed " : "Corrected to ") + mood + " (feedback #" + saved.id + ")");
      if (!items().length) document.getElementById("queue-empty").hidden = false;
      focusItem(next);
    } catch (err) {
      M.toast(err.message, true);
      buttons.forEach((b) => { b.disabled = false; });
    } finally {
      delete item.dataset.busy;
    }
  }

  queue.addEventListener("click", (ev) => {
    const button = ev.target.closest("button[data-label]");
    if (button) label(button.closest(".qitem"), button.dataset.label);
  });

  document.addEventListener("keydown", (ev) => {
    if (ev.altKey || ev.ctrlKey || ev.metaKey) return;
    const tag = (ev.target.tagName || "").toLowerCase();
    if (["input", "select", "textarea"].includes(tag)) return;
    const list = items();
    if (!list.length) return;
    const current = ev.target.closest ? ev.target.closest(".qitem") : null;
    const index = current ? list.indexOf(current) : -1;
    if (ev.key === "j" || ev.key === "ArrowDown") { ev.preventDefault(); focusItem(list[Math.min(list.length - 1, index + 1)]); return; }
    if (ev.key === "k" || ev.key === "ArrowUp") { ev.preventDefault(); focusItem(list[Math.max(0, index - 1)]); return; }
    if (!current || tag === "button" || tag === "a" || tag === "audio") return;  // keys act on the focused item
    if (ev.key === "Enter" && current.dataset.label) { ev.preventDefault(); label(current, current.dataset.label); }
    else if (["1", "2", "3", "4"].includes(ev.key)) { ev.preventDefault(); label(current, M.MOODS[Number(ev.key) - 1]); }
    else if (ev.key === "p") {
      const audio = current.querySelector("audio");
      if (audio) { ev.preventDefault(); if (audio.paused) audio.play(); else audio.pause(); }
    }
  });
})();
