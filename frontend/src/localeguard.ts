// Locale guard, imported first by main.ts: WebKitGTK reports navigator.language as "C" when the
// desktop session runs under the POSIX locale, and Intl throws RangeError on such a tag; uPlot formats numbers
// with Intl.NumberFormat(navigator.language) when it loads, so without this the whole UI would not start.

/** usableLanguage is tag when Intl accepts it, else "en-US". */
export function usableLanguage(tag: string | undefined): string {
  if (!tag) return "en-US";
  try {
    new Intl.NumberFormat(tag);
    return tag;
  } catch {
    return "en-US";
  }
}

const lang = usableLanguage(typeof navigator === "undefined" ? undefined : navigator.language);
if (typeof navigator !== "undefined" && lang !== navigator.language) {
  Object.defineProperty(navigator, "language", { value: lang, configurable: true });
  Object.defineProperty(navigator, "languages", { value: [lang], configurable: true });
}
