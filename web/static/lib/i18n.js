/* i18n.js: the page's words. Every page receives its texts translated, keyed by their catalogue
 * message ids (#messages: live/web/i18n.py SCRIPT_MESSAGES; #page-messages: the page's own, in its
 * template; #messages-for: both languages, for the screens that show both). */
import { readJSON } from "./dom.js";

var messages = Object.assign({}, readJSON("messages"), readJSON("page-messages"));
var messagesFor = readJSON("messages-for"); // screens: {"zh-CN": {...}, "en": {...}}

export function t(key) {
  var text = messages[key];
  return typeof text === "string" && text ? text : key;
}

/* A message with its {placeholders} filled: fill("Moved to {room}.", {room: "Hall B"}). */
export function fill(key, values) {
  return t(key).replace(/\{(\w+)\}/g, function (all, name) { return name in values ? String(values[name]) : all; });
}

/* A string in a given language (screens that show both languages at once). */
export function tIn(language, key) {
  var text = (messagesFor[language] || {})[key];
  return typeof text === "string" && text ? text : t(key);
}

var ERROR_CODES = ["forbidden", "not_found", "invalid", "conflict", "rate_limited", "unavailable", "unknown_outcome"];

/* A refusal's reason in the page's language (live/domain/reasons.py: the template is the
 * catalogue's message id, its params filled in, words among them translated too); "" when the
 * server sent none the catalogue knows. */
function reasonText(error) {
  var reason = error && typeof error.reason === "string" ? error.reason : "";
  if (!reason || typeof messages[reason] !== "string") return "";
  var params = (error && error.params) || {};
  return t(reason).replace(/\{(\w+)\}/g, function (whole, name) {
    var value = params[name];
    if (value === undefined || value === null) return whole;
    return typeof value === "string" ? t(value) : String(value);
  });
}

/* The page's own words for the error, with what the person can act on: how long to wait, or
 * why it was refused (which field, which limit), translated. A detail the catalogue does not
 * know is shown on English pages only: a Chinese page never shows English. */
export function errorText(error) {
  var code = error && error.code;
  var seconds = Number(error && error.retry_after);
  if (code === "rate_limited" && seconds > 0) {
    return t("Too often: try again in {seconds} s.").replace("{seconds}", String(Math.ceil(seconds)));
  }
  if (ERROR_CODES.indexOf(code) >= 0 && messages[code] && messages[code] !== code) {
    var detail = reasonText(error);
    var english = (document.documentElement.lang || "").slice(0, 2) === "en";
    if (!detail && code === "invalid" && english && typeof error.message === "string") detail = error.message.slice(0, 200);
    return detail ? t("{message} ({detail})").replace("{message}", messages[code]).replace("{detail}", detail) : messages[code];
  }
  return t("Something went wrong.");
}

/* A count in words, "{n} ballots" for n: the catalogue's plural forms by CLDR category
 * (live/web/i18n.py PLURAL_SCRIPT_MESSAGES), chosen with the browser's Intl.PluralRules; in
 * another language than the page's where a screen shows both. */
export function plural(key, n, language) {
  var table = language ? messagesFor[language] || messages : messages;
  var forms = table[key] || messages[key];
  var text = key;
  if (forms && typeof forms === "object") {
    var category = new Intl.PluralRules(language || document.documentElement.lang || "en").select(n);
    text = forms[category] || forms.other || key;
  }
  return text.replace("{n}", String(n));
}

/* "1 ballot" / "12 ballots" / "12 票". */
export function ballots(n, language) {
  return plural("{n} ballots", n, language);
}

export function timeOf(seconds) {
  if (!seconds) return "";
  var date = new Date(seconds * 1000);
  return String(date.getHours()).padStart(2, "0") + ":" + String(date.getMinutes()).padStart(2, "0");
}
