// "War das hilfreich?": send the vote without leaving the page (the form works without it).
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (!form.matches("form[data-feedback]") || !window.fetch) { return; }
  event.preventDefault();
  var data = new FormData(form);
  if (event.submitter && event.submitter.name) {
    data.set(event.submitter.name, event.submitter.value);
  }
  var status = form.querySelector(".feedback-status");
  fetch(form.action, {method: "POST", body: data, credentials: "same-origin",
                      headers: {"Accept": "application/json"}})
    .then(function (response) { return response.json(); })
    .then(function (body) { status.textContent = body.detail; })
    .catch(function () {
      status.textContent = "Die Rückmeldung konnte nicht gesendet werden. Bitte versuchen Sie es erneut.";
    });
});
