// Progressive enhancement for the runs page: while runs are unfinished, fetch the table again
// every few seconds and swap it in. Without JavaScript a <noscript> meta refresh does the same.
(function () {
  "use strict";
  var box = document.getElementById("runs-table");
  if (!box || !window.fetch) { return; }
  var seconds = parseInt(box.getAttribute("data-refresh"), 10) || 5;
  function poll() {
    if (box.querySelector("table.runs[data-active='1']") === null) { return; }
    // Keep the page's own filters (kind, page) and ask for the table only.
    var query = new URLSearchParams(window.location.search);
    query.set("partial", "1");
    fetch(window.location.pathname + "?" + query.toString(), {credentials: "same-origin"})
      .then(function (response) { return response.ok ? response.text() : Promise.reject(response.status); })
      .then(function (html) { box.innerHTML = html; window.setTimeout(poll, seconds * 1000); })
      .catch(function () { window.setTimeout(poll, seconds * 4000); });
  }
  window.setTimeout(poll, seconds * 1000);
}());
