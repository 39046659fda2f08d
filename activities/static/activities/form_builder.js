/* Enrollment-form builder for the activity admin (no libraries).
 * The JSON in the textarea is the single source of truth: every edit in the builder rewrites it at
 * once, and editing the JSON by hand re-draws the builder. The server validates it on save. */
(function () {
  "use strict";

  var LIMITS = { text: "长度", textarea: "长度", number: "数值", checkbox: "选择项数", date: "日期" };

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") node.textContent = attrs[k];
      else if (k in node && k !== "list") node[k] = attrs[k];
      else node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { if (c) node.appendChild(c); });
    return node;
  }

  function labelled(text, input) {
    return el("label", {}, [document.createTextNode(text + " "), input]);
  }

  function splitList(value) {
    return value.split(/[\n、,，]/).map(function (s) { return s.trim(); }).filter(Boolean);
  }

  function Builder(root) {
    this.types = JSON.parse(root.getAttribute("data-types"));
    this.textarea = root.querySelector("textarea");
    this.editor = root.querySelector(".fb-editor");
    this.note = el("div", { className: "fb-note" });
    this.fields = [];
    this.editor.hidden = false;
    var self = this;
    this.textarea.addEventListener("input", function () { self.load(true); });
    this.load(false);
  }

  Builder.prototype.load = function (fromTyping) {
    var text = this.textarea.value.trim() || "{}";
    var data;
    try { data = JSON.parse(text); } catch (e) {
      this.note.textContent = "JSON 有误，设计器暂未更新：" + e.message;
      return;
    }
    if (data === null || typeof data !== "object" || Array.isArray(data)) {
      this.note.textContent = "报名表单必须是一个 JSON 对象。";
      return;
    }
    this.note.textContent = "";
    this.fields = Object.keys(data).map(function (label) {
      return { label: label, rules: Object.assign({}, data[label]) };
    });
    this.render();
    if (!fromTyping) this.save();
  };

  Builder.prototype.save = function () {
    var data = {}, seen = {}, problems = [];
    this.fields.forEach(function (f, i) {
      var label = f.label.trim();
      if (!label) problems.push("第 " + (i + 1) + " 个字段没有名称");
      else if (seen[label]) problems.push("字段名「" + label + "」重复");
      seen[label] = true;
      f.bad = !label || data.hasOwnProperty(label);
      if (label && !data.hasOwnProperty(label)) data[label] = f.rules;
    });
    this.note.textContent = problems.join("；");
    this.textarea.value = JSON.stringify(data, null, 2);
    Array.prototype.forEach.call(this.editor.querySelectorAll(".fb-field"), function (node, i) {
      node.classList.toggle("fb-bad", !!(this.fields[i] && this.fields[i].bad));
    }, this);
  };

  Builder.prototype.render = function () {
    var self = this;
    this.editor.textContent = "";
    this.fields.forEach(function (f, i) { self.editor.appendChild(self.fieldNode(f, i)); });
    this.editor.appendChild(this.note);
    var add = el("button", { type: "button", className: "fb-add", text: "＋ 新增字段" });
    add.addEventListener("click", function () {
      self.fields.push({ label: "字段" + (self.fields.length + 1), rules: { type: "text", required: false } });
      self.render();
      self.save();
    });
    this.editor.appendChild(add);
  };

  Builder.prototype.fieldNode = function (f, i) {
    var self = this, r = f.rules;
    var changed = function () { self.save(); };
    var redraw = function () { self.render(); self.save(); };

    var name = el("input", { type: "text", value: f.label, maxLength: 50 });
    name.addEventListener("input", function () { f.label = name.value; changed(); });

    var type = el("select", {});
    Object.keys(this.types).forEach(function (t) {
      type.appendChild(el("option", { value: t, text: self.types[t], selected: r.type === t }));
    });
    type.addEventListener("change", function () {
      r.type = type.value;
      delete r.default; delete r.min; delete r.max;
      if (r.type === "radio" || r.type === "checkbox") r.choices = r.choices || ["选项一", "选项二"];
      else delete r.choices;
      redraw();
    });

    var required = el("input", { type: "checkbox", checked: !!r.required });
    required.addEventListener("change", function () {
      if (required.checked) r.required = true; else delete r.required;
      changed();
    });

    var tools = el("span", { className: "fb-tools" });
    [["↑", -1], ["↓", 1]].forEach(function (pair) {
      var b = el("button", { type: "button", text: pair[0], title: pair[1] < 0 ? "上移" : "下移" });
      b.addEventListener("click", function () {
        var j = i + pair[1];
        if (j < 0 || j >= self.fields.length) return;
        var tmp = self.fields[i]; self.fields[i] = self.fields[j]; self.fields[j] = tmp;
        redraw();
      });
      tools.appendChild(b);
    });
    var del = el("button", { type: "button", text: "删除字段" });
    del.addEventListener("click", function () {
      if (window.confirm("确定删除字段「" + f.label + "」吗？")) { self.fields.splice(i, 1); redraw(); }
    });
    tools.appendChild(del);

    var rows = [el("div", { className: "fb-row" }, [
      labelled("字段名称", name), labelled("类型", type), labelled("必填", required), tools,
    ])];

    var second = el("div", { className: "fb-row" });
    if (r.type === "radio" || r.type === "checkbox") {
      var choices = el("textarea", { value: (r.choices || []).join("\n"), placeholder: "每行一个选项" });
      choices.addEventListener("input", function () { r.choices = splitList(choices.value); changed(); });
      second.appendChild(labelled("选项", choices));
    }
    var defaultValue = Array.isArray(r.default) ? r.default.join("、") : (r.default == null ? "" : String(r.default));
    var inputType = r.type === "date" ? "date" : (r.type === "number" ? "number" : "text");
    var dflt = el("input", { type: inputType, value: defaultValue,
      placeholder: r.type === "checkbox" ? "多个用顿号分隔" : "" });
    dflt.addEventListener("input", function () {
      var v = dflt.value.trim();
      if (!v) delete r.default;
      else if (r.type === "checkbox") r.default = splitList(v);
      else if (r.type === "number") r.default = Number(v);
      else r.default = v;
      changed();
    });
    second.appendChild(labelled("默认值", dflt));
    if (LIMITS[r.type]) {
      ["min", "max"].forEach(function (key) {
        var box = el("input", { type: r.type === "date" ? "date" : "number", value: r[key] == null ? "" : r[key] });
        box.addEventListener("input", function () {
          var v = box.value.trim();
          if (!v) delete r[key];
          else r[key] = r.type === "date" ? v : (r.type === "number" ? Number(v) : parseInt(v, 10));
          changed();
        });
        second.appendChild(labelled((key === "min" ? "最小" : "最大") + LIMITS[r.type], box));
      });
    }
    var help = el("input", { type: "text", value: r.help || "", placeholder: "填写说明（可选）" });
    help.addEventListener("input", function () {
      if (help.value.trim()) r.help = help.value; else delete r.help;
      changed();
    });
    second.appendChild(labelled("帮助文字", help));
    rows.push(second);
    return el("div", { className: "fb-field" }, rows);
  };

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll(".fb-root"), function (root) {
      if (!root.dataset.ready) { root.dataset.ready = "1"; new Builder(root); }
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
