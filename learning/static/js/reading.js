// Reports active reading time and the furthest section reached. Without JavaScript the
// "I have read this module" form still records reading; this only adds detail.
(function () {
  var article = document.querySelector("article.module[data-activity-url]");
  var form = document.getElementById("activity-form");
  if (!article || !form || !window.fetch) { return; }
  var url = article.getAttribute("data-activity-url");
  var token = form.querySelector("input[name=csrf_token]").value;
  var headings = Array.prototype.slice.call(article.querySelectorAll(".module-body h2"));
  var position = parseInt(article.getAttribute("data-position"), 10) || 0;
  var reported = position;
  var activeSeconds = 0;
  var lastInput = Date.now();
  ["scroll", "keydown", "pointerdown", "pointermove"].forEach(function (name) {
    window.addEventListener(name, function () { lastInput = Date.now(); }, { passive: true });
  });
  // Count time only while the tab is visible and someone touched it in the last two minutes.
  setInterval(function () {
    if (document.visibilityState === "visible" && Date.now() - lastInput < 120000) { activeSeconds += 5; }
  }, 5000);
  if ("IntersectionObserver" in window && headings.length) {
    var observer = new IntersectionObserver(function (entries) {
      entries.forEach(function (entry) {
        if (entry.isIntersecting) { position = Math.max(position, headings.indexOf(entry.target) + 1); }
      });
    });
    headings.forEach(function (h) { observer.observe(h); });
  }
  function send(useBeacon) {
    if (activeSeconds === 0 && position === reported) { return; }
    var body = new FormData();
    body.append("csrf_token", token);
    body.append("seconds", String(Math.min(activeSeconds, 120)));
    body.append("position", String(position));
    activeSeconds = 0; reported = position;
    if (useBeacon && navigator.sendBeacon) { navigator.sendBeacon(url, body); return; }
    fetch(url, { method: "POST", body: body, credentials: "same-origin", headers: { "X-CSRFToken": token } });
  }
  setInterval(function () { send(false); }, 30000);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") { send(true); }
  });
})();
