/* dialogs.js: the in-page dialogs that replace the browser's own. */
import { el } from "./dom.js";
import { t } from "./i18n.js";

/* An in-page question in place of window.confirm(): a modal <dialog> (the page behind it is
 * inert), labelled by its title and described by its text; Tab and Shift+Tab stay on its
 * buttons, Escape or Cancel answers false, the confirming button true, and focus goes back to
 * where it was. The browser's own confirm() blocks every page script (the live stream stops
 * drawing) and cannot be styled, translated or tested like the page. Resolves to a boolean. */
var dialogs = 0;
export function confirmDialog(options) {
  var opener = document.activeElement;
  var id = "live-dialog-" + (dialogs += 1);
  return new Promise(function (resolve) {
    var cancel = el("button", { type: "button", class: "button", text: options.cancel || t("Cancel"), "data-answer": "cancel" });
    var confirm = el("button", {
      type: "button",
      class: "button " + (options.danger ? "button-danger" : "button-primary"),
      text: options.confirm,
      "data-answer": "confirm",
    });
    var dialog = el("dialog", {
      class: "live-dialog",
      "aria-labelledby": id + "-title",
      "aria-describedby": options.text ? id + "-text" : null,
    },
    el("h2", { id: id + "-title", class: "live-dialog-title", dir: "auto", text: options.title }),
    options.text ? el("p", { id: id + "-text", class: "live-dialog-text", dir: "auto", text: options.text }) : null,
    el("div", { class: "live-dialog-actions" }, cancel, confirm));
    var answered = false;
    function answer(value) {
      if (answered) return;
      answered = true;
      dialog.close();
      dialog.remove();
      if (opener && opener.focus && document.contains(opener)) opener.focus({ preventScroll: true });
      resolve(value);
    }
    cancel.addEventListener("click", function () { answer(false); });
    confirm.addEventListener("click", function () { answer(true); });
    dialog.addEventListener("cancel", function (event) { event.preventDefault(); answer(false); }); // Escape
    dialog.addEventListener("keydown", function (event) {
      if (event.key === "Escape") { event.preventDefault(); answer(false); return; }
      if (event.key !== "Tab") return;
      var buttons = Array.prototype.slice.call(dialog.querySelectorAll("button:not([disabled])"));
      var at = buttons.indexOf(document.activeElement);
      var next = event.shiftKey ? (at <= 0 ? buttons.length - 1 : at - 1) : (at + 1) % buttons.length;
      event.preventDefault();
      buttons[next].focus();
    });
    document.body.appendChild(dialog);
    dialog.showModal();
    (options.danger ? cancel : confirm).focus(); // a destructive answer is never the default
  });
}
