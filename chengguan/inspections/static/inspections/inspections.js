/* Inspections pages: the registry map, the officer's task list (distance from the phone's
   position) and the inspection form (position, signature pad, conditional outcome fields).
   Plain JavaScript, no library beyond Leaflet on the map page. Coordinates are WGS-84. */
(function () {
  "use strict";

  var TIER_COLOURS = {1: "#c8102e", 2: "#e67e22", 3: "#0b5cad", 4: "#6c7a89"};

  function escapeHtml(value) {
    return String(value == null ? "" : value).replace(/[&<>"']/g, function (c) {
      return {"&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;"}[c];
    });
  }

  /* Great-circle distance in metres (haversine). */
  function distance(lon1, lat1, lon2, lat2) {
    var rad = Math.PI / 180, r = 6371008.8;
    var dLat = (lat2 - lat1) * rad, dLon = (lon2 - lon1) * rad;
    var a = Math.sin(dLat / 2) * Math.sin(dLat / 2) +
      Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(dLon / 2) * Math.sin(dLon / 2);
    return 2 * r * Math.asin(Math.sqrt(a));
  }

  function formatDistance(m) {
    return m < 1000 ? Math.round(m) + " 米" : (m / 1000).toFixed(m < 10000 ? 1 : 0) + " 公里";
  }

  /* The registry on a map: the filtered objects as circle markers on a canvas (thousands stay
     smooth), coloured by tier, capped by the server with a note when there are more. */
  function objectsMap(id, noteId) {
    var cfg = JSON.parse(document.getElementById("map-config").textContent);
    var note = document.getElementById(noteId);
    var map = L.map(id, {minZoom: 3, maxZoom: 19, zoomSnap: 0.5, preferCanvas: true,
                         attributionControl: !!cfg.tileUrl});
    if (cfg.tileUrl) {
      L.tileLayer(cfg.tileUrl, {maxZoom: 19, attribution: cfg.tileAttribution || ""}).addTo(map);
      map.attributionControl.setPrefix(false);
    }
    L.control.scale({imperial: false}).addTo(map);
    map.setView([31.2, 121.45], 11);
    // the squads' jurisdictions give the points a place (there are no map tiles offline)
    if (cfg.layersUrl) {
      fetch(cfg.layersUrl + "?layer=squads", {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (data) {
          if (!data) { return; }
          L.geoJSON(data, {
            style: {color: "#0b5cad", weight: 1.5, fillOpacity: 0.05, className: "cg-squad"},
            interactive: false,
            onEachFeature: function (f, layer) {
              layer.bindTooltip(escapeHtml(f.properties.name), {permanent: true, direction: "center",
                                                               className: "cg-squad-label"});
            }
          }).addTo(map).bringToBack();
        });
    }
    var params = new URLSearchParams(window.location.search);
    params.delete("view");
    params.delete("page");
    fetch(cfg.dataUrl + "?" + params.toString(), {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) { return response.json().then(function (body) { return {ok: response.ok, body: body}; }); })
      .then(function (res) {
        if (!res.ok) { note.textContent = res.body.message || "加载失败。"; return; }
        var data = res.body;
        var layer = L.geoJSON(data, {
          pointToLayer: function (f, latlng) {
            return L.circleMarker(latlng, {radius: 6, weight: 1, color: "#fff", fillOpacity: 0.9,
                                           fillColor: TIER_COLOURS[f.properties.tier] || "#555"});
          },
          onEachFeature: function (f, marker) {
            var p = f.properties;
            marker.bindPopup("<div class=\"fw-semibold\">" + escapeHtml(p.name) + "</div>" +
              "<div>" + escapeHtml(p.type) + " · " + escapeHtml(p.tier_label) + "</div>" +
              "<div class=\"text-body-secondary\">" + escapeHtml(p.address) + "</div>" +
              "<a href=\"" + escapeHtml(p.url) + "\">查看对象档案</a>");
          }
        }).addTo(map);
        if (data.features.length) { map.fitBounds(layer.getBounds(), {padding: [24, 24], maxZoom: 17}); }
        var text = "地图显示 " + data.features.length + " 个对象（颜色表示监管等级：红一级、橙二级、蓝三级、灰四级）。";
        if (data.total > data.features.length) {
          text = "符合条件的对象共 " + data.total + " 个，地图只显示前 " + data.limit + " 个，请增加筛选条件缩小范围。";
          note.classList.add("text-warning-emphasis");
        }
        if (!data.total) { text = "没有符合条件且已定位的监管对象。"; }
        note.textContent = text;
      })
      .catch(function () { note.textContent = "地图数据加载失败，请刷新重试。"; });
    return map;
  }

  /* My tasks: once the phone gives a position, show each task's distance and offer sorting
     by it (the list arrives sorted by due date). */
  function taskDistances(listSelector) {
    var status = document.getElementById("position-status");
    var sortButton = document.getElementById("sort-by-distance");
    if (!navigator.geolocation) { if (status) { status.textContent = "此设备不支持定位，无法显示距离。"; } return; }
    navigator.geolocation.getCurrentPosition(function (pos) {
      var lon = pos.coords.longitude, lat = pos.coords.latitude;
      document.querySelectorAll(listSelector + " [data-lon]").forEach(function (el) {
        var d = distance(lon, lat, parseFloat(el.dataset.lon), parseFloat(el.dataset.lat));
        el.dataset.distance = d;
        var out = el.querySelector(".cg-distance");
        if (out) { out.textContent = "距您 " + formatDistance(d); out.hidden = false; }
      });
      if (status) { status.textContent = "已获取您的位置，显示各任务距离。"; }
      if (sortButton) {
        sortButton.hidden = false;
        sortButton.addEventListener("click", function () {
          document.querySelectorAll(listSelector).forEach(function (list) {
            var items = Array.prototype.slice.call(list.querySelectorAll(":scope > [data-lon]"));
            items.sort(function (a, b) { return a.dataset.distance - b.dataset.distance; });
            items.forEach(function (item) { list.appendChild(item); });
          });
          sortButton.disabled = true;
        });
      }
    }, function () {
      if (status) { status.textContent = "未能获取位置（未授权或信号弱），按应检日期排序。"; }
    }, {enableHighAccuracy: true, timeout: 15000, maximumAge: 60000});
  }

  /* A signature pad on a canvas: pointer events (finger, pen, mouse), a white background so
     the PNG prints well, and the PNG data URL kept in a hidden field. */
  function signaturePad(canvas, input, clearButton, refused) {
    var ctx = canvas.getContext("2d");
    var drawing = false, drawn = false, last = null;

    function resize() {
      var ratio = window.devicePixelRatio || 1;
      var rect = canvas.getBoundingClientRect();
      canvas.width = Math.round(rect.width * ratio);
      canvas.height = Math.round(rect.height * ratio);
      ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
      ctx.fillStyle = "#fff";
      ctx.fillRect(0, 0, rect.width, rect.height);
      ctx.lineWidth = 2.5;
      ctx.lineCap = "round";
      ctx.lineJoin = "round";
      ctx.strokeStyle = "#111";
      drawn = false;
      input.value = "";
    }

    function point(event) {
      var rect = canvas.getBoundingClientRect();
      return {x: event.clientX - rect.left, y: event.clientY - rect.top};
    }

    canvas.addEventListener("pointerdown", function (event) {
      if (refused && refused.checked) { return; }
      drawing = true;
      last = point(event);
      canvas.setPointerCapture(event.pointerId);
      ctx.beginPath();
      ctx.arc(last.x, last.y, 1.2, 0, Math.PI * 2);
      ctx.fillStyle = "#111";
      ctx.fill();
      event.preventDefault();
    });
    canvas.addEventListener("pointermove", function (event) {
      if (!drawing) { return; }
      var p = point(event);
      ctx.beginPath();
      ctx.moveTo(last.x, last.y);
      ctx.lineTo(p.x, p.y);
      ctx.stroke();
      last = p;
      drawn = true;
      event.preventDefault();
    });
    function end() {
      if (!drawing) { return; }
      drawing = false;
      if (drawn) { input.value = canvas.toDataURL("image/png"); }
    }
    canvas.addEventListener("pointerup", end);
    canvas.addEventListener("pointercancel", end);
    clearButton.addEventListener("click", resize);
    var kept = input.value; // a form sent back with errors keeps the party's signature
    window.setTimeout(function () {
      if (!kept) { return; }
      var image = new Image();
      image.onload = function () {
        var rect = canvas.getBoundingClientRect();
        ctx.drawImage(image, 0, 0, rect.width, rect.height);
        input.value = kept;
        drawn = true;
      };
      image.src = kept;
    }, 0);
    if (refused) {
      refused.addEventListener("change", function () {
        if (refused.checked) { resize(); }
        canvas.classList.toggle("cg-signature-disabled", refused.checked);
      });
    }
    resize();
  }

  /* The inspection form: position from the phone into the hidden fields (with the distance to
     the object), the signature pad, and the outcome's own fields shown only when they apply. */
  function inspectionForm(formId) {
    var form = document.getElementById(formId);
    var status = document.getElementById("position-status");
    var lonInput = form.querySelector("input[name=lon]");
    var latInput = form.querySelector("input[name=lat]");
    var objLon = parseFloat(form.dataset.objectLon), objLat = parseFloat(form.dataset.objectLat);
    var maxDistance = parseFloat(form.dataset.maxDistance);

    function locate() {
      if (!navigator.geolocation) { status.textContent = "此设备不支持定位，无法提交检查记录。"; return; }
      status.className = "small text-body-secondary";
      status.textContent = "正在定位…";
      navigator.geolocation.getCurrentPosition(function (pos) {
        lonInput.value = pos.coords.longitude.toFixed(7);
        latInput.value = pos.coords.latitude.toFixed(7);
        var text = "已定位（精度约 " + Math.round(pos.coords.accuracy) + " 米）";
        var far = false;
        if (!isNaN(objLon) && !isNaN(objLat)) {
          var d = distance(pos.coords.longitude, pos.coords.latitude, objLon, objLat);
          far = d > maxDistance;
          text += "，距检查对象 " + formatDistance(d) + (far ? "，超出 " + maxDistance + " 米，请到现场后重新定位" : "");
        }
        status.className = "small " + (far ? "text-danger" : "text-success");
        status.textContent = text;
        status.dataset.located = "1";
      }, function (err) {
        status.className = "small text-danger";
        status.textContent = err.code === 1 ? "您拒绝了定位授权。请在浏览器设置中允许本站使用位置信息后重试。"
                                            : "暂时无法获取位置，请到开阔处后点击“重新定位”。";
      }, {enableHighAccuracy: true, timeout: 20000, maximumAge: 0});
    }
    var relocate = document.getElementById("relocate");
    if (relocate) { relocate.addEventListener("click", locate); }
    locate();

    var canvas = document.getElementById("signature-pad");
    if (canvas) {
      signaturePad(canvas, form.querySelector("input[name=signature]"), document.getElementById("signature-clear"),
                   form.querySelector("input[name=party_refused_to_sign]"));
    }

    function showOutcomeFields() {
      var checked = form.querySelector("input[name=outcome]:checked");
      var value = checked ? checked.value : "";
      form.querySelectorAll("[data-outcome]").forEach(function (el) {
        el.hidden = el.dataset.outcome !== value;
      });
    }
    form.querySelectorAll("input[name=outcome]").forEach(function (el) { el.addEventListener("change", showOutcomeFields); });
    showOutcomeFields();

    // one tap marks every checklist item as passing; each can still be changed afterwards
    var allPass = document.getElementById("all-pass");
    if (allPass) {
      allPass.addEventListener("click", function () {
        form.querySelectorAll(".cg-check-item input[value=pass]").forEach(function (el) { el.checked = true; });
      });
    }

    var photos = document.getElementById("id_photos");
    var photoCount = document.getElementById("photo-count");
    if (photos && photoCount) {
      photos.addEventListener("change", function () {
        var n = photos.files.length;
        photoCount.className = "small mt-1 " + (n > 9 ? "text-danger" : "text-body-secondary");
        photoCount.textContent = n ? "已选择 " + n + " 张照片" + (n > 9 ? "，最多 9 张，请重新选择" : "") : "未选择照片";
      });
    }

    form.addEventListener("submit", function () {
      var button = form.querySelector("button[type=submit]");
      if (button) { button.disabled = true; button.textContent = "正在提交…"; }
    });
  }

  window.ChengguanInspections = {objectsMap: objectsMap, taskDistances: taskDistances, inspectionForm: inspectionForm,
                                 distance: distance};
})();
