import ArgumentParser
import CredentialStore
import DevInfraClient
import DevInfraCore
import Foundation

/// `dev-infra login`: a key for this machine, verified by the server before anything is stored.
/// Interactive: username and hidden password → JWT → a personal key named for this host.
/// `--web`: the same key, approved in a browser (RFC 8628 device grant) instead of a password.
/// `--with-token`: a key from stdin. A secret never comes from a flag (flags show in `ps`).
struct Login: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Log in: store a key for a profile, verified by the server.",
        discussion: """
        On a terminal, asks for a username and password and mints a personal key for this machine. \
        With --web, prints a one-time code and a URL instead, opens a browser where there is one \
        ($BROWSER, or xdg-open on a graphical session; not with --no-browser), and waits while someone \
        signs in there and approves the code; the server then mints the key for this machine. \
        A denied code exits 3 with [access_denied], an expired one with [expired_token]. \
        With --with-token, reads a key from stdin (`dev-infra login --with-token < key.txt`). \
        --storage auto uses the Secret Service keyring when one is running and the file otherwise, \
        and says which; a keyring that is running but fails is an error. In a CI job, --oidc exchanges \
        the job's OIDC token for a key that lives minutes; the token comes from --oidc-token-file, \
        --oidc-token-env, GitHub Actions (ACTIONS_ID_TOKEN_REQUEST_URL, with `permissions: id-token: write`) \
        or DEV_INFRA_OIDC_TOKEN, first found wins. With --print-env it prints DEV_INFRA_API_KEY=... \
        (for >> "$GITHUB_ENV") and stores nothing.
        """
    )

    @OptionGroup var options: RemoteOptions

    @Flag(help: "Read the key from stdin.")
    var withToken = false

    @Flag(help: "Sign in from a browser: show a one-time code and a URL, and wait until the code is approved there.")
    var web = false

    @Flag(help: "With --web: do not open a browser, only print the URL.")
    var noBrowser = false

    @Flag(help: "With --with-token: store the key without asking the server (a machine provisioned before the server is reachable).")
    var offline = false

    @Option(help: ArgumentHelp("The server URL this profile talks to (https, or http to a loopback address).", valueName: "url"))
    var apiURL: String?

    @Option(help: ArgumentHelp("Where to keep the key: auto, keyring or file.", valueName: "storage"))
    var storage: StoragePreference = .auto

    @OptionGroup var oidc: OIDCOptions

    @Flag(help: "With --oidc: print DEV_INFRA_API_KEY=<key> on stdout and store nothing.")
    var printEnv = false

    func validate() throws {
        if offline && !withToken { throw ValidationError("--offline needs --with-token: a password sign-in needs the server") }
        if oidc.oidc && withToken { throw ValidationError("--oidc and --with-token are two ways to log in: give one") }
        if printEnv && !oidc.oidc { throw ValidationError("--print-env goes with --oidc") }
        if web && (withToken || oidc.oidc) { throw ValidationError("--web, --with-token and --oidc are ways to log in: give one") }
        if noBrowser && !web { throw ValidationError("--no-browser goes with --web") }
    }

    func run() async throws { try await run(in: .current) }

    func run(in context: CommandContext) async throws {
        let session = try Session(options, context, requireCredential: false, apiURL: apiURL)
        let key: APIKey
        if oidc.oidc {
            let exchanged = try await oidc.exchange(session)
            key = try APIKey.parse(exchanged.apiKey)
            if printEnv {
                context.stdout("\(CredentialStore.keyVariable)=\(key.rawValue)\n")
                return
            }
        } else if web {
            key = try await WebLogin(session: session, openBrowser: !noBrowser).run()
            try await verify(key, session)
        } else if withToken || !context.stdinIsTerminal {
            guard withToken else {
                throw GenericError(.notATerminal, "stdin is not a terminal, so there is no one to ask for a password. Log in non-interactively with: dev-infra login --with-token < key.txt, or from a browser with: dev-infra login --web")
            }
            key = try APIKey.parse(context.stdinIsTerminal ? context.readHidden("Paste your API key (input is hidden): ") ?? "" : context.readStdin())
            if !offline { try await verify(key, session) }
        } else {
            key = try await mintPersonalKey(session)
        }
        let outcome: SaveOutcome
        do {
            outcome = try session.store.save(key, profile: session.profile, apiURL: session.server.url, preference: storage)
        } catch {
            if !withToken { context.stdout(key.rawValue + "\n") }
            context.note(withToken ? "nothing was stored" : "the new key is printed above so that it is not lost; store it with: dev-infra login --with-token")
            throw error
        }
        outcome.notes.forEach(context.note)
        context.note("logged in to \(session.server.url): profile \"\(session.profile)\" uses \(key.masked), stored in \(outcome.location)")
        if context.environment[CredentialStore.keyVariable].map({ !$0.isEmpty }) ?? false {
            context.note("warning: \(CredentialStore.keyVariable) is set and will keep winning over the stored key; unset it to use this one")
        }
    }

    /// Asks the server who `key` belongs to before anything is stored: a key it does not know fails here.
    private func verify(_ key: APIKey, _ session: Session) async throws {
        let me = try await session.api(key: key.rawValue) { try await $0.whoami() }
        session.context.note("the server knows this key: user \(me.user), scopes \(me.scopes.map(\.rawValue).joined(separator: " "))")
    }

    /// Signs in with a password and creates a key named for this machine with the user's default scopes.
    private func mintPersonalKey(_ session: Session) async throws -> APIKey {
        let context = session.context
        context.stderr("(or sign in from a browser: dev-infra login --web)\n")
        guard let username = context.readLine("Username for \(session.server.url): "), !username.isEmpty else {
            throw GenericError(.invalidArgument, "no username given")
        }
        guard let password = context.readHidden("Password: "), !password.isEmpty else {
            throw GenericError(.invalidArgument, "no password given")
        }
        let token = try await session.api { try await $0.signIn(username: username, password: password) }
        let created = try await session.api(key: token) { api in
            let me = try await api.whoami()
            let wanted = ["keys:read", "keys:write", "projects:read", "projects:write"].filter { scope in me.scopes.contains { $0.rawValue == scope } }
            return try await api.createKey(name: "dev-infra CLI on \(ProcessInfo.processInfo.hostName)", scopes: wanted, team: nil, expiresIn: nil)
        }
        context.note("created key \(created.key.id) \"\(created.key.name)\"")
        return try APIKey.parse(created.apiKey)
    }
}

extension StoragePreference: ExpressibleByArgument {}
