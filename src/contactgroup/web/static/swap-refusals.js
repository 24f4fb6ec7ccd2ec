// A refused form (4xx) answers with its page again, the reason said above the form. htmx leaves such answers
// unswapped unless told: inside an element marked `data-swap-refusals`, swap them when they hold the part the
// request selects (an error page without it would only blank the list). Without this file the form still works.
document.addEventListener("htmx:beforeSwap", (event) => {
  const status = event.detail.xhr.status;
  const elt = event.detail.elt;
  if (status < 400 || status >= 500 || !elt.closest("[data-swap-refusals]")) {
    return;
  }
  const part = elt.getAttribute("hx-select");
  if (part && part.startsWith("#") && event.detail.serverResponse.includes(`id="${part.slice(1)}"`)) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});
