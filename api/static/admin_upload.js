// The upload page: send the chosen files, then follow the server's event stream (api/admin_upload.py) to move
// the progress bar and fill the results table, one row per file. XMLHttpRequest rather than fetch(): it
// reports the bytes sent (a large batch takes a while to upload) and hands over the stream as it arrives.
(function () {
  "use strict";
  var form = document.getElementById("upload-form");
  if (!form) { return; }
  var input = document.getElementById("files");
  var button = document.getElementById("upload-button");
  var box = document.getElementById("upload-progress-box");
  var bar = document.getElementById("upload-progress");
  var status = document.getElementById("upload-status");
  var rows = document.querySelector("#upload-results tbody");
  // shares of the bar: sending the files, parsing them, embedding the new text; the rest when it is published
  var SENT = 30, PARSED = 30, INDEXED = 35;

  function setProgress(percent) {
    var value = Math.max(0, Math.min(100, Math.round(percent)));
    bar.value = value;
    bar.textContent = value + "%";
  }

  function megabytes(bytes) { return (bytes / 1048576).toFixed(1) + " MB"; }

  // the limits the server enforces, checked first so a too large batch is refused before it is sent
  function tooMuch(files) {
    var maxFiles = Number(form.dataset.maxFiles), maxFile = Number(form.dataset.maxFileBytes);
    var maxRequest = Number(form.dataset.maxRequestBytes), total = 0;
    if (files.length > maxFiles) { return "一次最多上传 " + maxFiles + " 个文件，请分批上传。"; }
    for (var i = 0; i < files.length; i++) {
      total += files[i].size;
      if (files[i].size > maxFile) {
        return "文件「" + files[i].name + "」超过单个文件的大小上限（" + megabytes(maxFile) + "）。";
      }
    }
    return total > maxRequest ? "所选文件合计超过 " + megabytes(maxRequest) + "，请分批上传。" : "";
  }

  function cell(row, text) {
    var td = document.createElement("td");
    if (text) { td.textContent = text; }
    row.appendChild(td);
    return td;
  }

  function addResult(result) {
    var row = document.createElement("tr");
    row.className = "result-" + result.status;
    cell(row, result.name);
    cell(row, result.status_label);
    var docs = cell(row, "");
    result.documents.forEach(function (doc) {
      var line = document.createElement("div");
      var link = document.createElement("a");
      link.href = "/admin/documents/" + encodeURIComponent(doc.doc_id);
      link.textContent = doc.title || doc.doc_id;
      line.appendChild(link);
      line.appendChild(document.createTextNode("（" + doc.action_label + "，版本 " + doc.version + "）"));
      docs.appendChild(line);
    });
    var notes = cell(row, result.message);
    result.problems.concat(result.duplicates).forEach(function (note) {
      var line = document.createElement("div");
      line.textContent = note;
      notes.appendChild(line);
    });
    rows.appendChild(row);
  }

  function handle(name, data) {
    if (name === "start") {
      status.textContent = "已收到 " + data.files.length + " 个文件，正在导入……";
    } else if (name === "progress" && data.stage === "parsed") {
      setProgress(SENT + PARSED * data.done / data.total);
      status.textContent = "正在解析（" + data.done + "/" + data.total + "）：" + data.file;
    } else if (name === "progress") {
      setProgress(SENT + PARSED + INDEXED * data.done / data.total);
      status.textContent = "正在建立索引（" + data.done + "/" + data.total + " 份文档）……";
    } else if (name === "published") {
      setProgress(SENT + PARSED + INDEXED);
    } else if (name === "result") {
      addResult(data);
    } else if (name === "summary") {
      setProgress(100);
      status.textContent = "导入完成：共 " + data.files + " 个文件，新增 " + data.added + "，更新 " + data.updated +
        "，未变 " + data.unchanged + "，失败 " + data.error + "。";
    } else if (name === "error") {
      status.textContent = "导入失败：" + data.message;
    }
  }

  // server-sent events as text: blocks separated by a blank line, "event:" and "data:" fields
  function reader() {
    var seen = 0, pending = "";
    return function (text) {
      pending += text.slice(seen).replace(/\r\n?/g, "\n");
      seen = text.length;
      var blocks = pending.split("\n\n");
      pending = blocks.pop();
      blocks.forEach(function (block) {
        var name = "message", data = [];
        block.split("\n").forEach(function (line) {
          if (line.indexOf("event:") === 0) { name = line.slice(6).trim(); }
          else if (line.indexOf("data:") === 0) { data.push(line.slice(5).replace(/^ /, "")); }
        });
        if (data.length) { handle(name, JSON.parse(data.join("\n"))); }
      });
    };
  }

  function refused(xhr) {
    try { return JSON.parse(xhr.responseText).message; } catch (ignored) { return "上传失败（" + xhr.status + "）。"; }
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var problem = tooMuch(input.files);
    if (problem) {
      status.textContent = problem;
      input.focus();
      return;
    }
    var xhr = new XMLHttpRequest();
    var read = reader();
    rows.textContent = "";
    box.hidden = false;
    setProgress(0);
    button.disabled = true;
    status.textContent = "正在上传……";
    xhr.open("POST", form.action);
    xhr.setRequestHeader("Accept", "text/event-stream");
    xhr.upload.addEventListener("progress", function (sent) {
      if (sent.lengthComputable) { setProgress(SENT * sent.loaded / sent.total); }
    });
    xhr.addEventListener("progress", function () { if (xhr.status === 200) { read(xhr.responseText); } });
    xhr.addEventListener("load", function () {
      if (xhr.status === 200) { read(xhr.responseText + "\n\n"); } else { status.textContent = refused(xhr); }
      button.disabled = false;
    });
    xhr.addEventListener("error", function () {
      status.textContent = "网络错误：上传没有完成，请重试。";
      button.disabled = false;
    });
    xhr.send(new FormData(form));
  });
})();
