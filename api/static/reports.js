// The report page: building a long period takes a while, so say so and keep the button from being pressed twice.
(function () {
  "use strict";
  var form = document.getElementById("picker");
  if (!form) { return; }
  form.addEventListener("submit", function (event) {
    var first = form.elements.namedItem("from").value;
    var last = form.elements.namedItem("to").value;
    var status = document.getElementById("status");
    if (first && last && first > last) {
      event.preventDefault();
      status.textContent = "开始日期不能晚于结束日期。";
      form.elements.namedItem("from").focus();
      return;
    }
    status.textContent = "正在生成报告，请稍候……";
    form.querySelector("button[type=submit]").disabled = true;
  });
})();
