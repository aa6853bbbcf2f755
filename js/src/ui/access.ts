// What the viewer shows instead of itself when it cannot work: no valid token (SPEC §3), or, in a
// notebook, no kernel any more.

import { h, setChildren } from "./dom";

export function showAccessRequired(root: HTMLElement, hadToken: boolean): void {
  root.dataset.state = "access-required";
  setChildren(
    root,
    h(
      "div",
      { class: "dcmv-access" },
      h("h1", {}, "dcmview: access required"),
      h(
        "p",
        {},
        hadToken
          ? "The access token of this page was not accepted. The server may have been restarted with a new token."
          : "This page needs the access token of the dcmview server.",
      ),
      h(
        "p",
        {},
        "Open the full address printed by the ",
        h("code", {}, "dcmview"),
        " command, e.g. ",
        h("code", {}, "dcmview: server running at http://127.0.0.1:8765/#token=…"),
        ". The token after #token= is needed once per browser tab; it is removed from the address bar and kept only for this tab.",
      ),
    ),
  );
}

export function showKernelGone(root: HTMLElement): void {
  root.dataset.state = "kernel-gone";
  setChildren(
    root,
    h(
      "div",
      { class: "dcmv-access" },
      h("h1", {}, "dcmview: the notebook kernel has stopped"),
      h(
        "p",
        {},
        "This viewer got its images from the kernel, which has shut down or restarted. ",
        "Run the cell that creates the viewer again to show it.",
      ),
    ),
  );
}
