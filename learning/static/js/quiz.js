// Quiz timer: a countdown announced politely once a minute (and at 30 s), and an automatic
// submission at the deadline. The server enforces the deadline either way.
(function () {
  var timer = document.querySelector(".timer[data-deadline]");
  if (!timer) { return; }
  var live = timer.querySelector(".timer-live");
  var deadline = Date.parse(timer.getAttribute("data-deadline"));
  var form = document.querySelector("form.quiz-form");
  // The sentence comes translated from the server (learning/translations), with {minutes} in it.
  var words = timer.getAttribute("data-time-left") || "{minutes}";
  var lastAnnounced = null;
  function tick() {
    var left = Math.max(0, deadline - Date.now());
    var minutes = Math.ceil(left / 60000);
    if (minutes !== lastAnnounced && (left > 30000 || lastAnnounced === null)) {
      live.textContent = words.replace("{minutes}", String(minutes));
      lastAnnounced = minutes;
    }
    if (left <= 0) { clearInterval(handle); form.submit(); }
  }
  var handle = setInterval(tick, 1000);
  tick();
})();
