// The web app's few behaviours: charts drawn from the specs the server put beside them
// (vega-embed, vendored), countdowns to a race start, and both again after an htmx swap; a form
// with data-confirm asks before it is sent (the CSP allows no inline handler); a chart inside a
// closed <details> is drawn when it opens.
(function () {
  "use strict";

  function drawCharts(root) {
    root.querySelectorAll("figure.chart-box").forEach(function (figure) {
      if (figure.closest("details:not([open])")) return;  // drawn when opened: it has no width yet
      var target = figure.querySelector(".chart");
      var source = figure.querySelector("script.chart-spec");
      if (!target || !source || target.dataset.drawn) return;
      target.dataset.drawn = "1";
      window.vegaEmbed(target, JSON.parse(source.textContent), {
        actions: false,
        renderer: "svg",
      }).catch(function (error) {
        target.textContent = "The chart could not be drawn: " + error.message + ". The table below holds its numbers.";
      });
    });
  }

  function tick() {
    document.querySelectorAll(".countdown").forEach(function (el) {
      var left = Date.parse(el.dataset.start) - Date.now();
      if (isNaN(left)) return;
      if (left <= 0) { el.textContent = "started"; return; }
      var d = Math.floor(left / 86400000), h = Math.floor(left / 3600000) % 24,
          m = Math.floor(left / 60000) % 60, s = Math.floor(left / 1000) % 60;
      el.textContent = "starts in " + d + " d " + h + " h " + m + " min " + s + " s";
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    drawCharts(document);
    tick();
    setInterval(tick, 1000);
    document.body.addEventListener("htmx:afterSwap", function (event) { drawCharts(event.target); });
    document.addEventListener("toggle", function (event) {  // toggle does not bubble: capture
      if (event.target.open) drawCharts(event.target);
    }, true);
    document.body.addEventListener("submit", function (event) {
      var question = event.target.dataset && event.target.dataset.confirm;
      if (question && !window.confirm(question)) event.preventDefault();
    });
  });
})();
