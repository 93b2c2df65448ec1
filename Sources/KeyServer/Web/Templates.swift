/// Every page's mustache template, compiled into the binary (no resource files, no Bundle lookup).
/// `layout` is the frame; each page is `{{<layout}}{{$main}}…{{/main}}{{/layout}}` and reads its
/// own fields inside `{{#view}}`, the page-wide ones (`title`, `user`, `csrf`, `nav`) from `PageFrame`.
///
/// Rules the templates keep: `{{ }}` only (HTML-escaped), never `{{{ }}}`; no inline script or
/// style (the CSP forbids both); every POST form but the sign-in carries the session's `csrf` (GET
/// forms carry none: a token must not end up in a URL); every input has a `<label>`; buttons are
/// `<button>`s.
/// Optional fields are named uniquely: mustache looks a missing name up in the enclosing objects.
enum WebTemplates {
    static let all: [String: String] = [
        "layout": layout, "login": login, "device": device, "device-confirm": deviceConfirm, "device-done": deviceDone,
        "keys": keys, "key-created": keyCreated, "confirm": confirm, "audit": audit, "password": password, "error": error,
    ]

    static let layout = """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{title}} · dev-infra</title>
        <link rel="stylesheet" href="/static/app.css">
        <script src="/static/app.js" defer></script>
        </head>
        <body>
        <a class="skip" href="#main">Skip to the content</a>
        <header class="site">
        <div class="bar">
        <a class="brand" href="/keys">dev-infra</a>
        {{#user}}
        <nav aria-label="Pages">
        <ul>
        <li><a href="/keys"{{#nav.keys}} aria-current="page"{{/nav.keys}}>Keys</a></li>
        <li><a href="/device"{{#nav.device}} aria-current="page"{{/nav.device}}>Approve a device</a></li>
        {{#admin}}<li><a href="/audit"{{#nav.audit}} aria-current="page"{{/nav.audit}}>Audit</a></li>{{/admin}}
        <li><a href="/account/password"{{#nav.password}} aria-current="page"{{/nav.password}}>Password</a></li>
        </ul>
        </nav>
        <form class="signout" method="post" action="/logout">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <span class="who">Signed in as <strong>{{name}}</strong>{{#admin}} (admin){{/admin}}</span>
        <button type="submit" class="quiet">Sign out</button>
        </form>
        {{/user}}
        </div>
        </header>
        <main id="main">
        <h1>{{title}}</h1>
        {{$main}}{{/main}}
        </main>
        </body>
        </html>

        """

    static let login = """
        {{<layout}}{{$main}}{{#view}}
        {{#notice}}<p class="notice" role="status">{{.}}</p>{{/notice}}
        {{#loginError}}<p class="error" role="alert">{{.}}</p>{{/loginError}}
        {{#forDevice}}<p>Sign in to approve the code your terminal shows.</p>{{/forDevice}}
        <form class="card" method="post" action="/login">
        <input type="hidden" name="next" value="{{next}}">
        <p class="field"><label for="username">Username</label>
        <input id="username" name="username" type="text" value="{{username}}" autocomplete="username" autocapitalize="none" spellcheck="false" maxlength="100" required autofocus></p>
        <p class="field"><label for="password">Password</label>
        <input id="password" name="password" type="password" autocomplete="current-password" maxlength="1024" required></p>
        <p><button type="submit" class="primary">Sign in</button></p>
        </form>
        {{/view}}{{/main}}{{/layout}}
        """

    static let device = """
        {{<layout}}{{$main}}{{#view}}
        <p>Type the code that <code>dev-infra login --web</code> shows in your terminal.</p>
        {{#codeError}}<p class="error" role="alert">{{.}}</p>{{/codeError}}
        <form class="card" method="get" action="/device">
        <p class="field"><label for="user_code">Code</label>
        <input id="user_code" name="user_code" type="text" value="{{code}}" autocomplete="off" autocapitalize="characters" spellcheck="false" maxlength="20" required autofocus aria-describedby="code-help">
        <span id="code-help" class="hint">Eight letters, such as WDJB-MJHT; the dash is optional.</span></p>
        <p><button type="submit" class="primary">Continue</button></p>
        </form>
        {{/view}}{{/main}}{{/layout}}
        """

