// The CSRF token for htmx's POSTs, only on requests Kontor's own markup makes.
//
// The token is not on <body hx-headers> (every element would inherit it, also an
// injected one). It is added here, per request, when the element that makes the
// request is trusted: the request goes to this origin and the element is not inside
// a region that shows user content ([hx-disable], where htmx ignores hx-* anyway).
// For any other request the token is taken out, also a form field an element pulled
// in with hx-include. Forms posted the ordinary way carry {% csrf_token %} and are
// not touched.
(function () {
  "use strict";
  var HEADER = "X-CSRFToken";
  var FIELD = "csrfmiddlewaretoken";
  var USER_CONTENT = "[hx-disable], [data-hx-disable]";

  function token() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta && meta.content) { return meta.content; }
    var name = "csrftoken"; // Django's default CSRF_COOKIE_NAME
    var cookies = document.cookie ? document.cookie.split(";") : [];
    for (var i = 0; i < cookies.length; i++) {
      var pair = cookies[i].trim();
      if (pair.indexOf(name + "=") === 0) {
        return decodeURIComponent(pair.slice(name.length + 1));
      }
    }
    return "";
  }

  function sameOrigin(path) {
    try {
      return new URL(path, document.baseURI).origin === window.location.origin;
    } catch (error) {
      return false;
    }
  }

  function trusted(elt, path) {
    var selector = (window.htmx && window.htmx.config.disableSelector) || USER_CONTENT;
    return Boolean(elt && elt.isConnected && elt.closest) &&
      !elt.closest(selector) && !elt.closest(USER_CONTENT) && sameOrigin(path);
  }

  document.addEventListener("htmx:configRequest", function (event) {
    var detail = event.detail;
    if (trusted(detail.elt, detail.path)) {
      var value = token();
      if (value) { detail.headers[HEADER] = value; }
      return;
    }
    delete detail.headers[HEADER];
    if (detail.parameters) { delete detail.parameters[FIELD]; }
  });
})();
