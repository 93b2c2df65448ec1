import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// The Secret Service (GNOME Keyring, KWallet, KeePassXC), with GIO and libsecret loaded at run
/// time with `dlopen`, so that the binary starts, and env and file credentials work, where they
/// are not installed. Reads go straight to D-Bus (`SecretServiceSession`); writes, deletes and
/// anything the direct read cannot do go through libsecret.
///
/// Every call (a direct read and its libsecret fallback together) is bounded by `timeout`: a
/// Secret Service that is registered on the bus but never answers makes D-Bus wait about 25 s; a
/// `GCancellable` cancelled by a timer turns that into a `timedOut` failure.
public struct SecretServiceKeyring: Keyring {
    public static let schemaName = "io.dev-infra.APIKey"
    public static let libraryName = "libsecret-1.so.0"
    public let timeout: Double

    public init(timeout: Double = 2) {
        self.timeout = timeout
    }

    /// The attributes that namespace an item; libsecret adds `xdg:schema` itself.
    private static func attributes(_ item: KeyringItem) -> [String: String] {
        ["application": "dev-infra", "profile": item.profile, "server": item.server]
    }

    public func read(_ item: KeyringItem) throws(KeyringFailure) -> String? {
        let glib = try GLib.shared.get()
        let deadline = DispatchTime.now() + timeout
        // libsecret matches the items of a schema by its name in this attribute.
        let query = Self.attributes(item).merging(["xdg:schema": Self.schemaName]) { a, _ in a }
        var outcome: SecretServiceSession.Outcome?
        do throws(KeyringFailure) {
            outcome = try withBus(glib, until: deadline) { bus, cancellable, error in
                SecretServiceSession(glib: glib, bus: bus, cancellable: cancellable, timeoutMilliseconds: Int32(timeout * 1000))
                    .lookup(query, error: error)
            }
        } catch .failed {
            // A Secret Service that answers in a way the direct path does not expect: libsecret
            // knows every implementation's quirks. No bus, no service, or a timeout stay failures.
            outcome = .needsLibsecret
        }
        switch outcome {
        case .found(let secret): return secret
        case .notFound: return nil
        case .needsLibsecret, nil: return try libsecretLookup(item, until: deadline)
        case .locked:
            // libsecret asks the Secret Service to unlock, which shows a prompt where there is a
            // desktop. Without one, the prompt is dismissed and the item reads as missing: say
            // "locked" rather than "no key", which would send the user to log in again.
            let password: String?
            do throws(KeyringFailure) { password = try libsecretLookup(item, until: deadline) } catch {
                if case .timedOut = error { throw error }
                throw .locked(error.detail)
            }
            guard let password else { throw .locked("the unlock prompt was dismissed") }
            return password
        }
    }

    private func libsecretLookup(_ item: KeyringItem, until deadline: DispatchTime) throws(KeyringFailure) -> String? {
        try withLibsecret(Self.attributes(item), until: deadline) { lib, attrs, cancellable, error in
            guard let password = lib.lookup(lib.schema, attrs, cancellable, error) else { return nil }
            defer { lib.passwordFree(password) }
            return String(cString: password)
        }
    }

    public func store(_ secret: String, for item: KeyringItem, label: String) throws(KeyringFailure) {
        try withLibsecret(Self.attributes(item)) { lib, attrs, cancellable, error in
            _ = lib.store(lib.schema, attrs, nil, label, secret, cancellable, error)
        }
    }

    @discardableResult
    public func delete(profile: String) throws(KeyringFailure) -> Bool {
        try withLibsecret(["application": "dev-infra", "profile": profile]) { lib, attrs, cancellable, error in
            lib.clear(lib.schema, attrs, cancellable, error) != 0
        }
    }

    /// Runs a libsecret call on the items that match `attributes`.
    private func withLibsecret<T>(
        _ attributes: [String: String], until deadline: DispatchTime? = nil,
        _ body: (Libsecret, OpaquePointer?, OpaquePointer?, UnsafeMutablePointer<UnsafeMutableRawPointer?>) -> T
    ) throws(KeyringFailure) -> T {
        let lib = try Libsecret.shared.get()
        let attrs = lib.glib.stringTable(attributes)
        defer { lib.glib.hashTableUnref(attrs) }
        return try withBus(lib.glib, until: deadline ?? .now() + timeout) { _, cancellable, error in body(lib, attrs, cancellable, error) }
    }

