/* Clock-in where the activity asks for the phone's position: fill it in before submitting. */
(function () {
  "use strict";
  var form = document.getElementById("scan-form") || document.getElementById("code-form");
  if (!form || !form.hasAttribute("data-geo") || !navigator.geolocation) return;
  var asked = false;
  form.addEventListener("submit", function (event) {
    if (asked) return;
    event.preventDefault();
    event.stopImmediatePropagation();
    asked = true;
    navigator.geolocation.getCurrentPosition(function (pos) {
      form.querySelector("[name=latitude]").value = pos.coords.latitude.toFixed(6);
      form.querySelector("[name=longitude]").value = pos.coords.longitude.toFixed(6);
      form.requestSubmit();
    }, function () { form.requestSubmit(); }, { timeout: 10000, maximumAge: 60000 });
  }, true);
})();
