// Hotspot map: vendored Leaflet, no tiles; the regions' GeoJSON comes from a same-origin
// JSON endpoint named in the map element's data-geojson attribute (no inline script: CSP).
(function () {
  "use strict";
  var COLOURS = { "hot": "#c0392b", "cold": "#2e86c1", "not significant": "#e5e7e9" };

  function fmt(x, digits) {
    if (x === null || x === undefined) { return null; }
    return Number(x).toLocaleString(undefined, { maximumFractionDigits: digits });
  }

  function draw(el, data) {
    var map = L.map(el, { attributionControl: false, zoomSnap: 0.25, scrollWheelZoom: false });
    var layer = L.geoJSON(data, {
      style: function (feature) {
        var cls = feature.properties.gi_class || "not significant";
        return { color: "#34495e", weight: 1, fillColor: COLOURS[cls] || COLOURS["not significant"],
                 fillOpacity: 0.8 };
      },
      onEachFeature: function (feature, lyr) {
        var p = feature.properties;
        var rate = fmt(p.rate, 1);
        var text = p.code + (p.name ? " " + p.name : "") + ": " + (p.gi_class || "") + ", " +
          (rate === null ? el.getAttribute("data-label-suppressed")
                         : rate + " " + el.getAttribute("data-label-rate")) +
          ", Gi* z " + fmt(p.gi_z, 2);
        lyr.bindTooltip(text, { sticky: true });
      }
    }).addTo(map);
    map.fitBounds(layer.getBounds(), { padding: [8, 8] });
    el.setAttribute("data-ready", "true");
  }

  document.addEventListener("DOMContentLoaded", function () {
    var el = document.getElementById("hotspot-map");
    if (!el || typeof L === "undefined") { return; }
    fetch(el.getAttribute("data-geojson"), { credentials: "same-origin",
                                             headers: { "Accept": "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
      .then(function (data) { draw(el, data); })
      .catch(function () { el.classList.add("insights-map--failed"); });
  });
})();
