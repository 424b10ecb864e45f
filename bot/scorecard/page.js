(function () {
  "use strict";
  function byId(id) { return document.getElementById(id); }
  var table = byId("rows");
  if (!table) { return; }
  var tbody = table.tBodies[0];
  var rows = Array.prototype.slice.call(tbody.rows);
  var f = { region: byId("f-region"), type: byId("f-type"), status: byId("f-status"), text: byId("f-text") };

  function keep(tr) {
    var d = tr.dataset, q = f.text.value.trim(), s = f.status.value;
    return (!f.region.value || d.region === f.region.value) &&
      (!f.type.value || d.type === f.type.value) &&
      (!s || d.status === s || (s === "errors" && d.errors !== "0")) &&
      (!q || d.name.indexOf(q) >= 0);
  }
  function apply() {
    var shown = 0;
    rows.forEach(function (tr) {
      var ok = keep(tr);
      if (tr.hidden === ok) {  // touch the DOM only on a change: the first pass costs nothing
        tr.hidden = !ok;
        var detail = tr.dataset.detail && byId(tr.dataset.detail);
        if (detail) { detail.hidden = !ok; }
      }
      if (ok) { shown += 1; }
    });
    byId("shown").textContent = "显示 " + shown + " / " + rows.length + " 个机关";
  }
  ["region", "type", "status"].forEach(function (k) { f[k].addEventListener("change", apply); });
  f.text.addEventListener("input", apply);

  function value(tr, key, numeric) {
    var v = tr.dataset[key] || "";
    return numeric ? (v === "" ? -Infinity : Number(v)) : v;
  }
  Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th) {
    if (!th.dataset.key) { return; }
    th.addEventListener("click", function () {
      var key = th.dataset.key, numeric = th.dataset.type === "num";
      var dir = th.getAttribute("aria-sort") === "ascending" ? -1 : 1;
      Array.prototype.forEach.call(table.tHead.rows[0].cells, function (c) { c.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", dir === 1 ? "ascending" : "descending");
      rows.sort(function (a, b) {
        var x = value(a, key, numeric), y = value(b, key, numeric);
        var c = numeric ? (x - y) : String(x).localeCompare(String(y), "zh-CN");
        return dir * (c || value(a, "name", false).localeCompare(value(b, "name", false), "zh-CN"));
      });
      rows.forEach(function (tr) { tbody.appendChild(tr); });
    });
  });
  apply();
})();
