// The reports' charts (Chart.js, vendored in static/vendor/chartjs-4.5.0): each canvas reads its figures from a
// JSON block of the page, and a click on a bar or a point opens the list behind it, the same link as the
// matching cell of the chart's data table (so the chart and its table cannot disagree on where to go).
(function () {
  "use strict";

  function linkFor(canvas, datasetIndex, index) {
    var section = canvas.closest("section");
    var kind = canvas.dataset.chart;
    var key = kind === "days" ? (datasetIndex === 0 ? "in-" : "out-") + index : index + "-" + datasetIndex;
    var cell = section && section.querySelector('[data-point="' + key + '"]');
    return cell ? cell.getAttribute("href") : null;
  }

  function draw(canvas) {
    var data = JSON.parse(document.getElementById(canvas.dataset.source).textContent);
    var config;
    if (canvas.dataset.chart === "days") {
      config = {
        type: "line",
        data: {
          labels: data.labels,
          datasets: [
            { label: data.inbound_label, data: data.inbound, borderColor: "#1c7ed6", backgroundColor: "#1c7ed6", tension: 0.2 },
            { label: data.outbound_label, data: data.outbound, borderColor: "#2f9e44", backgroundColor: "#2f9e44", tension: 0.2 },
          ],
        },
      };
    } else {
      var colors = { pending: "#adb5bd", enqueued: "#74c0fc", sent: "#4dabf7", delivered: "#40c057", read: "#2b8a3e", failed: "#e03131" };
      config = {
        type: "bar",
        data: {
          labels: data.labels,
          datasets: data.statuses.map(function (status, i) {
            return { label: status, data: data.counts.map(function (row) { return row[i]; }), backgroundColor: colors[status] };
          }),
        },
        options: { scales: { x: { stacked: true }, y: { stacked: true } } },
      };
    }
    config.options = Object.assign({ responsive: true, maintainAspectRatio: false, animation: false }, config.options || {});
    config.options.onClick = function (event, elements) {
      if (!elements.length) return;
      var href = linkFor(canvas, elements[0].datasetIndex, elements[0].index);
      if (href) window.location.assign(href);
    };
    config.options.onHover = function (event, elements) {
      canvas.style.cursor = elements.length ? "pointer" : "default";
    };
    var chart = new window.Chart(canvas, config);
    canvas.dataset.drawn = "true"; // for tests and scripts: the chart, and its click targets, exist
    return chart;
  }

  function start() {
    var charts = [];
    if (window.Chart) {
      document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) { charts.push(draw(canvas)); });
    }
    // Printing shows every data table and redraws the charts at the paper's width.
    window.addEventListener("beforeprint", function () {
      document.querySelectorAll("details.chart-table").forEach(function (details) { details.open = true; });
      charts.forEach(function (chart) { chart.resize(); });
    });
    document.querySelectorAll("[data-print]").forEach(function (button) {
      button.addEventListener("click", function () { window.print(); });
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
