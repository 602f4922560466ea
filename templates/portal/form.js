// A character counter under every long text of the form (the server refuses past the limit,
// naming the field; nothing is cut silently here either).
document.querySelectorAll("textarea[data-maxlength]").forEach(function (area) {
  var limit = parseInt(area.getAttribute("data-maxlength"), 10);
  var counter = document.createElement("p");
  counter.className = "meta counter";
  counter.id = area.id + "-counter";
  counter.setAttribute("aria-live", "polite");
  area.setAttribute("aria-describedby", counter.id);
  area.insertAdjacentElement("afterend", counter);
  var number = function (n) { return n.toString().replace(/\B(?=(\d{3})+(?!\d))/g, "."); };
  var update = function () {
    var used = area.value.normalize("NFC").length;
    counter.textContent = number(used) + " / " + number(limit) + " ký tự" +
      (used > limit ? " — vượt quá " + number(used - limit) + " ký tự" : "");
    counter.classList.toggle("error-text", used > limit);
  };
  area.addEventListener("input", update);
  update();
});
