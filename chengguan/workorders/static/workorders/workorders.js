/* Work-order pages: the order's place on a small map (click to place it when locating), the
   officer's orders on a map, the officer select narrowed to the chosen squad, copy buttons and
   the phone's position on the handling report. Offline maps: no tiles unless MAP_TILE_URL is
   set, only our own squad and grid layers. Coordinates are WGS-84. */
(function () {
  "use strict";

  function escapeHtml(value) {
    return String(value == null ? "" : value).replace(/[&<>"']/g, function (c) {
      return {"&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;"}[c];
    });
  }

  function json(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }

  function baseMap(el, cfg) {
    var map = L.map(el, {minZoom: 3, maxZoom: 19, zoomSnap: 0.5, attributionControl: !!cfg.tileUrl});
    if (cfg.tileUrl) {
      L.tileLayer(cfg.tileUrl, {maxZoom: 19, attribution: cfg.tileAttribution || ""}).addTo(map);
      map.attributionControl.setPrefix(false);
    }
    L.control.scale({imperial: false}).addTo(map);
    map.setView([31.2, 121.45], 11);
    return map;
  }

  /* Squad jurisdictions and grids give a point its place (there are no map tiles offline). */
  function ownLayers(map, cfg, fit) {
    if (!cfg.layersUrl) { return; }
    var get = function (query) {
      return fetch(cfg.layersUrl + query, {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (r) { return r.ok ? r.json() : null; });
    };
    get("?layer=squads").then(function (data) {
      if (!data) { return; }
      var layer = L.geoJSON(data, {
        style: {color: "#0b5cad", weight: 1.5, fillOpacity: 0.05, className: "cg-squad"}, interactive: false,
        onEachFeature: function (f, l) {
          l.bindTooltip(escapeHtml(f.properties.name), {permanent: true, direction: "center", className: "cg-squad-label"});
        }
      }).addTo(map);
      layer.bringToBack();
      if (fit && data.features.length) { map.fitBounds(layer.getBounds(), {padding: [16, 16]}); }
    });
    var grids = null;
    function loadGrids() {
      if (map.getZoom() < 14) { if (grids) { map.removeLayer(grids); grids = null; } return; }
      var b = map.getBounds().pad(0.2);
      var bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (v) { return v.toFixed(5); });
      get("?layer=grids&bbox=" + bbox.join(",")).then(function (data) {
        if (!data) { return; }
        var next = L.geoJSON(data, {style: {color: "#667085", weight: 1, fillOpacity: 0, dashArray: "3", className: "cg-grid"},
                                    interactive: false}).addTo(map);
        if (grids) { map.removeLayer(grids); }
        grids = next;
      });
    }
    map.on("moveend", loadGrids);
    loadGrids();
  }

  /* The order page: its place; with `pick`, a click fills the locate form's lon/lat. */
  function orderMap(id) {
    var el = document.getElementById(id);
    if (!el) { return null; }
    var cfg = json("map-config") || {};
    var point = json("order-point");
    var map = baseMap(el, cfg);
    var marker = null;
    if (point) {
      marker = L.marker([point.lat, point.lon]).addTo(map).bindPopup(escapeHtml(point.number));
      map.setView([point.lat, point.lon], 16);
    }
    ownLayers(map, cfg, !point);
    if (el.dataset.pick === "1") {
      map.on("click", function (e) {
        var lon = e.latlng.lng.toFixed(6), lat = e.latlng.lat.toFixed(6);
        document.querySelectorAll("[data-pick=lon]").forEach(function (i) { i.value = lon; });
        document.querySelectorAll("[data-pick=lat]").forEach(function (i) { i.value = lat; });
        if (marker) { marker.setLatLng(e.latlng); } else { marker = L.marker(e.latlng).addTo(map); }
        el.dataset.picked = lon + "," + lat;
      });
    }
    return map;
  }

  /* The officer's list: one marker per order, a popup linking to it. */
  function ordersMap(id) {
    var el = document.getElementById(id);
    if (!el) { return null; }
    var cfg = json("map-config") || {};
    var points = json("order-points") || [];
    var map = baseMap(el, cfg);
    var markers = points.map(function (p) {
      return L.marker([p.lat, p.lon]).addTo(map).bindPopup(
        "<div class=\"fw-semibold\">" + escapeHtml(p.number) + "</div><div>" + escapeHtml(p.address) + "</div>" +
        "<a href=\"" + escapeHtml(p.url) + "\">查看工单</a>");
    });
    if (markers.length) {
      map.fitBounds(L.featureGroup(markers).getBounds(), {padding: [24, 24], maxZoom: 15});
    }
    ownLayers(map, cfg, !markers.length);
    return map;
  }

  /* Officer selects list everyone in scope; once a squad is chosen only its people remain. */
  function squadOfficers(root) {
    (root || document).querySelectorAll("form").forEach(function (form) {
      var squad = form.querySelector("[data-squad-select]");
      var officer = form.querySelector("[data-officer-select]");
      if (!squad || !officer) { return; }
      var shared = officer.dataset.officerOptions && document.getElementById(officer.dataset.officerOptions);
      if (shared && officer.options.length <= 1) {  // the board sends the officer list once
        officer.appendChild(shared.content.cloneNode(true));
      }
      var fallback = squad.dataset.defaultSquad || "";
      function apply() {
        var chosen = squad.value || fallback;
        Array.prototype.forEach.call(officer.options, function (opt) {
          if (!opt.value) { return; }
          var ok = !chosen || (opt.dataset.squad || "").split(",").indexOf(chosen) >= 0;
          opt.hidden = !ok;
          opt.disabled = !ok;
          if (!ok && opt.selected) { officer.value = ""; }
        });
      }
      squad.addEventListener("change", apply);
      apply();
    });
  }

  function copyButtons() {
    document.querySelectorAll("[data-copy-target]").forEach(function (button) {
      button.addEventListener("click", function () {
        var source = document.getElementById(button.dataset.copyTarget);
        var text = source.value || source.textContent;
        var done = function () { button.textContent = "已复制"; };
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(text).then(done, function () { source.select(); });
        } else if (source.select) {
          source.select();
          try { if (document.execCommand("copy")) { done(); } } catch (e) { /* the text stays selected */ }
        }
      });
    });
  }

  /* The handling report records where the officer stood, when the phone allows it. */
  function fillPosition() {
    var lon = document.querySelector("[data-position=lon]");
    var lat = document.querySelector("[data-position=lat]");
    if (!lon || !lat || !navigator.geolocation) { return; }
    navigator.geolocation.getCurrentPosition(function (pos) {
      lon.value = pos.coords.longitude.toFixed(6);
      lat.value = pos.coords.latitude.toFixed(6);
    }, function () { /* no position: the report goes without it */ }, {enableHighAccuracy: true, timeout: 15000});
  }

  document.addEventListener("DOMContentLoaded", function () {
    squadOfficers();
    copyButtons();
  });

  window.ChengguanWorkorders = {orderMap: orderMap, ordersMap: ordersMap, fillPosition: fillPosition,
                                squadOfficers: squadOfficers};
})();
