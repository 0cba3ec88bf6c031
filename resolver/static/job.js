// lienhop: the live harvest-job page (templates/admin/job.html). A file, not an inline
// script, so the Content-Security-Policy can refuse every inline script.
(function () {
  "use strict";
  var box = document.getElementById("job");
  if (!box || box.getAttribute("data-active") !== "true" || !window.fetch) { return; }
  // The log quotes harvested text: drop bidi embedding/override/isolate controls, as the
  // server does for everything it renders (resolver/security.py).
  var BIDI = /[\u202A-\u202E\u2066-\u2069]/g;
  function poll() {
    fetch(box.getAttribute("data-status-url"), {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (s) {
        if (!s) { return; }
        box.querySelectorAll("[data-field]").forEach(function (el) {
          var v = s[el.getAttribute("data-field")];
          if (v !== undefined && v !== null) { el.textContent = String(v).replace(BIDI, ""); }
        });
        if (!s.active) { window.location.reload(); return; }
        setTimeout(poll, 1500);
      })
      .catch(function () { setTimeout(poll, 5000); });
  }
  setTimeout(poll, 1000);
})();
