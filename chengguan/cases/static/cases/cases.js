/* Enforcement-case forms: show the party's ID fields for a person and the credit code for an
   organisation, hide the fine for a warning, narrow the tiers to the chosen matter, and fill
   the position from the phone's location when asked. */
(function () {
  "use strict";

  function wrapper(el) { return el.closest("[class*='col-']") || el; }

  function toggle(el, show) {
    var box = wrapper(el);
    box.hidden = !show;
    el.disabled = !show;
  }

  function partyKind(form) {
    var select = form.querySelector("[data-party-kind]");
    if (!select) { return; }
    var apply = function () {
      form.querySelectorAll("[data-party]").forEach(function (el) { toggle(el, el.dataset.party === select.value); });
    };
    select.addEventListener("change", apply);
    apply();
  }

  function penaltyKind(form) {
    var select = form.querySelector("[data-penalty-kind]");
    if (!select) { return; }
    var fields = form.querySelectorAll("[data-fine], [data-tier], input[name$='collect_on_spot']");
    var apply = function () {
      fields.forEach(function (el) { toggle(el, select.value === "fine"); });
    };
    select.addEventListener("change", apply);
    apply();
  }

  function tiers(form) {
    var tier = form.querySelector("select[data-tier]");
    var matter = form.querySelector("select[name$='matter']");
    if (!tier || !matter) { return; }
    var apply = function () {
      tier.querySelectorAll("option[data-matter]").forEach(function (o) {
        var show = o.dataset.matter === matter.value;
        o.hidden = !show;
        o.disabled = !show;
        if (!show && o.selected) { tier.value = ""; }
      });
    };
    matter.addEventListener("change", apply);
    apply();
  }

  function locate(form) {
    var button = form.querySelector("[data-locate]");
    if (!button) { return; }
    var status = form.querySelector("[data-locate-status]");
    var lon = form.querySelector("[data-position=lon]");
    var lat = form.querySelector("[data-position=lat]");
    var say = function (text) { if (status) { status.textContent = text; } };
    if (lon && lat && lon.value && lat.value) { say("已定位：" + (+lat.value).toFixed(5) + ", " + (+lon.value).toFixed(5)); }
    button.addEventListener("click", function () {
      if (!navigator.geolocation) { say("本设备不支持定位，请选择责任中队。"); return; }
      say("正在定位…");
      navigator.geolocation.getCurrentPosition(function (p) {
        lon.value = p.coords.longitude.toFixed(6);
        lat.value = p.coords.latitude.toFixed(6);
        say("已定位：" + p.coords.latitude.toFixed(5) + ", " + p.coords.longitude.toFixed(5));
      }, function () { say("定位失败，请选择责任中队。"); }, {enableHighAccuracy: true, timeout: 10000});
    });
  }

  function setup(root) {
    root.querySelectorAll("form").forEach(function (form) {
      partyKind(form); penaltyKind(form); tiers(form); locate(form);
    });
  }

  document.addEventListener("DOMContentLoaded", function () { setup(document); });
})();
