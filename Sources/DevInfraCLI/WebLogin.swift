import DevInfraClient
import DevInfraCore
import Foundation

/// `login --web`: the device authorization grant (RFC 8628) from the CLI's side. Asks the server
/// for a code, shows it and the URL where a person signs in and approves it (opening a browser
/// where there is one), and waits, a spinner turning on a terminal, for the key the server mints
/// for this machine. No password passes through the terminal.
struct WebLogin {
    static let clientID = "dev-infra"
    /// What `login` asks for with a password too: the user's everyday scopes, never admin.
    static let scope = "keys:read keys:write projects:read projects:write"

    let session: Session
    var openBrowser = true
    var flow = DeviceFlow.live
    var opener: BrowserOpener?
    /// The name the key gets (`dev-infra CLI on <machine>`): this host's.
    var machine = String(ProcessInfo.processInfo.hostName.prefix(100))

    /// The new key, not yet verified nor stored.
    func run() async throws -> APIKey {
        let context = session.context
        return try await session.anonymousAPI { api in
            let authorization = try await api.requestDeviceCode(clientID: Self.clientID, scope: Self.scope, machine: machine)
            let started = flow.now()
            announce(authorization)
            let deadline = DeviceFlow.deadline(of: authorization, from: started)
            var spinner: Spinner?
            // --verbose writes a line per poll, which a spinner redrawing its line would garble.
            if context.stderrIsTerminal && !session.verbose {
                spinner = Spinner(write: context.stderr, unicode: Spinner.unicode(context.environment))
                let now = flow.now
                spinner?.start { "Waiting for the code to be approved in the browser (expires in \(Self.remaining(until: deadline, now: now()))) " }
            } else {
                context.note("waiting for the code to be approved in the browser (it expires in \(Self.remaining(until: deadline, now: started)))")
            }
            let issued: DeviceFlow.Issued
            do {
                issued = try await flow.waitForKey(authorization, started: started) {
                    try await api.pollDeviceToken(deviceCode: authorization.deviceCode, clientID: Self.clientID)
                }
                spinner?.stop()
            } catch {
                spinner?.stop()
                throw error
            }
            let key = try APIKey.parse(issued.accessToken)
            if let id = issued.keyID {
                context.note(Printable.escaped("approved in the browser: created key \(id)" + (issued.keyName.map { " \"\($0)\"" } ?? "")))
            } else {
                context.note("approved in the browser")
            }
            return key
        }
    }

    /// The code, then where to type it, on stderr: stdout stays clean for scripts. The code comes
    /// first so that it is copied before the browser takes the focus.
    private func announce(_ authorization: DeviceAuthorization) {
        let context = session.context
        let code = Printable.escaped(authorization.userCode)
        context.stderr("! First copy your one-time code: \(code)\n")
        context.stderr("Open this URL in a browser: \(Printable.escaped(authorization.verificationURI))\n")
        if let complete = authorization.verificationURIComplete, !complete.isEmpty {
            context.stderr("  (or this one, which fills the code in: \(Printable.escaped(complete)))\n")
        }
        guard openBrowser else { return }
        let url = authorization.verificationURIComplete.flatMap { $0.isEmpty ? nil : $0 } ?? authorization.verificationURI
        // A browser opens only on the server this profile talks to: a wrong or hostile server must
        // not be able to send the person to a look-alike sign-in page with one keystroke.
        guard OIDCTokenSource.origin(of: url) == OIDCTokenSource.origin(of: session.server.url) else {
            context.note("no browser opened: the sign-in URL is not on \(Printable.escaped(session.server.url)); open it yourself only if you trust it")
            return
        }
        let browser = self.opener ?? BrowserOpener(environment: context.environment)
        if let why = browser.open(url) {
            context.note("no browser opened: \(why); open the URL above yourself")
        } else {
            context.note("opened a browser at the URL above; compare the code it shows with \(code)")
        }
    }

    /// `9m 58s`, `42s`.
    static func remaining(until deadline: Date, now: Date) -> String {
        let seconds = max(0, Int(deadline.timeIntervalSince(now).rounded(.down)))
        return seconds >= 60 ? "\(seconds / 60)m \(String(format: "%02d", seconds % 60))s" : "\(seconds)s"
    }
}
