// lienhop: progressive enhancement only; every page works without this file.
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  // The sort menu applies itself; without JavaScript its "Sort" button does.
  document.querySelectorAll("select[data-autosubmit]").forEach(function (sel) {
    sel.addEventListener("change", function () { sel.form.submit(); });
  });
  // Copy buttons (the permalink).
  document.querySelectorAll("button[data-copy]").forEach(function (btn) {
    var field = document.querySelector(btn.getAttribute("data-copy"));
    if (!field || !navigator.clipboard) { return; }
    btn.hidden = false;
    btn.addEventListener("click", function () {
      navigator.clipboard.writeText(field.value).then(function () {
        btn.setAttribute("aria-live", "polite");
        btn.textContent = "✓";
      });
    });
  });
  // On a phone the facet panel starts closed, so results come first.
  var facets = document.querySelector("details.facet-toggle");
  if (facets && window.matchMedia("(max-width: 48rem)").matches &&
      !document.querySelector(".chips")) {
    facets.open = false;
  }
})();
