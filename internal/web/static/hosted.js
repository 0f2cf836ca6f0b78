// Gatehouse hosted pages: small progressive enhancements. Every page works
// without this file; the server validates everything again.
(function () {
  "use strict";
  // The SAML assertion consumer's hop (internal/web/saml.go): post the
  // IdP's response on to this origin, so that the sign-in cookie goes along.
  var relay = document.querySelector("form[data-autosubmit]");
  if (relay) { relay.submit(); return; }

  // Move focus to the error summary so screen readers announce it.
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }

  // Password policy, ticked off as the person types.
  var pw = document.querySelector('input[autocomplete="new-password"]');
  var rules = document.querySelectorAll(".policy li[data-rule]");
  function check(v, rule, n) {
    switch (rule) {
      case "min": return Array.from(v).length >= n;
      case "lower": return /[a-z]/.test(v);
      case "upper": return /[A-Z]/.test(v);
      case "digit": return /[0-9]/.test(v);
      case "symbol": return /[^A-Za-z0-9\s]/.test(v);
    }
    return false;
  }
  if (pw && rules.length) {
    var update = function () {
      rules.forEach(function (li) {
        var ok = check(pw.value, li.getAttribute("data-rule"), parseInt(li.getAttribute("data-n") || "0", 10));
        li.classList.toggle("met", ok);
      });
    };
    pw.addEventListener("input", update);
    update();
  }

  // Company type-ahead: fills the field's datalist from the lookup.
  var form = document.querySelector("form[data-lookup]");
  var company = form && form.querySelector("input[list]");
  if (company) {
    var list = document.getElementById(company.getAttribute("list"));
    var url = form.getAttribute("data-lookup");
    var timer = null, last = "";
    company.addEventListener("input", function () {
      var prefix = company.value.trim();
      if (timer) { clearTimeout(timer); }
      if (!prefix || prefix === last) { return; }
      timer = setTimeout(function () {
        last = prefix;
        fetch(url + "?prefix=" + encodeURIComponent(prefix), { credentials: "same-origin" })
          .then(function (r) { return r.ok ? r.json() : { names: [] }; })
          .then(function (d) {
            if (company.value.trim() !== prefix) { return; }
            while (list.firstChild) { list.removeChild(list.firstChild); }
            (d.names || []).forEach(function (n) {
              var o = document.createElement("option");
              o.value = n;
              list.appendChild(o);
            });
          })
          .catch(function () {});
      }, 150);
    });
  }
})();
