// Studio editor: live preview, problem links that jump to the line, the cursor position.
// Progressive enhancement only: without this file the Preview button does the same.
(function () {
  "use strict";
  var textarea = document.querySelector("textarea[data-preview-url]");
  if (!textarea) { return; }
  var form = textarea.form;
  var csrf = form.querySelector("input[name=csrf_token]");
  var previewBody = document.getElementById("preview-body");
  var problemsBox = document.querySelector(".problems-live");
  var otherErrors = document.querySelector(".other-errors");
  var otherCount = document.querySelector(".other-errors-count");
  var cursor = document.querySelector(".cursor-position");
  var timer = null;
  var controller = null;
  var dirty = false;

  function lineStarts(text) {
    var starts = [0];
    for (var i = 0; i < text.length; i++) {
      if (text.charCodeAt(i) === 10) { starts.push(i + 1); }
    }
    return starts;
  }

  function goToLine(line) {
    var text = textarea.value;
    var starts = lineStarts(text);
    var index = Math.max(0, Math.min(line - 1, starts.length - 1));
    var start = starts[index];
    var end = index + 1 < starts.length ? starts[index + 1] - 1 : text.length;
    textarea.focus();
    textarea.setSelectionRange(start, end);
    var lineHeight = parseFloat(window.getComputedStyle(textarea).lineHeight) || 20;
    textarea.scrollTop = Math.max(0, (index - 3) * lineHeight);
    showCursor();
  }

  function showCursor() {
    if (!cursor) { return; }
    var before = textarea.value.slice(0, textarea.selectionStart);
    var line = before.split("\n").length;
    var column = before.length - before.lastIndexOf("\n");
    var label = cursor.getAttribute("data-label") || "{line}:{column}";
    cursor.textContent = label.replace("{line}", line).replace("{column}", column);
  }

  function renderProblems(problems) {
    if (!problemsBox) { return; }
    problemsBox.textContent = "";
    if (!problems.length) {
      var none = document.createElement("p");
      none.className = "done no-problems";
      none.textContent = problemsBox.getAttribute("data-none") || "";
      problemsBox.appendChild(none);
      return;
    }
    var list = document.createElement("ul");
    list.className = "problems";
    problems.forEach(function (problem) {
      var item = document.createElement("li");
      item.className = "problem problem-" + problem.severity;
      var where;
      if (problem.line) {
        where = document.createElement("a");
        where.href = "#L-" + problem.line;
        where.setAttribute("data-line", String(problem.line));
        where.textContent = (problemsBox.getAttribute("data-line-label") || "{line}").replace("{line}", problem.line);
      } else {
        where = document.createElement("span");
        where.textContent = problemsBox.getAttribute("data-whole") || "";
      }
      item.appendChild(where);
      var prefix = problem.severity === "warning" ? (problemsBox.getAttribute("data-warning") || "") + " " : "";
      item.appendChild(document.createTextNode(": " + prefix + problem.message));
      list.appendChild(item);
    });
    problemsBox.appendChild(list);
  }

  function preview() {
    if (controller) { controller.abort(); }
    controller = new AbortController();
    var body = new FormData();
    body.append("path", textarea.getAttribute("data-path"));
    body.append("text", textarea.value);
    fetch(textarea.getAttribute("data-preview-url"), {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrf ? csrf.value : "", "Accept": "application/json" },
      signal: controller.signal
    }).then(function (response) {
      if (!response.ok) { throw new Error("preview " + response.status); }
      return response.json();
    }).then(function (data) {
      if (previewBody && data.html !== null && data.html !== undefined) {
        previewBody.innerHTML = data.html;  // sanitised on the server by the learner pipeline
      }
      renderProblems(data.problems || []);
      if (otherErrors && otherCount) {
        otherCount.textContent = String(data.other_errors || 0);
        otherErrors.classList.toggle("is-hidden", !data.other_errors);
      }
    }).catch(function (error) {
      if (error && error.name === "AbortError") { return; }
      if (problemsBox) { problemsBox.setAttribute("aria-busy", "false"); }
    });
  }

  textarea.addEventListener("input", function () {
    dirty = true;
    window.clearTimeout(timer);
    timer = window.setTimeout(preview, 600);
  });
  ["keyup", "click", "select"].forEach(function (name) { textarea.addEventListener(name, showCursor); });
  form.addEventListener("submit", function () { dirty = false; });
  window.addEventListener("beforeunload", function (event) {
    if (dirty) { event.preventDefault(); event.returnValue = ""; }
  });
  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("a[data-line]") : null;
    if (!link) { return; }
    event.preventDefault();
    goToLine(parseInt(link.getAttribute("data-line"), 10) || 1);
  });
  var match = /^#L-(\d+)$/.exec(window.location.hash);
  if (match) { goToLine(parseInt(match[1], 10)); }
  showCursor();
}());
