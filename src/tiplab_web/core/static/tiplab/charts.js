// Interactive charts: every .tiplab-chart on the page (and in what htmx swaps in later) is
// drawn from its Vega-Lite spec (a <script type="application/json">) by the vendored
// vega-embed. See tiplab_web/core/templatetags/charts.py for the markup.
//
// Everything here keeps to the site's Content-Security-Policy (script-src 'self', style-src
// 'self', no 'unsafe-eval', no 'unsafe-inline'):
// * ast: true makes Vega keep expressions as syntax trees, which vega-embed's bundled
//   vega-interpreter evaluates; Vega's default compiles them with new Function (eval).
// * defaultStyle: false and the tooltip's disableDefaultStyle: both would inject a <style>
//   element; charts.css carries the styles instead.
// * actions: false: the menu's "Open in Vega Editor" posts the chart to a third-party site
//   and "View source" writes a page with inline styles; the page has its own PNG/SVG links.
(function () {
  "use strict";

  var OPTIONS = {
    renderer: "svg",
    actions: false,
    ast: true,
    defaultStyle: false,
    tooltip: { disableDefaultStyle: true, theme: "light" }
  };
  var COMPOSITE = ["concat", "hconcat", "vconcat", "facet", "repeat"];
  var views = new WeakMap();

  // A single view (or layers) takes the width of its container, and follows it when the
  // window is resized; a composed chart keeps the widths its spec gives.
  function responsive(spec) {
    var composite = COMPOSITE.some(function (key) { return key in spec; });
    if (composite || spec.width === undefined) {
      return spec;
    }
    var out = Object.assign({}, spec, { width: "container" });
    out.autosize = Object.assign({ type: "fit-x", contains: "padding" },
                                 typeof spec.autosize === "object" ? spec.autosize : {});
    return out;
  }

  // Options come from here only: a spec's usermeta.embedOptions would override them (and
  // could, for instance, switch the editor action back on).
  function withoutEmbedOptions(spec) {
    if (spec.usermeta && spec.usermeta.embedOptions) {
      var usermeta = Object.assign({}, spec.usermeta);
      delete usermeta.embedOptions;
      spec = Object.assign({}, spec, { usermeta: usermeta });
    }
    return spec;
  }

  function fail(el, error) {
    el.setAttribute("data-chart-state", "error");
    var message = document.createElement("p");
    message.className = "chart-message chart-message--error";
    message.setAttribute("role", "status");
    message.textContent = el.getAttribute("data-chart-error") || "The chart could not be drawn.";
    var children = [message];
    var fallback = el.getAttribute("data-chart-fallback");
    if (fallback) {
      var img = document.createElement("img");
      img.className = "chart";
      img.src = fallback;
      img.alt = el.getAttribute("data-chart-alt") || "";
      children.push(img);
    }
    el.replaceChildren.apply(el, children);
    if (window.console && error) {
      window.console.warn("tiplab chart " + el.id + ":", error);
    }
  }

  function draw(el) {
    if (el.hasAttribute("data-chart-state") || !el.hasAttribute("data-chart-spec")) {
      return;
    }
    el.setAttribute("data-chart-state", "loading");
    var spec;
    try {
      var source = document.getElementById(el.getAttribute("data-chart-spec"));
      spec = JSON.parse(source.textContent);
    } catch (error) {
      fail(el, error);
      return;
    }
    if (typeof window.vegaEmbed !== "function") {
      fail(el, new Error("vega-embed is not loaded: add {% chart_assets %} to the page head"));
      return;
    }
    spec = responsive(withoutEmbedOptions(spec));
    if (!spec.description && el.getAttribute("data-chart-alt")) {
      spec.description = el.getAttribute("data-chart-alt");
    }
    var target = document.createElement("div");
    target.className = "tiplab-chart__view";
    el.replaceChildren(target);
    window.vegaEmbed(target, spec, OPTIONS).then(function (result) {
      var alt = el.getAttribute("data-chart-alt");
      if (alt) {
        // one image with its text alternative for assistive technology, as the static
        // chart was (the page's table gives the same numbers); set after Vega has drawn,
        // as Vega writes its own ARIA attributes on the element it draws into
        target.setAttribute("role", "img");
        target.setAttribute("aria-label", alt);
      }
      views.set(el, result);
      el.setAttribute("data-chart-state", "ready");
    }).catch(function (error) {
      fail(el, error);
    });
  }

  function drawAll(root) {
    var scope = root && root.querySelectorAll ? root : document;
    if (scope.matches && scope.matches(".tiplab-chart")) {
      draw(scope);
    }
    scope.querySelectorAll(".tiplab-chart").forEach(draw);
  }

  // A chart htmx removes releases its view (timers, listeners, the tooltip handler).
  function release(event) {
    var el = event.target;
    var result = el && views.get(el);
    if (result) {
      result.finalize();
      views.delete(el);
    }
  }

  document.addEventListener("DOMContentLoaded", function () { drawAll(document); });
  document.addEventListener("htmx:load", function (event) { drawAll(event.detail && event.detail.elt); });
  document.addEventListener("htmx:afterSwap", function (event) { drawAll(event.detail && event.detail.target); });
  document.addEventListener("htmx:beforeCleanupElement", release);
})();
