import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// `/static/app.css` and `/static/app.js`, from string constants: no files to ship, no external
/// fonts or assets. Cached a day by browsers (`Cache-Control: public, max-age=86400`).
///
/// Colours (WCAG 2 contrast ratios, all at least 4.5:1): text #1b1f24 on white 16.6, muted text
/// #4b5563 on white 7.6 (on #f3f4f6 6.9), links and primary buttons #0a58ca / white 6.4, danger
/// buttons #b3261e / white 6.5, the header white on #1f2937 14.7, errors #7a1712 on #fdecea 9.4,
/// notices #0b3d91 on #e8f1fb 8.8, success #14532d on #e7f5ec 8.1. Focus rings: #b45309 on white
/// 5.0, #ffbf47 on the header 8.9.
enum WebStatic {
    static let maxAge = "public, max-age=86400"

    static func register(_ router: Router<ServerContext>) {
        router.get("static/app.css") { _, _ in WebStatic.asset(WebStatic.css, type: "text/css; charset=utf-8") }
        router.get("static/app.js") { _, _ in WebStatic.asset(WebStatic.js, type: "text/javascript; charset=utf-8") }
    }

    static func asset(_ text: String, type: String) -> Response {
        Response(status: .ok, headers: [.contentType: type, .cacheControl: maxAge, .xContentTypeOptions: "nosniff"],
                 body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static let css = """
        *, *::before, *::after { box-sizing: border-box; }
        html { font-size: 100%; -webkit-text-size-adjust: 100%; text-size-adjust: 100%; }
        body {
          margin: 0; color: #1b1f24; background: #ffffff; line-height: 1.5;
          font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
        }
        code, .code, input#raw-key { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; }
        code { overflow-wrap: anywhere; }
        a { color: #0a58ca; text-decoration: underline; text-underline-offset: 0.15em; }
        a:hover { text-decoration-thickness: 2px; }
        :focus-visible { outline: 3px solid #b45309; outline-offset: 2px; }
        input:focus, select:focus { outline: 3px solid #b45309; outline-offset: 1px; }
        .skip { position: absolute; left: -9999px; top: 0; }
        .skip:focus { left: 0.5rem; top: 0.5rem; z-index: 10; background: #ffffff; color: #0a58ca; padding: 0.5rem 0.75rem; }
        .visually-hidden {
          position: absolute; width: 1px; height: 1px; margin: -1px; padding: 0; overflow: hidden;
          clip: rect(0 0 0 0); white-space: nowrap; border: 0;
        }

        header.site { background: #1f2937; color: #ffffff; }
        header.site .bar {
          max-width: 72rem; margin: 0 auto; padding: 0.5rem 1rem;
          display: flex; flex-wrap: wrap; align-items: center; gap: 0.5rem 1.25rem;
        }
        header.site a { color: #ffffff; }
        header.site :focus-visible { outline-color: #ffbf47; }
        header.site .brand { font-weight: 700; font-size: 1.125rem; text-decoration: none; }
        header.site nav ul { list-style: none; margin: 0; padding: 0; display: flex; flex-wrap: wrap; gap: 0.25rem 1rem; }
        header.site nav a[aria-current="page"] { font-weight: 700; text-decoration-thickness: 3px; }
        header.site .signout { margin: 0 0 0 auto; display: flex; flex-wrap: wrap; align-items: center; gap: 0.5rem; }
        header.site .who { color: #ffffff; }
        header.site button.quiet { background: #1f2937; color: #ffffff; border-color: #d1d5db; }

        main { max-width: 72rem; margin: 0 auto; padding: 1rem 1rem 3rem; }
        h1 { font-size: 1.75rem; line-height: 1.25; margin: 0.5rem 0 1rem; }
        h2 { font-size: 1.25rem; margin: 2rem 0 0.75rem; }

        .card { border: 1px solid #d1d5db; border-radius: 0.5rem; padding: 1rem; max-width: 36rem; background: #ffffff; }
        .filters { max-width: 48rem; }
        fieldset { border: 0; margin: 0 0 0.75rem; padding: 0; min-width: 0; }
        legend { font-weight: 700; padding: 0; margin-bottom: 0.5rem; }
        .field { margin: 0 0 1rem; }
        .field label { display: block; font-weight: 600; margin-bottom: 0.25rem; }
        .check { margin: 0 0 0.5rem; display: flex; align-items: flex-start; gap: 0.5rem; }
        .check input { margin-top: 0.3rem; width: 1.125rem; height: 1.125rem; flex: none; }
        .hint { display: block; color: #4b5563; font-size: 0.9375rem; margin-top: 0.25rem; }
        input[type="text"], input[type="password"], select {
          font: inherit; color: #1b1f24; background: #ffffff; width: 100%; max-width: 100%;
          padding: 0.5rem 0.625rem; border: 1px solid #4b5563; border-radius: 0.375rem; min-height: 2.75rem;
        }
        input[readonly] { background: #f3f4f6; }
        button {
          font: inherit; font-weight: 600; cursor: pointer; min-height: 2.75rem; padding: 0.5rem 1rem;
          border: 1px solid #4b5563; border-radius: 0.375rem; background: #ffffff; color: #1b1f24;
        }
        button.primary { background: #0a58ca; border-color: #0a58ca; color: #ffffff; }
        button.danger { background: #b3261e; border-color: #b3261e; color: #ffffff; }
        button:hover { filter: brightness(0.95); }
        .actions { display: flex; flex-wrap: wrap; align-items: center; gap: 0.75rem; margin: 1rem 0 0; }
        .actions form { margin: 0; }

        .error, .notice, .success { border-radius: 0.375rem; padding: 0.75rem 1rem; max-width: 48rem; border: 1px solid; }
        .error { background: #fdecea; color: #7a1712; border-color: #7a1712; }
        .notice { background: #e8f1fb; color: #0b3d91; border-color: #0b3d91; }
        .success { background: #e7f5ec; color: #14532d; border-color: #14532d; }

        .facts { display: grid; grid-template-columns: max-content 1fr; gap: 0.375rem 1rem; max-width: 48rem; }
        .facts dt { font-weight: 600; }
        .facts dd { margin: 0; overflow-wrap: anywhere; }
        .code { font-size: 1.5rem; letter-spacing: 0.1em; }

        .copy-row { display: flex; flex-wrap: wrap; gap: 0.5rem; }
        .copy-row input { flex: 1 1 16rem; }

        /* relative: the visually hidden labels inside (absolutely placed) stay within the scroller. */
        .table-wrap { position: relative; overflow-x: auto; max-width: 100%; border: 1px solid #d1d5db; border-radius: 0.375rem; }
        table { border-collapse: collapse; width: 100%; font-size: 0.9375rem; }
        th, td { text-align: left; vertical-align: top; padding: 0.5rem 0.625rem; border-bottom: 1px solid #d1d5db; }
        thead th { background: #f3f4f6; white-space: nowrap; }
        tbody th { font-weight: 600; }
        td code { overflow-wrap: normal; white-space: nowrap; }
        .row-actions { white-space: nowrap; }
        .row-actions a + a { margin-left: 0.75rem; }
        .state { font-weight: 600; }
        .state-revoked, .state-expired, .state-disabled { color: #7a1712; }
        .state-rotating { color: #0b3d91; }
        .state-active { color: #14532d; }

        @media (max-width: 40rem) {
          h1 { font-size: 1.5rem; }
          header.site .signout { margin-left: 0; }
          .facts { grid-template-columns: 1fr; }
          .facts dd { margin-bottom: 0.5rem; }
          /* On a phone a key is a card: each cell on its own line, named by its column. */
          .table-wrap:has(table.stack) { border: 0; }
          table.stack thead { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
          table.stack tr { display: block; border: 1px solid #d1d5db; border-radius: 0.375rem; margin-bottom: 0.75rem; }
          table.stack th, table.stack td { display: block; border-bottom: 0; padding: 0.25rem 0.75rem; }
          table.stack td::before { content: attr(data-label) ": "; font-weight: 600; }
          table.stack .row-actions { white-space: normal; }
        }

        """

    static let js = """
        // dev-infra pages: the copy button beside a key that is shown once. That is all the script
        // does; without it (or without the clipboard API) the button stays hidden and the key is
        // selected and copied by hand from its read-only field.
        (function () {
          "use strict";
          if (!navigator.clipboard || typeof navigator.clipboard.writeText !== "function") { return; }
          var buttons = document.querySelectorAll("button[data-copy]");
          Array.prototype.forEach.call(buttons, function (button) {
            var field = document.getElementById(button.getAttribute("data-copy"));
            var status = document.getElementById(button.getAttribute("data-status"));
            if (!field) { return; }
            button.hidden = false;
            button.addEventListener("click", function () {
              navigator.clipboard.writeText(field.value).then(function () {
                if (status) { status.textContent = "Copied."; }
              }, function () {
                field.focus();
                field.select();
                if (status) { status.textContent = "Copying failed: the key is selected, copy it by hand."; }
              });
            });
          });
        }());

        """
}