    static let deviceConfirm = """
        {{<layout}}{{$main}}{{#view}}
        <p>A command line asks to act as <strong>{{account}}</strong>. Check that the code below is the one your terminal shows, and approve only a request you started yourself.</p>
        <dl class="facts">
        <dt>Code</dt><dd><code class="code">{{display}}</code></dd>
        <dt>Machine, as it names itself</dt><dd>{{machine}}</dd>
        <dt>Asked from</dt><dd>{{requestedFrom}} at {{requestedAt}}</dd>
        <dt>Scopes it gets</dt><dd>{{#granted}}<code>{{.}}</code> {{/granted}}{{^granted}}none{{/granted}}</dd>
        {{#hasWithheld}}<dt>Asked for, but not yours to give</dt><dd>{{#withheld}}<code>{{.}}</code> {{/withheld}}</dd>{{/hasWithheld}}
        <dt>Code expires</dt><dd>{{expires}}</dd>
        </dl>
        <p>On approval the machine receives a new personal key, <strong>{{keyName}}</strong>, which you can revoke on the <a href="/keys">keys page</a>.</p>
        <div class="actions">
        <form method="post" action="/device/approve">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <input type="hidden" name="user_code" value="{{code}}">
        <button type="submit" class="primary">Approve</button>
        </form>
        <form method="post" action="/device/deny">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <input type="hidden" name="user_code" value="{{code}}">
        <button type="submit" class="danger">Deny</button>
        </form>
        </div>
        {{/view}}{{/main}}{{/layout}}
        """

    static let deviceDone = """
        {{<layout}}{{$main}}{{#view}}
        {{#approved}}<p class="success" role="status">Approved: <strong>{{machine}}</strong> now holds a key of <strong>{{account}}</strong>. The command line in your terminal picks it up within a few seconds.</p>{{/approved}}
        {{^approved}}<p class="notice" role="status">Denied: <strong>{{machine}}</strong> gets no key, and the command line stops with <code>access_denied</code>.</p>{{/approved}}
        <p>You can close this page, or <a href="/keys">see your keys</a>.</p>
        {{/view}}{{/main}}{{/layout}}
        """

    static let keys = """
        {{<layout}}{{$main}}{{#view}}
        {{#notice}}<p class="success" role="status">{{.}}</p>{{/notice}}
        {{#filters}}
        <form class="card filters" method="get" action="/keys">
        <fieldset>
        <legend>Show keys of</legend>
        <p class="check"><input id="f-all" name="all" type="checkbox" value="true"{{#all}} checked{{/all}}><label for="f-all">everyone</label></p>
        <p class="field"><label for="f-owner">Owner</label>
        <input id="f-owner" name="owner" type="text" value="{{owner}}" maxlength="100" autocapitalize="none" spellcheck="false"></p>
        <p class="field"><label for="f-team">Team</label>
        <input id="f-team" name="team" type="text" value="{{team}}" maxlength="100" autocapitalize="none" spellcheck="false"></p>
        <p class="actions"><button type="submit">Show</button> <a href="/keys">Only mine</a></p>
        </fieldset>
        </form>
        {{/filters}}
        <h2 id="keys-heading">{{heading}}</h2>
        {{^rows}}<p>No keys to show.</p>{{/rows}}
        {{#hasRows}}
        <div class="table-wrap" role="region" aria-labelledby="keys-heading" tabindex="0">
        <table class="stack">
        <thead><tr><th scope="col">Name</th><th scope="col">ID</th><th scope="col">Owner</th><th scope="col">State</th><th scope="col">Scopes</th><th scope="col">Team</th><th scope="col">Last used</th><th scope="col">Expires</th><th scope="col">Actions</th></tr></thead>
        <tbody>
        {{#rows}}
        <tr>
        <th scope="row">{{name}}</th>
        <td data-label="ID"><code>{{id}}</code></td>
        <td data-label="Owner">{{owner}}</td>
        <td data-label="State"><span class="state state-{{state}}">{{state}}</span>{{#rowNote}}<br><span class="hint">{{.}}</span>{{/rowNote}}</td>
        <td data-label="Scopes">{{#scopes}}<code>{{.}}</code> {{/scopes}}</td>
        <td data-label="Team">{{team}}</td>
        <td data-label="Last used">{{lastUsed}}</td>
        <td data-label="Expires">{{expires}}</td>
        <td class="row-actions" data-label="Actions">{{#canRotate}}<a href="/keys/{{id}}/rotate">Rotate<span class="visually-hidden"> {{name}}</span></a> {{/canRotate}}{{#canRevoke}}<a href="/keys/{{id}}/revoke">Revoke<span class="visually-hidden"> {{name}}</span></a>{{/canRevoke}}</td>
        </tr>
        {{/rows}}
        </tbody>
        </table>
        </div>
        {{/hasRows}}
        {{#nextPage}}<p><a href="{{.}}">Next page</a></p>{{/nextPage}}
        <h2 id="create-heading">Create a key</h2>
        <form class="card" method="post" action="/keys" aria-labelledby="create-heading">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <p class="field"><label for="name">Name</label>
        <input id="name" name="name" type="text" maxlength="100" required aria-describedby="name-help">
        <span id="name-help" class="hint">What the key is for, such as “CI deploy”.</span></p>
        <fieldset>
        <legend>Scopes</legend>
        {{#scopeOptions}}
        <p class="check"><input id="{{inputID}}" name="scopes" type="checkbox" value="{{scope}}"{{#checked}} checked{{/checked}}><label for="{{inputID}}"><code>{{scope}}</code>: {{about}}</label></p>
        {{/scopeOptions}}
        </fieldset>
        {{#teamChoice}}
        <p class="field"><label for="team">Team</label>
        <select id="team" name="team" aria-describedby="team-help"><option value="">no team</option>{{#teams}}<option value="{{.}}">{{.}}</option>{{/teams}}</select>
        <span id="team-help" class="hint">A key bound to a team acts for that team only.</span></p>
        {{/teamChoice}}
        {{#teamFree}}
        <p class="field"><label for="team">Team</label>
        <input id="team" name="team" type="text" maxlength="100" autocapitalize="none" spellcheck="false" aria-describedby="team-help">
        <span id="team-help" class="hint">Optional: a key bound to a team acts for that team only.</span></p>
        {{/teamFree}}
        <p class="field"><label for="expires_in">Expires</label>
        <select id="expires_in" name="expires_in">{{#expiryOptions}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/expiryOptions}}</select></p>
        <p><button type="submit" class="primary">Create key</button></p>
        </form>
        {{/view}}{{/main}}{{/layout}}
        """

