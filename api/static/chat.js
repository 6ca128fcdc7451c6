/* 政策咨询助手 web chat: plain JavaScript, no framework, no build step.
 * Talks to POST /api/chat and POST /api/feedback; renders answers, citation cards,
 * clarification buttons and 有用 / 没用 feedback. All text goes in through textContent.
 * The hotline comes from the page (data-hotline, rendered from the deployment's settings). */
(function () {
  "use strict";

  var SESSION_KEY = "policy-chat-session";
  var SESSION_PATTERN = /^[A-Za-z0-9_.:-]{1,64}$/;
  var HUMAN_PAYLOAD = "/request_human";
  var HOTLINE = document.body.getAttribute("data-hotline") || "政务服务便民热线";
  var NETWORK_ERROR = "网络异常，请稍后重试，或拨打" + HOTLINE + "。";
  var BADGES = {
    "现行有效": "badge-valid",
    "已修改": "badge-amended",
    "已废止": "badge-repealed",
    "失效": "badge-expired",
    "尚未生效": "badge-pending",
    "未标注": "badge-unset"
  };
  var KINDS = {
    policy: "政策文件",
    interpretation: "政策解读",
    faq: "问答",
    service_guide: "办事指南",
    notice: "通知公告"
  };
  var ROLES = {
    quoted: "出处",
    interpreted: "所解读的政策",
    replacement: "现行规定"
  };

  var log = document.getElementById("log");
  var scroller = document.getElementById("main");
  var form = document.getElementById("composer");
  var input = document.getElementById("question");
  var sendButton = document.getElementById("send");
  var humanButton = document.getElementById("human");
  var busy = false;

  /** A random session id for this browser tab, kept in sessionStorage. */
  function newSessionId() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") {
      return window.crypto.randomUUID();
    }
    var bytes = new Uint8Array(16);
    if (window.crypto && window.crypto.getRandomValues) {
      window.crypto.getRandomValues(bytes);
    } else {
      for (var i = 0; i < bytes.length; i++) bytes[i] = Math.floor(Math.random() * 256);
    }
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function sessionId() {
    var id = null;
    try { id = window.sessionStorage.getItem(SESSION_KEY); } catch (e) { id = null; }
    if (!id || !SESSION_PATTERN.test(id)) {
      id = newSessionId();
      try { window.sessionStorage.setItem(SESSION_KEY, id); } catch (e) { /* private mode: id lives in memory */ }
    }
    return id;
  }

  var SESSION_ID = sessionId();

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function scrollToEnd() {
    scroller.scrollTop = scroller.scrollHeight;
  }

  function append(node) {
    log.appendChild(node);
    scrollToEnd();
    return node;
  }

  /** A reply taller than the view is shown from its question and first line, not from its last line. */
  function appendReply(node) {
    log.appendChild(node);
    if (node.offsetHeight > scroller.clientHeight - 24) {
      var question = node.previousElementSibling;
      var top = question && question.classList.contains("user") ? question : node;
      scroller.scrollTop = top.offsetTop - 8;  // .conversation is the offsetParent (position: relative)
    } else {
      scrollToEnd();
    }
    return node;
  }

  /** Put focus back in the input when it was lost to a button that got disabled or removed. */
  function restoreFocus() {
    var active = document.activeElement;
    if (!active || active === document.body || active.disabled || !document.body.contains(active)) {
      input.focus();
    }
  }

  function setBusy(value) {
    busy = value;
    sendButton.disabled = value;
    humanButton.disabled = value;
    log.setAttribute("aria-busy", value ? "true" : "false");
  }

  function showUser(text) {
    var bubble = el("div", "msg user");
    bubble.appendChild(el("p", "msg-text", text));
    append(bubble);
  }

  function showError(message) {
    var bubble = el("div", "msg error");
    bubble.appendChild(el("p", "msg-text", message));
    append(bubble);
  }

  function citationCard(c) {
    var card = el("li", "citation");
    var label = [ROLES[c.role], KINDS[c.kind]].filter(Boolean).join(" · ");
    if (label) card.appendChild(el("p", "citation-kind", label));
    var head = el("div", "citation-head");
    head.appendChild(el("h3", "citation-title", c.title || "政策文件"));
    if (c.validity) {
      head.appendChild(el("span", "badge " + (BADGES[c.validity] || "badge-expired"), c.validity));
    }
    card.appendChild(head);
    var meta = el("dl", "citation-meta");
    [["文号", c.doc_number], ["发文机关", c.issuer], ["日期", c.date]].forEach(function (pair) {
      if (!pair[1]) return;
      meta.appendChild(el("dt", null, pair[0]));
      meta.appendChild(el("dd", null, pair[1]));
    });
    if (meta.childNodes.length) card.appendChild(meta);
    if (c.url && /^https?:\/\//i.test(c.url)) {
      var link = el("a", "citation-link", "查看原文");
      link.href = c.url;
      link.target = "_blank";
      link.rel = "noopener noreferrer";
      link.setAttribute("aria-label", "查看原文：" + (c.title || "政策文件") + "（在新标签页打开）");
      card.appendChild(link);
    }
    return card;
  }

  function choiceButtons(buttons) {
    var group = el("div", "choices");
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", "请选择");
    buttons.forEach(function (b) {
      var button = el("button", "choice", b.title);
      button.type = "button";
      button.dataset.payload = b.payload;
      group.appendChild(button);
    });
    return group;
  }

  function feedbackButtons(reply) {
    var group = el("div", "feedback");
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", "这个回答对您有帮助吗");
    group.appendChild(el("span", "feedback-label", "这个回答对您有帮助吗？"));
    [["有用", true], ["没用", false]].forEach(function (pair) {
      var button = el("button", null, pair[0]);
      button.type = "button";
      button.setAttribute("aria-pressed", "false");
      button.addEventListener("click", function () { sendFeedback(group, button, reply.turn_id, pair[1]); });
      group.appendChild(button);
    });
    return group;
  }

  /** The answer without the source lines the citation cards below already show in full. */
  function answerText(reply) {
    var citations = reply.citations || [];
    if (!citations.length) return reply.answer || "";
    var urls = citations.map(function (c) { return "原文链接：" + c.url; });
    return (reply.answer || "").split("\n").filter(function (line) {
      if (/^(出处|所解读的政策)：/.test(line)) return false;
      return urls.indexOf(line) < 0;
    }).join("\n");
  }

  function showBot(reply) {
    var bubble = el("div", "msg bot");
    var text = answerText(reply);
    if (text) bubble.appendChild(el("p", "msg-text", text));
    if (reply.work_order && (reply.answer || "").indexOf(reply.work_order) < 0) {
      bubble.appendChild(el("p", "work-order", "工单号：" + reply.work_order));
    }
    if (reply.citations && reply.citations.length) {
      var list = el("ul", "citations");
      list.setAttribute("aria-label", "政策依据");
      reply.citations.forEach(function (c) { list.appendChild(citationCard(c)); });
      bubble.appendChild(list);
    }
    if (reply.buttons && reply.buttons.length) bubble.appendChild(choiceButtons(reply.buttons));
    if (reply.answered && reply.turn_id) bubble.appendChild(feedbackButtons(reply));
    appendReply(bubble);
  }

  /** POST JSON; resolves to the parsed reply, or throws an Error whose message is Chinese and shown as is. */
  function post(path, body) {
    return fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().catch(function () { return null; }).then(function (data) {
        if (response.ok && data) return data;
        var message = data && typeof data.message === "string" && data.message
          ? data.message
          : "服务暂时不可用（" + response.status + "），请稍后重试，或拨打" + HOTLINE + "。";
        throw new Error(message);
      });
    }, function () {
      throw new Error(NETWORK_ERROR);
    });
  }

  function withPending(promise) {
    setBusy(true);
    var pending = append(el("div", "msg bot pending", "正在查询，请稍候…"));
    return promise.then(function (reply) {
      pending.remove();
      showBot(reply);
    }, function (error) {
      pending.remove();
      showError(error.message || NETWORK_ERROR);
    }).then(function () {
      setBusy(false);
      restoreFocus();
    });
  }

  /** Send a message; ``shown`` is what the citizen sees in their bubble (a button's title for its payload). */
  function send(payload, shown) {
    if (busy) return false;
    var bubble = shown === undefined ? payload : shown;
    if (bubble.trim()) showUser(bubble);
    withPending(post("/api/chat", { session_id: SESSION_ID, text: payload }));
    return true;
  }

  function sendFeedback(group, button, turnId, useful) {
    if (busy) return;
    var buttons = group.querySelectorAll("button");
    Array.prototype.forEach.call(buttons, function (b) { b.disabled = true; });
    button.setAttribute("aria-pressed", "true");
    setBusy(true);
    post("/api/feedback", { turn_id: turnId, session_id: SESSION_ID, useful: useful }).then(function (reply) {
      showBot(reply);
    }, function (error) {
      button.setAttribute("aria-pressed", "false");
      Array.prototype.forEach.call(buttons, function (b) { b.disabled = false; });
      showError(error.message || NETWORK_ERROR);
    }).then(function () {
      setBusy(false);
      restoreFocus();
    });
  }

  function submitInput() {
    if (busy) return;
    var text = input.value;
    // The server judges emptiness and length and answers in Chinese, so even an empty message is sent.
    if (send(text, text.trim())) {
      input.value = "";
      resizeInput();
    }
  }

  function resizeInput() {
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight + 2, window.innerHeight * 0.4) + "px";
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    submitInput();
  });

  input.addEventListener("keydown", function (event) {
    // Enter sends, Shift+Enter is a newline; Enter that confirms an IME candidate (拼音) must not send.
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
      event.preventDefault();
      submitInput();
    }
  });

  input.addEventListener("input", resizeInput);

  humanButton.addEventListener("click", function () {
    send(HUMAN_PAYLOAD, "转人工");
  });

  // Clarification and example buttons: send the payload, show the title, and keep the choice visible.
  log.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("button.choice") : null;
    if (!button || button.disabled || busy) return;
    var group = button.parentNode;
    if (!group.hasAttribute("data-examples")) {
      Array.prototype.forEach.call(group.querySelectorAll("button"), function (b) { b.disabled = true; });
      button.setAttribute("aria-pressed", "true");
    }
    send(button.dataset.payload, button.textContent);
  });
})();
