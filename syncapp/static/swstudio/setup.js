// The Setup page's live part: polls progress.json and updates the progress and Last
// Execution boxes in place. When another cycle has finished, it swaps in the Status section.
(function () {
  "use strict";
  var root = document.getElementById("sw-setup");
  if (!root) { return; }
  var live = JSON.parse(document.getElementById("sw-live").textContent);
  var interval = parseInt(root.dataset.interval, 10) || 2000;
  var shownLastId = live.lastExecution ? live.lastExecution.id : null;
  var shownInProgressId = live.inProgress ? live.inProgress.id : null;
  var initialEnabled = live.syncEnabled;

  function field(name) { return root.querySelector('[data-live="' + name + '"]'); }
  function setText(name, text) { var el = field(name); if (el) { el.textContent = text; } }
  function records(x) {
    return x.examined + " examined · " + x.modified + " modified · " + x.failed + " failed · " +
      (x.skipped || 0) + " skipped";
  }

  function render(data) {
    var p = data.inProgress;
    document.getElementById("sw-progress").hidden = !p;
    document.getElementById("sw-idle").hidden = !!p;
    var silent = data.workerSilent;
    field("silent").hidden = !silent;
    if (silent) { setText("silent", "⚠ " + silent); }
    if (p) {
      setText("progress-title", silent ? "Not progressing" : "In progress");
      var link = field("progress-name");
      link.textContent = p.name;
      link.href = p.url;
      field("progress-bar").value = p.percent;
      setText("progress-steps", p.stepsDone + " of " + p.stepsTotal);
      setText("progress-current", p.currentStep ? p.currentStep + " (" + p.currentStepStatus + ")" : "—");
      setText("progress-records", records(p));
      setText("progress-started", p.startTimeDisplay + " (" + p.elapsedDisplay + " ago)");
    }
    var last = data.lastExecution;
    document.getElementById("sw-last-none").hidden = !!last;
    document.getElementById("sw-last-facts").hidden = !last;
    if (last) {
      var lastLink = field("last-name");
      lastLink.textContent = last.name;
      lastLink.href = last.url;
      var badge = field("last-status");
      badge.textContent = last.statusLabel;
      badge.className = "sw-badge sw-status-" + last.status;
      setText("last-trigger", last.trigger);
      setText("last-start", last.startTimeDisplay);
      setText("last-end", last.endTimeDisplay);
      setText("last-duration", last.durationDisplay);
      setText("last-records", records(last));
      setText("last-note", last.note || "—");
      setText("last-api-calls", last.apiCallsDisplay);
      field("last-aborted").hidden = !last.aborted;
      setText("last-aborted-text", last.aborted || "");
    }
    setText("watcher-next", data.watcher && data.watcher.nextFireTimeDisplay || "— (not scheduled)");
    setText("runner-next", data.runner && data.runner.nextFireTimeDisplay || "— (not scheduled)");
    document.getElementById("sw-state-changed").hidden = data.syncEnabled === initialEnabled;

    var lastId = last ? last.id : null;
    var progressId = p ? p.id : null;
    if (lastId !== shownLastId || progressId !== shownInProgressId) {
      shownLastId = lastId;
      shownInProgressId = progressId;
      refreshStatus();
    }
    live = data;
  }

  function refreshStatus() {
    fetch(root.dataset.statusUrl, { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        var body = document.getElementById("sw-status-body");
        if (html && body) { body.outerHTML = html; }
      })
      .catch(function () {});
  }

  function poll() {
    fetch(root.dataset.progressUrl, { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data) { render(data); } })
      .catch(function () {})
      .then(function () { window.setTimeout(poll, interval); });
  }

  // Turning the sync off during a cycle aborts the cycle: ask first.
  var form = document.getElementById("sw-switch-form");
  if (form) {
    form.addEventListener("submit", function (event) {
      var action = form.querySelector('input[name="action"]').value;
      if (action === "off" && live.inProgress) {
        var ok = window.confirm(
          "A synchronization cycle (" + live.inProgress.name + ") is in progress. Turning the " +
          "sync off aborts it: its remaining steps fail. Turn the sync off?");
        if (!ok) { event.preventDefault(); return; }
      }
      // One click, one request: a second click would post the same position again.
      var button = form.querySelector("button[type=submit]");
      if (button) { window.setTimeout(function () { button.disabled = true; }, 0); }
    });
  }

  window.setTimeout(poll, interval);
}());