    static let keyCreated = """
        {{<layout}}{{$main}}{{#view}}
        <p class="notice" role="status"><strong>Copy this key now.</strong> It is shown this once: the server keeps only a hash of it.</p>
        <div class="card">
        <p class="field"><label for="raw-key">The new key “{{name}}”</label>
        <span class="copy-row"><input id="raw-key" type="text" value="{{rawKey}}" readonly autocomplete="off" autocapitalize="none" spellcheck="false" autofocus>
        <button type="button" class="copy" data-copy="raw-key" data-status="copy-status" hidden>Copy</button></span>
        <span id="copy-status" class="hint" role="status" aria-live="polite"></span></p>
        </div>
        <dl class="facts">
        <dt>ID</dt><dd><code>{{id}}</code></dd>
        <dt>Scopes</dt><dd>{{#scopes}}<code>{{.}}</code> {{/scopes}}</dd>
        <dt>Team</dt><dd>{{team}}</dd>
        <dt>Expires</dt><dd>{{expires}}</dd>
        {{#graceNote}}<dt>The old key</dt><dd>{{.}}</dd>{{/graceNote}}
        </dl>
        <p><a href="/keys">Back to the keys</a></p>
        {{/view}}{{/main}}{{/layout}}
        """

    static let confirm = """
        {{<layout}}{{$main}}{{#view}}
        {{#rotate}}
        <p>Rotate the key <strong>{{name}}</strong> (<code>{{id}}</code>)? A new key with the same name, scopes and team replaces it; you see the new key once.</p>
        <form class="card" method="post" action="/keys/{{id}}/rotate">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <p class="field"><label for="grace_seconds">The old key keeps working for</label>
        <select id="grace_seconds" name="grace_seconds">
        <option value="0">no time: it stops now</option>
        <option value="3600">1 hour</option>
        <option value="86400">1 day</option>
        <option value="604800" selected>7 days</option>
        </select></p>
        <p class="actions"><button type="submit" class="primary">Rotate the key</button> <a href="/keys">Cancel</a></p>
        </form>
        {{/rotate}}
        {{#revoke}}
        <p>Revoke the key <strong>{{name}}</strong> (<code>{{id}}</code>)? It stops working at once, everywhere, and cannot be turned on again.</p>
        <form class="card" method="post" action="/keys/{{id}}/revoke">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <p class="field"><label for="reason">Reason (optional, kept in the audit)</label>
        <input id="reason" name="reason" type="text" maxlength="500"></p>
        <p class="actions"><button type="submit" class="danger">Revoke the key</button> <a href="/keys">Cancel</a></p>
        </form>
        {{/revoke}}
        {{/view}}{{/main}}{{/layout}}
        """

