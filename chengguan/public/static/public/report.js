/* The citizen report form: pick the problem's place on a small map of our own jurisdictions
   (no tile server), or from the phone's position (navigator.geolocation gives WGS-84, as the
   server expects). The point goes into the hidden lon/lat fields. */
(function () {
  "use strict";

  var PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2"];

  function ready(fn) {
    if (document.readyState !== "loading") { fn(); } else { document.addEventListener("DOMContentLoaded", fn); }
  }

  ready(function () {
    var el = document.getElementById("report-map");
    var lon = document.getElementById("id_lon");
    var lat = document.getElementById("id_lat");
    var status = document.getElementById("location-status");
    var clear = document.getElementById("clear-point");
    var locate = document.getElementById("locate-me");
    var layers = JSON.parse(document.getElementById("report-layers").textContent || "[]");
    var marker = null;

    var map = L.map(el, {minZoom: 3, maxZoom: 19, zoomSnap: 0.5, attributionControl: false});
    L.control.scale({imperial: false}).addTo(map);
    var shapes = L.geoJSON({
      type: "FeatureCollection",
      features: layers.map(function (layer, i) {
        return {type: "Feature", geometry: layer.geometry, properties: {name: layer.name, colour: PALETTE[i % PALETTE.length]}};
      })
    }, {
      // not interactive: a tap anywhere places the point
      style: function (f) { return {color: f.properties.colour, weight: 2, fillOpacity: 0.08, interactive: false}; },
      onEachFeature: function (f, layer) {
        layer.bindTooltip(f.properties.name, {permanent: true, direction: "center", className: "cg-squad-label"});
      }
    }).addTo(map);
    if (layers.length) { map.fitBounds(shapes.getBounds(), {padding: [10, 10]}); } else { map.setView([31.2, 121.45], 11); }

    function place(latValue, lonValue, how) {
      lon.value = lonValue.toFixed(7);
      lat.value = latValue.toFixed(7);
      if (marker) { marker.setLatLng([latValue, lonValue]); } else {
        marker = L.circleMarker([latValue, lonValue], {radius: 9, color: "#fff", weight: 3, fillColor: "#d62728", fillOpacity: 1}).addTo(map);
      }
      status.textContent = "已选择位置（" + how + "）：" + lonValue.toFixed(5) + ", " + latValue.toFixed(5);
      status.className = "small text-success";
      clear.classList.remove("d-none");
    }

    map.on("click", function (e) { place(e.latlng.lat, e.latlng.lng, "地图选点"); });

    clear.addEventListener("click", function () {
      lon.value = ""; lat.value = "";
      if (marker) { map.removeLayer(marker); marker = null; }
      status.textContent = "尚未选择位置";
      status.className = "small";
      clear.classList.add("d-none");
    });

    locate.addEventListener("click", function () {
      if (!navigator.geolocation) {
        status.textContent = "此浏览器不支持定位，请在地图上点选或填写地址。";
        return;
      }
      status.textContent = "正在定位…";
      navigator.geolocation.getCurrentPosition(function (pos) {
        place(pos.coords.latitude, pos.coords.longitude, "手机定位");
        map.setView([pos.coords.latitude, pos.coords.longitude], 17);
      }, function () {
        status.textContent = "无法获取定位（可能未允许定位权限），请在地图上点选或填写地址。";
        status.className = "small text-warning-emphasis";
      }, {enableHighAccuracy: true, timeout: 15000, maximumAge: 60000});
    });

    if (lon.value && lat.value) { // the form came back with an error: keep the point
      place(parseFloat(lat.value), parseFloat(lon.value), "已选");
      map.setView([parseFloat(lat.value), parseFloat(lon.value)], 16);
    }

    var photos = document.getElementById("id_photos");
    var help = document.getElementById("photos-help");
    var helpText = help.textContent;
    photos.addEventListener("change", function () {
      var max = parseInt(photos.dataset.max, 10);
      var tooMany = photos.files.length > max;
      help.textContent = tooMany ? "最多上传 " + max + " 张照片，请重新选择。" : helpText;
      help.classList.toggle("text-danger", tooMany);
      photos.setCustomValidity(tooMany ? help.textContent : "");
    });
  });
})();
