// dagloop pipeline page: details of a node or dataset on click; tags pick out nodes.
"use strict";
(function () {
  const data = JSON.parse(document.getElementById("data").textContent);
  const svg = document.getElementById("graph");
  const details = document.getElementById("details");
  const edges = Array.from(svg.querySelectorAll(".edge"));
  const vertices = Array.from(svg.querySelectorAll(".node, .dataset"));

  function element(tag, text, cls) {
    const el = document.createElement(tag);
    if (text !== undefined) el.textContent = text;
    if (cls) el.className = cls;
    return el;
  }

  function list(names) {
    if (!names.length) return element("dd", "none", "hint");
    const dd = element("dd");
    const ul = element("ul");
    names.forEach(function (name) { ul.appendChild(element("li", name)); });
    dd.appendChild(ul);
    return dd;
  }

  function clear() {
    svg.classList.remove("dim");
    svg.querySelectorAll(".selected, .near").forEach(function (el) {
      el.classList.remove("selected", "near");
    });
    document.querySelectorAll(".tag.on").forEach(function (el) { el.classList.remove("on"); });
  }

  function show(id) {
    clear();
    const item = data[id];
    const chosen = document.getElementById(id);
    chosen.classList.add("selected");
    edges.forEach(function (edge) {
      const from = edge.getAttribute("data-from");
      const to = edge.getAttribute("data-to");
      if (from === id || to === id) {
        edge.classList.add("near");
        document.getElementById(from === id ? to : from).classList.add("near");
      }
    });
    svg.classList.add("dim");
    details.replaceChildren();
    details.appendChild(element("h2", item.name));
    const dl = element("dl");
    function row(label, dd) { dl.appendChild(element("dt", label)); dl.appendChild(dd); }
    if (item.kind === "node") {
      row("function", element("dd", item.func));
      row("namespace", element("dd", item.namespace || "none"));
      row("tags", element("dd", item.tags.length ? item.tags.join(", ") : "none"));
      row("inputs", list(item.inputs));
      row("outputs", list(item.outputs));
    } else {
      row("kind", element("dd", item.kind === "parameters" ? "parameters" : "dataset"));
      row("made by", list(item.inputs));
      row("used by", list(item.outputs));
    }
    details.appendChild(dl);
  }

  vertices.forEach(function (el) {
    el.addEventListener("click", function () { show(el.id); });
    el.addEventListener("keydown", function (event) {
      if (event.key === "Enter" || event.key === " ") show(el.id);
    });
  });

  document.querySelectorAll(".tag").forEach(function (button) {
    button.addEventListener("click", function () {
      const on = !button.classList.contains("on");
      clear();
      details.replaceChildren(element("p", "Nothing selected.", "hint"));
      if (!on) return;
      button.classList.add("on");
      const tag = button.getAttribute("data-tag");
      svg.classList.add("dim");
      svg.querySelectorAll(".node").forEach(function (el) {
        if (el.getAttribute("data-tags").split(" ").indexOf(tag) >= 0) el.classList.add("near");
      });
    });
  });

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      clear();
      details.replaceChildren(element("p", "Nothing selected.", "hint"));
    }
  });
})();
