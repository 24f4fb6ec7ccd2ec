// A refused form (4xx) answers with its page again, the reason said above the form. htmx leaves such answers
// unswapped unless told: into an element marked `data-swap-refusals`, swap them when they hold the part the
// request selects (an error page without it would only blank the list). Without this file the form still works.
document.addEventListener("htmx:beforeSwap", (event) => {
  const detail = event.detail;
  const status = detail.xhr.status;
  const into = detail.target;
  if (status < 400 || status >= 500 || !into || !into.closest("[data-swap-refusals]")) {
    return;
  }
  const asking = detail.requestConfig && detail.requestConfig.elt;
  const chosen = asking && asking.closest("[hx-select]");
  const part = chosen ? chosen.getAttribute("hx-select") : null;
  if (part && part.startsWith("#") && detail.serverResponse.includes(`id="${part.slice(1)}"`)) {
    detail.shouldSwap = true;
    detail.isError = false;
  }
});
