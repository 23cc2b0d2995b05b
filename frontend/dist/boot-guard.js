// Boot guard: a classic script that runs even when the app's module cannot load or throws at start. If the
// app has not replaced the start message after 10 s, it says so and shows the first script error, as text,
// instead of leaving "Starting Hall Monitor…" on screen for ever.
(function () {
  var first = "";
  function keep(msg) {
    if (!first) first = String(msg || "unknown error");
  }
  window.addEventListener("error", function (e) {
    keep(e && e.message ? e.message + (e.filename ? " (" + e.filename + ":" + e.lineno + ")" : "") : e);
  });
  window.addEventListener("unhandledrejection", function (e) {
    keep(e && e.reason && e.reason.message ? e.reason.message : e && e.reason);
  });
  window.setTimeout(function () {
    var msg = document.querySelector(".boot-message");
    if (!msg) return; // the app started
    msg.textContent = "Hall Monitor's window did not start" + (first ? ": " + first : ": the app's script did not run") + ". See the Hall log.";
  }, 10000);
})();
