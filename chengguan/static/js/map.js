/* Chengguan maps (Leaflet). Offline by default: no tile layer, only our own squad
   jurisdictions and grids from /map/layers.geojson; a bureau with an intranet tile server sets
   MAP_TILE_URL. All coordinates are WGS-84. */
(function () {
  "use strict";

  var GRID_MIN_ZOOM = 14; // below this a district has too many grids to draw usefully
  var PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf",
                 "#8c564b", "#e377c2", "#bcbd22", "#7f7f7f", "#393b79", "#637939"];

  function escapeHtml(value) {
    return String(value == null ? "" : value).replace(/[&<>"']/g, function (c) {
      return {"&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;"}[c];
    });
  }

  function config() {
    var node = document.getElementById("map-config");
    return node ? JSON.parse(node.textContent) : {};
  }

  function baseMap(el, cfg) {
    var map = L.map(el, {minZoom: 3, maxZoom: 19, zoomSnap: 0.5, attributionControl: !!cfg.tileUrl});
    if (cfg.tileUrl) {
      L.tileLayer(cfg.tileUrl, {maxZoom: 19, attribution: cfg.tileAttribution || ""}).addTo(map);
      map.attributionControl.setPrefix(false);
    }
    L.control.scale({imperial: false}).addTo(map);
    map.setView([31.2, 121.45], 11); // replaced by fitBounds once data is drawn
    return map;
  }

  function fetchJson(url, options) {
    return fetch(url, Object.assign({credentials: "same-origin", headers: {"Accept": "application/json"}}, options || {}))
      .then(function (response) {
        return response.json().then(function (body) {
          if (!response.ok) { throw Object.assign(new Error(body.message || "请求失败"), {body: body}); }
          return body;
        });
      });
  }

  /* A single geometry on a small map (grid detail page). */
  function showShape(el, geometry) {
    var map = baseMap(el, config());
    var layer = L.geoJSON(geometry, {style: {color: "#0b5cad", weight: 2, fillOpacity: 0.15}}).addTo(map);
    map.fitBounds(layer.getBounds(), {padding: [24, 24]});
    return map;
  }

  /* The one-map page: squad jurisdictions, grids when zoomed in, and the locate form. */
  function overview(id) {
    var cfg = config();
    var el = document.getElementById(id);
    var map = baseMap(el, cfg);
    var squadColour = {};
    var gridLayer = null;
    var gridRequest = null;
    var marker = null;
    var panel = document.getElementById("cg-map-panel");
    var phone = !!panel && window.matchMedia("(max-width: 767.98px)").matches;

    function gridPopup(props) {
      return "<div class=\"fw-semibold\">" + escapeHtml(props.code) + " " + escapeHtml(props.name) + "</div>" +
        "<div>责任中队：" + escapeHtml(props.squad) + "</div>" +
        (props.community ? "<div>所属社区：" + escapeHtml(props.community) + "</div>" : "") +
        "<a href=\"" + escapeHtml(props.url) + "\">查看网格详情</a>";
    }

    function markZoom() { // smaller squad labels when the whole district is in view
      el.classList.toggle("cg-zoom-far", map.getZoom() < 12.5);
    }

    function loadGrids() {
      if (gridRequest) { gridRequest.abort(); }
      if (map.getZoom() < GRID_MIN_ZOOM) {
        if (gridLayer) { map.removeLayer(gridLayer); gridLayer = null; }
        return;
      }
      var b = map.getBounds().pad(0.2);
      var bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (v) { return v.toFixed(5); });
      gridRequest = new AbortController();
      fetchJson(cfg.layersUrl + "?layer=grids&bbox=" + bbox.join(","), {signal: gridRequest.signal})
        .then(function (data) {
          var next = L.geoJSON(data, {
            style: function (f) {
              return {color: squadColour[f.properties.squad_id] || "#555", weight: 1, opacity: 0.9,
                      fillOpacity: 0.04, className: "cg-grid cg-grid-id-" + f.properties.id};
            },
            onEachFeature: function (f, layer) {
              layer.bindPopup(gridPopup(f.properties));
              layer.on("mouseover", function () { layer.setStyle({weight: 2.5, fillOpacity: 0.15}); });
              layer.on("mouseout", function () { layer.setStyle({weight: 1, fillOpacity: 0.04}); });
            }
          }).addTo(map);
          if (gridLayer) { map.removeLayer(gridLayer); }
          gridLayer = next;
        })
        .catch(function (err) { if (err.name !== "AbortError") { console.error(err); } });
    }

    fetchJson(cfg.layersUrl + "?layer=squads").then(function (data) {
      data.features.forEach(function (f, i) { squadColour[f.properties.id] = PALETTE[i % PALETTE.length]; });
      var squads = L.geoJSON(data, {
        style: function (f) {
          return {color: squadColour[f.properties.id], weight: 2, fillOpacity: 0.12, className: "cg-squad"};
        },
        onEachFeature: function (f, layer) {
          layer.bindTooltip(escapeHtml(f.properties.name),
                            {permanent: true, direction: "center", className: "cg-squad-label"});
          layer.bindPopup("<div class=\"fw-semibold\">" + escapeHtml(f.properties.name) + "</div>" +
                          "<div>网格数：" + f.properties.grid_count + "</div>");
        }
      }).addTo(map);
      if (data.features.length) {
        map.fitBounds(squads.getBounds(), {padding: [20, 20]});
      } else {
        document.getElementById("cg-map-legend").textContent = "您的管辖范围内没有已标绘辖区的中队。";
      }
      loadGrids();
      map.on("moveend", loadGrids);
      map.on("zoomend", markZoom);
      markZoom();
    }).catch(function (err) { console.error(err); });

    var form = document.getElementById("cg-locate-form");
    var result = document.getElementById("cg-locate-result");
    if (form) {
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        var params = new URLSearchParams(new FormData(form));
        result.innerHTML = "<span class=\"text-body-secondary\">正在定位…</span>";
        fetchJson(form.action + "?" + params.toString()).then(function (data) {
          var html = "<div>网格：<b>" + escapeHtml(data.grid ? data.grid.code + " " + data.grid.name : "—") + "</b></div>" +
            "<div>责任中队：<b>" + escapeHtml(data.squad ? data.squad.name : "—") + "</b></div>" +
            "<div class=\"text-body-secondary\">WGS-84：" + data.lon + ", " + data.lat + "</div>";
          result.innerHTML = "<div class=\"alert alert-success py-2 mb-0\" data-testid=\"locate-result\">" + html + "</div>";
          placeMarker(data.lat, data.lon, html);
        }).catch(function (err) {
          var body = err.body || {};
          var html = escapeHtml(err.message);
          result.innerHTML = "<div class=\"alert alert-warning py-2 mb-0\" data-testid=\"locate-result\">" + html + "</div>";
          if (body.lat != null && body.lon != null) { placeMarker(body.lat, body.lon, html); }
        });
      });
    }

    function placeMarker(lat, lon, html) {
      if (marker) { map.removeLayer(marker); }
      if (phone) { panel.open = false; } // the panel would hide the marker on a small screen
      marker = L.marker([lat, lon]).addTo(map).bindPopup(html);
      map.setView([lat, lon], Math.max(map.getZoom(), 16));
      marker.openPopup();
    }

    if (phone) { panel.open = false; }
    return map;
  }

  window.ChengguanMap = {overview: overview, showShape: showShape};
})();
