/* tabs.js: a page with tabs imports it for its effect (`import "./lib/tabs.js"`).
 *
 * Tabs (role="tablist"): arrow keys move between them and choose the one reached, Home and End
 * go to the ends; only the chosen tab is in the Tab order (WAI-ARIA's tabs pattern). All of the
 * page's tabs, whatever script draws them: the page's own click handler does the choosing. */
function tabsOf(node) {
  var tablist = node && node.closest ? node.closest('[role="tablist"]') : null;
  return tablist ? Array.prototype.slice.call(tablist.querySelectorAll('[role="tab"]')) : [];
}
function rove(tabs, chosen) {
  tabs.forEach(function (tab) { tab.setAttribute("tabindex", tab === chosen ? "0" : "-1"); });
}
function setUpTabs() {
  document.querySelectorAll('[role="tablist"]').forEach(function (tablist) {
    var tabs = tabsOf(tablist.querySelector('[role="tab"]'));
    rove(tabs, tabs.filter(function (tab) { return tab.getAttribute("aria-selected") === "true"; })[0] || tabs[0]);
  });
}
document.addEventListener("click", function (event) {
  var tab = event.target.closest && event.target.closest('[role="tab"]');
  if (tab) rove(tabsOf(tab), tab);
});
document.addEventListener("keydown", function (event) {
  var tab = event.target.closest && event.target.closest('[role="tab"]');
  var tabs = tabsOf(tab);
  if (!tab || !tabs.length) return;
  var at = tabs.indexOf(tab);
  var vertical = tab.closest('[role="tablist"]').getAttribute("aria-orientation") === "vertical";
  var next = { ArrowRight: at + 1, ArrowLeft: at - 1, Home: 0, End: tabs.length - 1 };
  if (vertical) next = { ArrowDown: at + 1, ArrowUp: at - 1, Home: 0, End: tabs.length - 1 };
  if (!(event.key in next)) return;
  event.preventDefault();
  var target = tabs[(next[event.key] + tabs.length) % tabs.length];
  target.focus();
  target.click();
});
if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setUpTabs);
else setUpTabs();
