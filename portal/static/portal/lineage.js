// Lineage explorer: zoom and pan the Graphviz drawing by its viewBox (buttons, mouse wheel, drag,
// keyboard), and highlight nodes by name, id or SHA-256 prefix as you type. Without JavaScript the
// drawing is shown at its natural size in a scrolling box, and the search is a server-side form.
(function () {
  "use strict";
  var box = document.getElementById("lineage-graph");
  var svg = box && box.querySelector("svg");
  if (!svg) { return; }
  var tools = document.getElementById("graph-tools");
  var base = (svg.getAttribute("viewBox") || "").split(/[\s,]+/).map(Number);
  if (base.length !== 4 || base.some(isNaN)) {
    var bb = svg.getBBox();
    base = [bb.x, bb.y, bb.width, bb.height];
  }
  var natural = {w: svg.width.baseVal.value || base[2], h: svg.height.baseVal.value || base[3]};
  var view = base.slice();
  box.classList.add("zoomable");
  svg.setAttribute("width", "100%");
  svg.setAttribute("height", "100%");
  svg.setAttribute("preserveAspectRatio", "xMidYMid meet");

  function apply() { svg.setAttribute("viewBox", view.join(" ")); }
  function zoom(factor, cx, cy) {
    var w = view[2] / factor, h = view[3] / factor;
    if (w < base[2] / 40 || w > base[2] * 4) { return; }
    cx = cx === undefined ? view[0] + view[2] / 2 : cx;
    cy = cy === undefined ? view[1] + view[3] / 2 : cy;
    view = [cx - (cx - view[0]) / factor, cy - (cy - view[1]) / factor, w, h];
    apply();
  }
  function actualSize() {
    // One SVG unit per CSS pixel (Graphviz's points at their natural size), centred on the root.
    var rect = box.getBoundingClientRect();
    var scale = natural.w / base[2];
    var w = rect.width / scale, h = rect.height / scale;
    var root = svg.querySelector("g.node_root");
    var c = root ? centre(root) : {x: base[0] + base[2] / 2, y: base[1] + base[3] / 2};
    view = [c.x - w / 2, c.y - h / 2, w, h];
    apply();
  }
  function centre(el) {
    var b = el.getBBox();
    var m = el.getCTM() && svg.getCTM() ? svg.getCTM().inverse().multiply(el.getCTM()) : null;
    var x = b.x + b.width / 2, y = b.y + b.height / 2;
    if (m) { return {x: m.a * x + m.c * y + m.e, y: m.b * x + m.d * y + m.f}; }
    return {x: x, y: y};
  }
  function toSvg(clientX, clientY) {
    var rect = svg.getBoundingClientRect();
    var scale = Math.max(view[2] / rect.width, view[3] / rect.height);
    var offX = (rect.width - view[2] / scale) / 2, offY = (rect.height - view[3] / scale) / 2;
    return {x: view[0] + (clientX - rect.left - offX) * scale, y: view[1] + (clientY - rect.top - offY) * scale,
            scale: scale};
  }
  if (tools) {
    tools.hidden = false;
    tools.addEventListener("click", function (event) {
      var action = event.target.getAttribute && event.target.getAttribute("data-zoom");
      if (action === "in") { zoom(1.4); } else if (action === "out") { zoom(1 / 1.4); }
      else if (action === "fit") { view = base.slice(); apply(); } else if (action === "reset") { actualSize(); }
    });
  }
  box.addEventListener("wheel", function (event) {
    event.preventDefault();
    var p = toSvg(event.clientX, event.clientY);
    zoom(event.deltaY < 0 ? 1.2 : 1 / 1.2, p.x, p.y);
  }, {passive: false});
  var drag = null;
  box.addEventListener("pointerdown", function (event) {
    if (event.button !== 0 || event.target.closest("a")) { return; }
    drag = {x: event.clientX, y: event.clientY, view: view.slice(), scale: toSvg(0, 0).scale};
    box.setPointerCapture(event.pointerId);
    box.classList.add("dragging");
  });
  box.addEventListener("pointermove", function (event) {
    if (!drag) { return; }
    view = [drag.view[0] - (event.clientX - drag.x) * drag.scale, drag.view[1] - (event.clientY - drag.y) * drag.scale,
            view[2], view[3]];
    apply();
  });
  function endDrag() { drag = null; box.classList.remove("dragging"); }
  box.addEventListener("pointerup", endDrag);
  box.addEventListener("pointercancel", endDrag);
  box.addEventListener("keydown", function (event) {
    var step = view[2] / 10, keys = {ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step]};
    if (keys[event.key]) {
      view[0] += keys[event.key][0]; view[1] += keys[event.key][1]; apply(); event.preventDefault();
    } else if (event.key === "+" || event.key === "=") { zoom(1.4); event.preventDefault(); }
    else if (event.key === "-") { zoom(1 / 1.4); event.preventDefault(); }
  });

  // Search: match the table rows (uid, label, SHA-256 prefix), mark the drawn nodes by their tooltip uid.
  var input = document.getElementById("graph-find");
  var count = document.getElementById("graph-find-count");
  var rows = Array.prototype.slice.call(document.querySelectorAll("#lineage-nodes tbody tr[data-uid]"));
  var nodes = Array.prototype.slice.call(svg.querySelectorAll("g.node"));
  function uidOf(g) {
    var t = g.querySelector("title");
    var a = g.querySelector("a");
    return (a && (a.getAttribute("xlink:title") || a.getAttribute("title"))) || (t && t.textContent) || "";
  }
  function highlight() {
    var term = (input.value || "").trim().toLowerCase();
    var hits = {};
    rows.forEach(function (row) {
      var uid = row.getAttribute("data-uid"), sha = (row.getAttribute("data-sha") || "").toLowerCase();
      var label = (row.getAttribute("data-label") || "").toLowerCase();
      var match = term !== "" && (uid.toLowerCase().indexOf(term) >= 0 || label.indexOf(term) >= 0 ||
                                  (term.length >= 6 && sha.indexOf(term) === 0));
      row.classList.toggle("match", match);
      if (match) { hits[uid] = true; }
    });
    var first = null, n = 0;
    nodes.forEach(function (g) {
      var match = hits[uidOf(g)] === true;
      g.classList.toggle("match", match);
      if (match) { n += 1; first = first || g; }
    });
    count.textContent = term ? Object.keys(hits).length + " match" + (Object.keys(hits).length === 1 ? "" : "es") +
      (n < Object.keys(hits).length ? " (" + n + " drawn)" : "") : "";
    if (first) {
      var c = centre(first);
      view = [c.x - view[2] / 2, c.y - view[3] / 2, view[2], view[3]];
      apply();
    }
  }
  if (input) {
    input.addEventListener("input", highlight);
    if (input.value) { highlight(); }
  }
}());
