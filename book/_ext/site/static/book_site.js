/* The book's own script on every page (book/_ext/book_site.py).
 *
 * Frame players: the slider gets a name that a screen reader says, and
 * its value is read out as "frame 3 of 12". A player never starts on its
 * own; it moves only when its reader presses Play or moves the slider,
 * with or without a request for reduced motion.
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

  cleanExcerpts();
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", () => {
      cleanExcerpts();
      labelPlayers();
    });
  } else {
    labelPlayers();
  }
})();