    /// Connects to the session bus, runs `body` under the timeout, and turns a `GError` into a
    /// `KeyringFailure`.
    private func withBus<T>(
        _ glib: GLib, until deadline: DispatchTime,
        _ body: (OpaquePointer?, OpaquePointer?, UnsafeMutablePointer<UnsafeMutableRawPointer?>) -> T
    ) throws(KeyringFailure) -> T {
        let cancellable = glib.cancellableNew()
        let timer = CancelTimer(glib: glib, cancellable: cancellable, at: deadline)
        defer {
            timer.finish()
            glib.objectUnref(UnsafeMutableRawPointer(cancellable))
        }
        var error: UnsafeMutableRawPointer?
        guard let bus = glib.busGet(2 /* G_BUS_TYPE_SESSION */, cancellable, &error) else {
            throw glib.failure(taking: error, timedOutAfter: timer.fired ? timeout : nil, connecting: true)
        }
        // Held until the call is done: the session bus is a shared singleton, and dropping the
        // last reference here would make libsecret connect and authenticate all over again.
        defer { glib.objectUnref(UnsafeMutableRawPointer(bus)) }
        let result = body(bus, cancellable, &error)
        if error != nil { throw glib.failure(taking: error, timedOutAfter: timer.fired ? timeout : nil, connecting: false) }
        return result
    }
}

/// Cancels a `GCancellable` after a delay unless `finish()` came first.
private final class CancelTimer: @unchecked Sendable {
    private let lock = NSLockLite()
    private var done = false
    private(set) var fired = false
    private let glib: GLib
    private let cancellable: OpaquePointer?

    init(glib: GLib, cancellable: OpaquePointer?, at deadline: DispatchTime) {
        self.glib = glib
        self.cancellable = cancellable
        DispatchQueue.global().asyncAfter(deadline: deadline) { [self] in fire() }
    }

    private func fire() {
        lock.withLock {
            guard !done else { return }
            fired = true
            glib.cancellableCancel(cancellable)
        }
    }

    func finish() { lock.withLock { done = true } }
}

/// A pthread mutex; Foundation's NSLock would pull Foundation into this file for nothing.
private final class NSLockLite: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    init() { pthread_mutex_init(&mutex, nil) }
    deinit { pthread_mutex_destroy(&mutex) }
    func withLock<T>(_ body: () -> T) -> T {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return body()
    }
}

/// libsecret's entry points, resolved once per process, over the GLib ones.
final class Libsecret: @unchecked Sendable {
    static let shared: Result<Libsecret, KeyringFailure> = Result { () throws(KeyringFailure) in try Libsecret() }

    let glib: GLib
    let lookup: @convention(c) (OpaquePointer?, OpaquePointer?, OpaquePointer?, GLib.ErrorOut) -> UnsafeMutablePointer<CChar>?
    let store: @convention(c) (OpaquePointer?, OpaquePointer?, UnsafePointer<CChar>?, UnsafePointer<CChar>?, UnsafePointer<CChar>?, OpaquePointer?, GLib.ErrorOut) -> Int32
    let clear: @convention(c) (OpaquePointer?, OpaquePointer?, OpaquePointer?, GLib.ErrorOut) -> Int32
    let passwordFree: @convention(c) (UnsafeMutablePointer<CChar>?) -> Void
    /// The schema namespaces our items: libsecret matches its name as the `xdg:schema` attribute.
    let schema: OpaquePointer?

    private init() throws(KeyringFailure) {
        let library = try DynamicLibrary(SecretServiceKeyring.libraryName)
        glib = try GLib.shared.get()
        lookup = try library.function("secret_password_lookupv_sync", as: type(of: lookup))
        store = try library.function("secret_password_storev_sync", as: type(of: store))
        clear = try library.function("secret_password_clearv_sync", as: type(of: clear))
        passwordFree = try library.function("secret_password_free", as: type(of: passwordFree))
        let schemaNew = try library.function("secret_schema_newv",
                                     as: (@convention(c) (UnsafePointer<CChar>?, Int32, OpaquePointer?) -> OpaquePointer?).self)
        let types = glib.hashTableNewFull(glib.strHash, glib.strEqual, glib.free, nil)
        for name in ["application", "profile", "server"] {
            // SECRET_SCHEMA_ATTRIBUTE_STRING is 0, so the value is a null pointer.
            _ = glib.hashTableInsert(types, glib.strdup(name), nil)
        }
        schema = schemaNew(SecretServiceKeyring.schemaName, 0, types)
        glib.hashTableUnref(types)
    }
}
