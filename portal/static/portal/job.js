// The job page without reloads: poll the page's JSON view and update the progress in place; when the run
// finishes, reload once so the page shows its final state (links, no cancel button).
(function () {
  "use strict";
  var section = document.getElementById("job");
  if (!section || !section.dataset.poll) { return; }
  var every = (parseInt(section.dataset.every, 10) || 3) * 1000;
  function text(id, value) { var el = document.getElementById(id); if (el) { el.textContent = value; } }
  function tick() {
    fetch(section.dataset.poll, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (state) {
        if (!state) { return; }
        if (state.finished) { window.location.reload(); return; }
        var bar = document.getElementById("job-progress");
        if (bar) { bar.value = state.percent; }
        text("job-percent", state.percent + " %");
        text("job-status", state.status.charAt(0) + state.status.slice(1).toLowerCase() +
             (state.cancel_requested ? " (cancel requested)" : ""));
        text("job-stage", state.stage || "—");
        window.setTimeout(tick, every);
      })
      .catch(function () { window.setTimeout(tick, every * 2); });
  }
  window.setTimeout(tick, every);
})();