    static let audit = """
        {{<layout}}{{$main}}{{#view}}
        <form class="card filters" method="get" action="/audit">
        <fieldset>
        <legend>Only rows with</legend>
        <p class="field"><label for="a-event">Event</label>
        <input id="a-event" name="event" type="text" value="{{filterEvent}}" maxlength="100" autocapitalize="none" spellcheck="false" aria-describedby="event-help">
        <span id="event-help" class="hint">Such as key.created, key.revoked, login, device.approved.</span></p>
        <p class="field"><label for="a-actor">Actor</label>
        <input id="a-actor" name="actor" type="text" value="{{filterActor}}" maxlength="100" autocapitalize="none" spellcheck="false"></p>
        <p class="field"><label for="a-key">Key ID</label>
        <input id="a-key" name="key_id" type="text" value="{{filterKey}}" maxlength="100" autocapitalize="none" spellcheck="false"></p>
        <p class="actions"><button type="submit">Show</button> <a href="/audit">All rows</a></p>
        </fieldset>
        </form>
        <h2 id="audit-heading">{{heading}}</h2>
        {{^rows}}<p>No rows.</p>{{/rows}}
        {{#hasRows}}
        <div class="table-wrap" role="region" aria-labelledby="audit-heading" tabindex="0">
        <table>
        <thead><tr><th scope="col">When (UTC)</th><th scope="col">Event</th><th scope="col">Actor</th><th scope="col">Credential</th><th scope="col">Key</th><th scope="col">Target</th><th scope="col">Team</th><th scope="col">Code</th><th scope="col">Client</th><th scope="col">Count</th><th scope="col">Reason</th></tr></thead>
        <tbody>
        {{#rows}}
        <tr><td>{{at}}</td><th scope="row">{{event}}</th><td>{{actor}}</td><td>{{credential}}</td><td><code>{{keyID}}</code></td><td>{{target}}</td><td>{{team}}</td><td>{{code}}</td><td>{{client}}</td><td>{{count}}</td><td>{{reason}}</td></tr>
        {{/rows}}
        </tbody>
        </table>
        </div>
        {{/hasRows}}
        {{/view}}{{/main}}{{/layout}}
        """

    static let password = """
        {{<layout}}{{$main}}{{#view}}
        {{#passwordError}}<p class="error" role="alert">{{.}}</p>{{/passwordError}}
        <p>Changing your password signs you out everywhere, in this browser too.</p>
        <form class="card" method="post" action="/account/password">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <p class="field"><label for="current_password">Current password</label>
        <input id="current_password" name="current_password" type="password" autocomplete="current-password" maxlength="1024" required></p>
        <p class="field"><label for="new_password">New password</label>
        <input id="new_password" name="new_password" type="password" autocomplete="new-password" minlength="8" maxlength="1024" required aria-describedby="new-help">
        <span id="new-help" class="hint">At least 8 characters.</span></p>
        <p class="field"><label for="confirm_password">New password, again</label>
        <input id="confirm_password" name="confirm_password" type="password" autocomplete="new-password" minlength="8" maxlength="1024" required></p>
        <p><button type="submit" class="primary">Change the password</button></p>
        </form>
        {{/view}}{{/main}}{{/layout}}
        """

    static let error = """
        {{<layout}}{{$main}}{{#view}}
        <p class="error" role="alert">{{message}}</p>
        <dl class="facts">
        <dt>Status</dt><dd>{{status}}</dd>
        <dt>Code</dt><dd><code>{{code}}</code></dd>
        {{#requestID}}<dt>Request</dt><dd><code>{{.}}</code></dd>{{/requestID}}
        </dl>
        <p>{{#signedIn}}<a href="/keys">Back to the keys</a>{{/signedIn}}{{^signedIn}}<a href="/login">Sign in</a>{{/signedIn}}</p>
        {{/view}}{{/main}}{{/layout}}
        """
}
