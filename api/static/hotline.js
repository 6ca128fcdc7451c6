/* 12345 hotline operator console: plain JavaScript, no framework, no build step.
 * Paste a transcript (POST /api/hotline/assist) or stream a live call (POST /api/hotline/calls, its
 * /segments, server-sent events from /events, /close); shows the caller's questions with answers and
 * citations, the classification, similar past cases and the draft work order, which the operator edits
 * and saves (POST /api/hotline/workorders). All text goes in through textContent. */
(function () {
  "use strict";

  var API = "/api/hotline";
  var BADGES = {
    "现行有效": "badge-valid",
    "已修改": "badge-amended",
    "已废止": "badge-repealed",
    "失效": "badge-expired",
    "尚未生效": "badge-pending",
    "未标注": "badge-unset"
  };
  // the draft's fields: the form's input ids under the work order's Chinese field names
  var FIELDS = {
    "来电时间": "wo-called-at",
    "来电人": "wo-caller",
    "联系电话": "wo-phone",
    "诉求类型": "wo-type",
    "事项分类": "wo-category",
    "地点": "wo-location",
    "诉求摘要": "wo-summary",
    "已答复内容": "wo-answered",
    "建议承办单位": "wo-department",
    "是否需要转办": "wo-transfer"
  };
  var LONG_ANSWER = 140;  // characters; a longer answer is shown in four lines until expanded
  var NETWORK_ERROR = "网络异常，请检查连接后重试。";
  var NO_ANSWER = "知识库中没有找到可靠的答案，请如实告知来电人，记录后转承办单位答复。";
  var STATUSES = { draft: "草稿", open: "待处理", assigned: "已派单", replied: "已答复", closed: "已办结" };
  var BASIS = { similar_cases: "依据相似历史案例的承办单位", category: "依据事项分类对应的承办单位" };

  function $(id) { return document.getElementById(id); }

  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var CSRF = csrfMeta ? csrfMeta.getAttribute("content") : "";

  var state = {
    callId: null,       // the live call (kept after it closes, for saving its draft), or null when pasting
    live: false,
    events: null,       // its EventSource
    result: null,       // the last assist result shown
    edited: {},         // draft fields the operator changed: a new suggestion never overwrites them
    savedNumber: null,
    calledAt: ""        // the draft's 来电时间 as the server gave it (ISO); the form shows it readable
  };

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null && text !== "") node.textContent = String(text);
    return node;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  /* ---------- talking to the API ---------- */

  function request(method, path, body) {
    var headers = { "Accept": "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (CSRF) headers["X-CSRF-Token"] = CSRF;
    return fetch(path, {
      method: method,
      headers: headers,
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body)
    }).then(function (response) {
      return response.json().catch(function () { return null; }).then(function (data) {
        if (response.ok) return data || {};
        var message = data && typeof data.message === "string" && data.message
          ? data.message
          : "服务暂时不可用（" + response.status + "），请稍后重试。";
        if (response.status === 401 || response.status === 403) message += " 请以坐席身份登录后再试。";
        throw new Error(message);
      });
    }, function () {
      throw new Error(NETWORK_ERROR);
    });
  }

  /* ---------- status line ---------- */

  function setCallState(text, kind) {
    var badge = $("call-state");
    badge.textContent = text;
    badge.className = "state state-" + kind;
  }

  function showError(message) {
    var box = $("call-error");
    box.textContent = message;
    box.hidden = !message;
  }

  var toastTimer = null;
  function toast(message) {
    var box = $("toast");
    box.textContent = message;
    box.classList.add("shown");
    if (toastTimer) clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { box.classList.remove("shown"); }, 2500);
  }

  function setBusy(busy) {
    $("answers-panel").setAttribute("aria-busy", busy ? "true" : "false");
    $("analyse").disabled = busy;
  }

  /* ---------- rendering the result ---------- */

  function pick(object, names) {
    for (var i = 0; i < names.length; i++) {
      if (object && object[names[i]] !== undefined && object[names[i]] !== null) return object[names[i]];
    }
    return "";
  }

  function confidenceLevel(value) {
    if (value >= 0.75) return ["高", "conf-high"];
    if (value >= 0.5) return ["中", "conf-mid"];
    return ["低", "conf-low"];
  }

  function citationCard(c) {
    var card = el("li", "citation" + (c.retired ? " citation-retired" : ""));
    var head = el("div", "citation-head");
    var title = c.title || "政策文件";
    head.appendChild(el("h4", "citation-title", title.charAt(0) === "《" ? title : "《" + title + "》"));
    if (c.validity) head.appendChild(el("span", "badge " + (BADGES[c.validity] || "badge-expired"), c.validity));
    card.appendChild(head);
    var meta = el("dl", "citation-meta");
    // always the same three fields in the same place, so the operator reads them at a glance ("—": none)
    [["文号", c.doc_number], ["发文机关", c.issuer], ["日期", c.date]].forEach(function (pair) {
      var row = el("div");
      row.appendChild(el("dt", null, pair[0]));
      row.appendChild(el("dd", pair[1] ? null : "none", pair[1] || "—"));
      meta.appendChild(row);
    });
    card.appendChild(meta);
    if (c.validity && c.validity !== "现行有效") {
      var replacement = c.replaced_by_title ? "，已由《" + c.replaced_by_title.replace(/^《|》$/g, "") + "》替代" : "";
      card.appendChild(el("p", "citation-warning", c.warning || "注意：该文件" + c.validity + replacement + "。"));
    }
    if (c.url && /^https?:\/\//i.test(c.url)) {
      var link = el("a", "citation-link", "查看原文");
      link.href = c.url;
      link.target = "_blank";
      link.rel = "noopener noreferrer";
      link.setAttribute("aria-label", "查看原文：" + title + "（在新标签页打开）");
      card.appendChild(link);
    }
    return card;
  }

  /** A long answer shows its first lines, so every question stays in view; the button shows the rest. */
  function expander(text) {
    text.classList.add("clamped");
    var button = el("button", "expand", "展开全文");
    button.type = "button";
    button.setAttribute("aria-expanded", "false");
    button.setAttribute("aria-controls", text.id);
    button.addEventListener("click", function () {
      var open = text.classList.toggle("clamped") === false;
      button.textContent = open ? "收起" : "展开全文";
      button.setAttribute("aria-expanded", open ? "true" : "false");
    });
    return button;
  }

  /** What the copy button puts on the clipboard: the answer and its source, fit to read out or paste. */
  function copyText(q) {
    if (!q.answered) return q.answer || "";
    var c = (q.citations || [])[0];
    if (!c) return q.answer;
    var title = (c.title || "").charAt(0) === "《" ? c.title : "《" + c.title + "》";
    var source = [title, c.doc_number, c.validity ? "（" + c.validity + "）" : ""].filter(Boolean).join("");
    return q.answer + "\n依据：" + source;
  }

  function questionCard(q, index) {
    var card = el("li", "question" + (q.answered ? "" : " question-unanswered"));
    var head = el("div", "question-head");
    head.appendChild(el("span", "question-number", "问题 " + (index + 1)));
    var level = confidenceLevel(Number(q.confidence) || 0);
    var conf = el("span", "confidence " + (q.answered ? level[1] : "conf-none"));
    conf.textContent = q.answered
      ? "置信度 " + level[0] + " · " + (Number(q.confidence) || 0).toFixed(2)
      : "无可靠答案";
    head.appendChild(conf);
    card.appendChild(head);
    card.appendChild(el("h3", "question-text", q.question));

    var answer = el("div", "answer");
    if (q.answered) {
      answer.appendChild(el("p", "answer-label", "建议答复"));
      var text = el("p", "answer-text", q.answer);
      text.id = "answer-" + index;
      answer.appendChild(text);
      if (q.answer.length > LONG_ANSWER) answer.appendChild(expander(text));
    } else {
      answer.appendChild(el("p", "answer-label", "没有找到答案"));
      answer.appendChild(el("p", "answer-text answer-none", q.text || NO_ANSWER));
    }
    card.appendChild(answer);

    if (q.citations && q.citations.length) {
      var list = el("ul", "citations");
      list.setAttribute("aria-label", "问题 " + (index + 1) + " 的政策依据");
      q.citations.forEach(function (c) { list.appendChild(citationCard(c)); });
      card.appendChild(list);
    }
    if (q.answered) {
      var copy = el("button", "copy", "复制答复");
      copy.type = "button";
      copy.setAttribute("aria-label", "复制答复（问题 " + (index + 1) + "）");  // holds the visible text (WCAG 2.5.3)
      copy.addEventListener("click", function () { copyAnswer(copyText(q), copy); });
      card.appendChild(copy);
    }
    return card;
  }

  function caseCard(c) {
    var card = el("li", "case");
    card.appendChild(el("h3", "case-title", pick(c, ["subject", "title", "留言主题"]) || "历史留言"));
    var gist = pick(c, ["reply_gist", "gist", "reply", "答复意见"]);
    if (gist) card.appendChild(el("p", "case-gist", gist));
    var meta = el("p", "case-meta");
    var department = pick(c, ["department", "答复部门"]);
    var date = pick(c, ["date", "replied_at", "答复时间"]);
    if (department) meta.appendChild(el("span", "case-dept", department));
    if (date) meta.appendChild(el("span", "case-date", String(date).slice(0, 10)));
    var score = Number(pick(c, ["similarity", "score"]));
    if (score) meta.appendChild(el("span", "case-score", "相似度 " + score.toFixed(2)));
    if (meta.childNodes.length) card.appendChild(meta);
    return card;
  }

  function showClassification(result) {
    var box = $("classification");
    var category = result.category;
    if (category && typeof category === "object") category = category.path || category.name || "";
    $("cls-type").textContent = result.request_type || "—";
    $("cls-category").textContent = category || "—";
    $("cls-department").textContent = result.department || "—";
    $("cls-basis").textContent = BASIS[result.department_basis] || "";
    $("cls-type").className = "chip chip-" + (result.request_type === "投诉" || result.request_type === "举报" ? "alert" : "plain");
    box.hidden = false;
  }

  /** 2026-12-01T11:40:00+08:00 as the operator reads it: 2026-12-01 11:40 (the ISO value is what is saved). */
  function readableTime(iso) {
    var match = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})/.exec(iso || "");
    return match ? match[1] + " " + match[2] : iso || "";
  }

  function fillDraft(order) {
    Object.keys(FIELDS).forEach(function (name) {
      if (state.edited[name] || !(name in order)) return;
      var input = $(FIELDS[name]);
      if (name === "来电时间") {
        state.calledAt = order[name] || "";
        input.value = readableTime(state.calledAt);
      } else if (input.type === "checkbox") input.checked = Boolean(order[name]);
      else input.value = order[name] === null || order[name] === undefined ? "" : String(order[name]);
    });
    $("order-save").disabled = false;
  }

  function render(result) {
    state.result = result;
    var questions = result.questions || [];
    var list = $("questions");
    clear(list);
    questions.forEach(function (q, i) { list.appendChild(questionCard(q, i)); });
    $("answers-empty").textContent = questions.length
      ? ""
      : "暂未识别到来电人的问题。";
    $("answers-empty").hidden = questions.length > 0;
    showClassification(result);

    var cases = result.similar_cases || [];
    var caseList = $("cases");
    clear(caseList);
    cases.slice(0, 3).forEach(function (c) { caseList.appendChild(caseCard(c)); });
    $("cases-empty").hidden = cases.length > 0;

    if (result.work_order) fillDraft(result.work_order);
    showTurns(result.turns || [], result.roles_inferred);
    var took = Number(result.elapsed_ms || (result.timings_ms && sumValues(result.timings_ms)));
    $("timing").textContent = took ? "分析用时 " + Math.round(took) + " 毫秒" : "";
  }

  /** The call as the assistant understood it: who said what (masked), so the operator can check the roles. */
  function showTurns(turns, inferred) {
    var box = $("turns");
    var list = $("turn-list");
    clear(list);
    turns.forEach(function (turn) {
      var item = el("li", "turn");
      var caller = turn.role === "caller";
      item.appendChild(el("span", "segment-speaker speaker-" + (caller ? "caller" : "agent"), turn.label || (caller ? "市民" : "坐席")));
      item.appendChild(el("span", "turn-text", turn.text));
      list.appendChild(item);
    });
    $("turns-summary").textContent = "对话分轨：" + turns.length + " 轮" + (inferred ? "（说话人由系统推断）" : "");
    box.hidden = turns.length === 0;
  }

  /** A new call starts from an empty console: nothing of the last caller stays on screen. */
  function resetResult() {
    state.result = null;
    state.edited = {};
    state.savedNumber = null;
    state.calledAt = "";
    clear($("questions"));
    clear($("cases"));
    $("answers-empty").textContent = "通话开始后，这里随转写实时显示来电人的问题和答复建议。";
    $("answers-empty").hidden = false;
    $("cases-empty").hidden = false;
    $("classification").hidden = true;
    $("turns").hidden = true;
    $("timing").textContent = "";
    $("order-form").reset();
    $("order-result").textContent = "";
    $("order-save").disabled = true;
  }

  function sumValues(object) {
    return Object.keys(object).reduce(function (total, key) { return total + (Number(object[key]) || 0); }, 0);
  }

  /* ---------- copy ---------- */

  function copyWithSelection(text) {
    var area = el("textarea", "clipboard-fallback");
    area.value = text;
    area.setAttribute("readonly", "");
    area.setAttribute("aria-hidden", "true");
    document.body.appendChild(area);
    area.select();
    var ok = false;
    try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
    document.body.removeChild(area);
    return ok;
  }

  function copyAnswer(text, button) {
    function done(ok) {
      button.textContent = ok ? "已复制" : "复制失败";
      button.classList.toggle("copied", ok);
      toast(ok ? "答复已复制到剪贴板" : "无法访问剪贴板，请手动选中答复复制");
      setTimeout(function () { button.textContent = "复制答复"; button.classList.remove("copied"); }, 2000);
    }
    // the clipboard API needs a secure context (https or loopback); the selection fallback works elsewhere
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () { done(true); }, function () { done(copyWithSelection(text)); });
    } else {
      done(copyWithSelection(text));
    }
  }

  /* ---------- pasted transcript ---------- */

  function analyse() {
    var text = $("transcript").value;
    showError("");
    setBusy(true);
    setCallState("分析中…", "busy");
    return request("POST", API + "/assist", { transcript: text }).then(function (result) {
      // a pasted call is not the live call that ended before it: its draft is saved on its own
      if (!state.live) state.callId = null;
      state.edited = {};
      state.savedNumber = null;
      $("order-result").textContent = "";
      render(result);
      setCallState("已分析", "done");
      $("answers-heading").focus();
    }, function (error) {
      setCallState(state.result ? "已分析" : "未开始", state.result ? "done" : "idle");
      showError(error.message);
      $("transcript").focus();
    }).then(function () { setBusy(false); });
  }

  $("paste-form").addEventListener("submit", function (event) {
    event.preventDefault();
    analyse();
  });
  $("transcript").addEventListener("keydown", function (event) {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      analyse();
    }
  });
  $("clear").addEventListener("click", function () {
    $("transcript").value = "";
    showError("");
    $("transcript").focus();
  });

  /* ---------- live call ---------- */

  function setLive(live) {
    state.live = live;
    $("call-start").disabled = live;
    $("call-close").disabled = !live;
    $("segment-text").disabled = !live;
    $("segment-speaker").disabled = !live;
    $("segment-send").disabled = !live;
  }

  function startCall() {
    showError("");
    request("POST", API + "/calls").then(function (call) {
      resetResult();
      state.callId = call.call_id;
      $("call-id").textContent = call.call_id;
      clear($("segments"));
      setLive(true);
      setCallState("通话中", "live");
      listen(state.callId);
      $("segment-text").focus();
    }, function (error) { showError(error.message); });
  }

  function listen(callId) {
    if (state.events) state.events.close();
    if (!window.EventSource) return;  // without SSE the replies to each segment still update the page
    var source = new EventSource(API + "/calls/" + encodeURIComponent(callId) + "/events");
    // each event carries the whole call (its result is the assistance so far), so a missed one loses nothing
    function onCall(event) {
      var call = null;
      try { call = JSON.parse(event.data); } catch (e) { return; }
      if (call && call.result) render(call.result);
    }
    source.addEventListener("suggestions", onCall);
    source.addEventListener("closed", function (event) {
      onCall(event);
      source.close();
    });
    source.onerror = function () {
      if (state.callId === callId && source.readyState === EventSource.CLOSED) setCallState("连接中断", "alert");
    };
    state.events = source;
  }

  function sendSegments() {
    var input = $("segment-text");
    var speaker = $("segment-speaker").value;
    var lines = input.value.split(/\r?\n/).map(function (l) { return l.trim(); }).filter(Boolean);
    if (!state.callId) return;
    if (!lines.length) { showError("转写片段不能为空。"); return; }
    showError("");
    // labelled lines go as a segment list; unlabelled ones as text lines, each a turn whose speaker the
    // server tells (caller or operator) from what is said over the whole call
    var segments = lines.map(function (line) { return { speaker: speaker, text: line }; });
    var posted = speaker ? segments : lines.join("\n");
    input.value = "";
    segments.forEach(function (s) {
      var item = el("li", "segment");
      if (s.speaker) item.appendChild(el("span", "segment-speaker speaker-" + (s.speaker === "坐席" ? "agent" : "caller"), s.speaker));
      item.appendChild(el("span", "segment-text", s.text));
      $("segments").appendChild(item);
    });
    $("segments").scrollTop = $("segments").scrollHeight;
    request("POST", API + "/calls/" + encodeURIComponent(state.callId) + "/segments", { transcript: posted })
      .then(function (call) {
        if (call && call.result) render(call.result);
      }, function (error) { showError(error.message); });
  }

  function closeCall() {
    if (!state.callId) return;
    var callId = state.callId;
    request("POST", API + "/calls/" + encodeURIComponent(callId) + "/close").then(function (call) {
      if (call && call.result) render(call.result);
      setCallState("通话已结束", "done");
    }, function (error) { showError(error.message); }).then(function () {
      if (state.events) state.events.close();
      state.events = null;
      setLive(false);
      $("order-save").focus();
    });
  }

  $("call-start").addEventListener("click", startCall);
  $("call-close").addEventListener("click", closeCall);
  $("segment-form").addEventListener("submit", function (event) {
    event.preventDefault();
    sendSegments();
  });
  // a pasted block of several lines is pushed line by line, as an ASR engine would send it
  $("segment-text").addEventListener("paste", function (event) {
    var text = (event.clipboardData || window.clipboardData).getData("text");
    if (text && /\n/.test(text.trim())) {
      event.preventDefault();
      $("segment-text").value = text;
      sendSegments();
    }
  });

  /* ---------- tabs (arrow keys move between them) ---------- */

  var tabs = [$("tab-paste"), $("tab-live")];
  function selectTab(tab) {
    tabs.forEach(function (t) {
      var selected = t === tab;
      t.setAttribute("aria-selected", selected ? "true" : "false");
      t.tabIndex = selected ? 0 : -1;
      $(t.getAttribute("aria-controls")).hidden = !selected;
    });
    tab.focus();
  }
  tabs.forEach(function (tab, index) {
    tab.addEventListener("click", function () { selectTab(tab); });
    tab.addEventListener("keydown", function (event) {
      var step = event.key === "ArrowRight" ? 1 : event.key === "ArrowLeft" ? -1 : 0;
      if (event.key === "Home") selectTab(tabs[0]);
      else if (event.key === "End") selectTab(tabs[tabs.length - 1]);
      else if (step) selectTab(tabs[(index + step + tabs.length) % tabs.length]);
      else return;
      event.preventDefault();
    });
  });

  /* ---------- the draft work order ---------- */

  Object.keys(FIELDS).forEach(function (name) {
    var input = $(FIELDS[name]);
    input.addEventListener(input.type === "checkbox" || input.tagName === "SELECT" ? "change" : "input", function () {
      state.edited[name] = true;
    });
  });

  function draftFromForm() {
    var order = {};
    Object.keys(FIELDS).forEach(function (name) {
      var input = $(FIELDS[name]);
      order[name] = input.type === "checkbox" ? input.checked : input.value.trim();
    });
    order["来电时间"] = state.calledAt || order["来电时间"];
    return order;
  }

  $("order-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var button = $("order-save");
    var body = { work_order: draftFromForm() };
    if (state.callId) body.call_id = state.callId;
    button.disabled = true;
    $("order-result").textContent = "正在保存…";
    $("order-result").className = "order-result";
    request("POST", API + "/workorders", body).then(function (saved) {
      state.savedNumber = saved.number;
      var status = STATUSES[saved.status] || saved.status || "";
      $("order-result").textContent = (saved.created === false ? "该工单此前已保存，工单号：" : "工单已保存，工单号：")
        + saved.number + (status ? "（" + status + "）" : "");
      $("order-result").className = "order-result saved";
    }, function (error) {
      $("order-result").textContent = error.message;
      $("order-result").className = "order-result failed";
    }).then(function () { button.disabled = false; });
  });
})();
