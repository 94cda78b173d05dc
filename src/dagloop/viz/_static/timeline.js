// dagloop timeline page: a node's details next to the pointer, on hover or focus.
"use strict";
(function () {
  const details = JSON.parse(document.getElementById("data").textContent);
  const tip = document.getElementById("tip");

  function place(event) {
    const x = Math.min(event.clientX + 14, window.innerWidth - tip.offsetWidth - 8);
    const y = Math.min(event.clientY + 14, window.innerHeight - tip.offsetHeight - 8);
    tip.style.left = Math.max(x, 4) + "px";
    tip.style.top = Math.max(y, 4) + "px";
  }

  document.querySelectorAll(".task").forEach(function (task) {
    const index = Number(task.getAttribute("data-index"));
    // The page's tooltip replaces the SVG's own <title> one.
    const title = task.querySelector("title");
    if (title) title.remove();
    task.addEventListener("mouseenter", function (event) {
      tip.textContent = details[index];
      tip.style.display = "block";
      place(event);
    });
    task.addEventListener("mousemove", place);
    task.addEventListener("mouseleave", function () { tip.style.display = "none"; });
  });
})();
