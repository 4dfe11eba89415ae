/* The book's own script on every page (book/_ext/book_site.py).
 *
 * Frame players: the slider gets a name that a screen reader says, and
 * its value is read out as "frame 3 of 12". A player never starts on its
 * own; it moves only when its reader presses Play or moves the slider,
 * with or without a request for reduced motion.
 *
 * Controls are named by what they show: the themes give the search field
 * and the "Show code cell source" toggles a label that hides their visible
 * text ("Search" for "Search Ctrl+K"), which a reader who speaks commands
 * to the page cannot say; those labels are dropped, so that the visible
 * text is the name. Icons inside buttons are decoration, hidden from
 * assistive technology (the colour-mode button's icons carry titles,
 * "Light" and "Dark", that are not its name).
 *
 * Generated markup is repaired where it breaks a rule of WCAG: a code
 * block that scrolls sideways takes the keyboard's focus, the
 * bibliography is not announced as a list, and the index of source
 * listings nests its lists inside items.
 *
 * Search: Sphinx makes each result's excerpt from the text of the page's
 * main element, which also holds the page's buttons (download, colour
 * mode) and a copy of its title and contents kept for printing. Those are
 * left out of the excerpt, so that it starts with the page's own text.
 */
(function () {
  "use strict";

  const EXCERPT_SKIP = [
    ".bd-header-article", ".onlyprint", "#jb-print-docs-body",
    ".bd-sidebar-secondary", ".prev-next-area", ".microgpt-pdf",
  ].join(", ");

  function frameText(slider) {
    const frame = parseInt(slider.value, 10) + 1;
    return `frame ${frame} of ${parseInt(slider.max, 10) + 1}`;
  }

  function labelPlayers() {
    const sliders = document.querySelectorAll(
      ".microgpt-player input.anim-slider");
    sliders.forEach((slider) => {
      if (!slider.hasAttribute("aria-label")) {
        slider.setAttribute("aria-label", "Frame");
      }
      const say = () => slider.setAttribute("aria-valuetext",
                                            frameText(slider));
      // The buttons set the value without an input event: a change of
      // the frame's image is what every control has in common.
      const player = slider.closest(".microgpt-player");
      const image = player && player.querySelector(".animation img");
      slider.addEventListener("input", say);
      if (image) {
        new MutationObserver(say).observe(
          image, { attributes: true, attributeFilter: ["src"] });
      }
      say();
    });
  }

  function nameControls() {
    document.querySelectorAll("button i, button .fa-solid, button .fa")
      .forEach((icon) => icon.setAttribute("aria-hidden", "true"));
    // Font Awesome draws each icon as an SVG whose title is its text.
    document.querySelectorAll("button svg[aria-hidden='true'] > title")
      .forEach((title) => title.remove());
    // The colour-mode button shows only icons: its name is a text of its
    // own, hidden from view, instead of a label its icons' titles
    // contradict while Font Awesome is still drawing them.
    document.querySelectorAll(".theme-switch-button[aria-label]")
      .forEach((button) => {
        const name = document.createElement("span");
        name.className = "visually-hidden";
        name.textContent = button.getAttribute("aria-label");
        button.appendChild(name);
        button.removeAttribute("aria-label");
      });
    document.querySelectorAll(
      "summary[aria-label], .search-button-field[aria-label]"
    ).forEach((control) => {
      if (control.textContent.trim()) {
        control.removeAttribute("aria-label");
      }
    });
  }

  // Fixes to the generated markup, each for a rule of WCAG that the
  // page would otherwise break.
  function repairMarkup() {
    // A code block that scrolls sideways (a long line on a phone) can
    // be scrolled from the keyboard once it can take the focus.
    document.querySelectorAll("pre").forEach((pre) => {
      if (pre.scrollWidth > pre.clientWidth + 1) {
        pre.setAttribute("tabindex", "0");
      } else if (pre.getAttribute("tabindex") === "0") {
        pre.removeAttribute("tabindex");
      }
    });
    // The bibliography: docutils marks it as a list whose items hold
    // back-links, which a list may not hold; it is read as plain text.
    document.querySelectorAll(".citation-list[role='list']")
      .forEach((list) => {
        list.removeAttribute("role");
        list.querySelectorAll("[role='doc-biblioentry']")
          .forEach((entry) => entry.removeAttribute("role"));
      });
    // The index of source listings nests a list directly in a list: it
    // goes into the item before it.
    document.querySelectorAll("ul > ul, ol > ul").forEach((inner) => {
      const item = inner.previousElementSibling;
      if (item && item.tagName === "LI") {
        item.appendChild(inner);
      }
    });
  }

  function cleanExcerpts() {
    // searchtools.js declares Search with const: a global binding that
    // is not a property of window.
    if (typeof Search === "undefined" || !Search.htmlToText ||
        Search.htmlToText.microgpt) {
      return;
    }
    const toText = Search.htmlToText;
    Search.htmlToText = (html, anchor) => {
      const page = new DOMParser().parseFromString(html, "text/html");
      page.querySelectorAll(EXCERPT_SKIP).forEach((e) => e.remove());
      return toText(page.documentElement.outerHTML, anchor);
    };
    Search.htmlToText.microgpt = true;
  }

  function ready() {
    cleanExcerpts();
    labelPlayers();
    nameControls();
    repairMarkup();
    // Font Awesome replaces each icon by an SVG when it gets to it: the
    // buttons are named again whenever their content changes.
    const again = new MutationObserver(nameControls);
    document.querySelectorAll("button").forEach((button) =>
      again.observe(button, { childList: true, subtree: true }));
    window.addEventListener("resize", repairMarkup);
  }

  cleanExcerpts();
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ready);
  } else {
    ready();
  }
  // Once more when the themes' own scripts have run and the fonts and
  // equations are in place (they change what scrolls).
  window.addEventListener("load", () => {
    nameControls();
    repairMarkup();
  });
})();
