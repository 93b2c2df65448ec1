import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// The Secret Service (GNOME Keyring, KWallet, KeePassXC) through libsecret, loaded at run time
/// with `dlopen`, so that the binary starts, and env and file credentials work, where libsecret is
/// not installed. This is the only file that knows about GLib.
///
/// Every call is bounded by `timeout`: a Secret Service that is registered on the bus but never
/// answers makes libsecret wait about 25 s for D-Bus; a `GCancellable` cancelled by a timer
/// turns that into a `timedOut` failure.
public struct SecretServiceKeyring: Keyring {
    public static let schemaName = "io.dev-infra.APIKey"
    public static let libraryName = "libsecret-1.so.0"
    public let timeout: Double

    public init(timeout: Double = 2) {
        self.timeout = timeout
    }

    public func probe() throws(KeyringFailure) {
        _ = try read(KeyringItem(profile: "\u{1}probe", server: ""))
    }

    public func read(_ item: KeyringItem) throws(KeyringFailure) -> String? {
        try withCall(attributes: ["profile": item.profile, "server": item.server]) { lib, schema, attrs, cancellable, error in
            guard let password = lib.lookup(schema, attrs, cancellable, error) else { return nil }
            defer { lib.passwordFree(password) }
            return String(cString: password)
        }
    }

    public func store(_ secret: String, for item: KeyringItem, label: String) throws(KeyringFailure) {
        try withCall(attributes: ["profile": item.profile, "server": item.server]) { lib, schema, attrs, cancellable, error in
            _ = lib.store(schema, attrs, nil, label, secret, cancellable, error)
        }
    }

    @discardableResult
    public func delete(profile: String) throws(KeyringFailure) -> Bool {
        try withCall(attributes: ["profile": profile]) { lib, schema, attrs, cancellable, error in
            lib.clear(schema, attrs, cancellable, error) != 0
        }
    }

    /// Loads the library, connects to the session bus, runs `body` under the timeout, and turns a
    /// `GError` into a `KeyringFailure`.
    private func withCall<T>(
        attributes: [String: String],
        _ body: (Library, OpaquePointer?, OpaquePointer?, OpaquePointer?, UnsafeMutablePointer<UnsafeMutableRawPointer?>) -> T
    ) throws(KeyringFailure) -> T {
        let lib = try Library.shared.get()
        let cancellable = lib.cancellableNew()
        let timer = CancelTimer(lib: lib, cancellable: cancellable, after: timeout)
        defer {
            timer.finish()
            lib.objectUnref(UnsafeMutableRawPointer(cancellable))
        }
        var error: UnsafeMutableRawPointer?
        guard let bus = lib.busGet(2 /* G_BUS_TYPE_SESSION */, cancellable, &error) else {
            throw lib.failure(taking: error, timedOutAfter: timer.fired ? timeout : nil, connecting: true)
        }
        // Held until libsecret is done: the session bus is a shared singleton, and dropping the
        // last reference here would make libsecret connect and authenticate all over again.
        defer { lib.objectUnref(UnsafeMutableRawPointer(bus)) }
        let attrs = lib.stringTable(attributes.merging(["application": "dev-infra"]) { a, _ in a })
        defer { lib.hashTableUnref(attrs) }
        let result = body(lib, lib.schema, attrs, cancellable, &error)
        if error != nil { throw lib.failure(taking: error, timedOutAfter: timer.fired ? timeout : nil, connecting: false) }
        return result
    }
}

/// Cancels a `GCancellable` after a delay unless `finish()` came first.
private final class CancelTimer: @unchecked Sendable {
    private let lock = NSLockLite()
    private var done = false
    private(set) var fired = false
    private let lib: SecretServiceKeyring.Library
    private let cancellable: OpaquePointer?

    init(lib: SecretServiceKeyring.Library, cancellable: OpaquePointer?, after seconds: Double) {
        self.lib = lib
        self.cancellable = cancellable
        DispatchQueue.global().asyncAfter(deadline: .now() + seconds) { [self] in fire() }
    }

    private func fire() {
        lock.withLock {
            guard !done else { return }
            fired = true
            lib.cancellableCancel(cancellable)
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

extension SecretServiceKeyring {
    typealias ErrorOut = UnsafeMutablePointer<UnsafeMutableRawPointer?>?

    /// The libsecret and GLib entry points, resolved once per process.
    final class Library: @unchecked Sendable {
        static let shared: Result<Library, KeyringFailure> = Result { () throws(KeyringFailure) in try Library() }

        let lookup: @convention(c) (OpaquePointer?, OpaquePointer?, OpaquePointer?, ErrorOut) -> UnsafeMutablePointer<CChar>?
        let store: @convention(c) (OpaquePointer?, OpaquePointer?, UnsafePointer<CChar>?, UnsafePointer<CChar>?, UnsafePointer<CChar>?, OpaquePointer?, ErrorOut) -> Int32
        let clear: @convention(c) (OpaquePointer?, OpaquePointer?, OpaquePointer?, ErrorOut) -> Int32
        let passwordFree: @convention(c) (UnsafeMutablePointer<CChar>?) -> Void
        let busGet: @convention(c) (Int32, OpaquePointer?, ErrorOut) -> OpaquePointer?
        let cancellableNew: @convention(c) () -> OpaquePointer?
        let cancellableCancel: @convention(c) (OpaquePointer?) -> Void
        let objectUnref: @convention(c) (UnsafeMutableRawPointer?) -> Void
        let hashTableNewFull: @convention(c) (UnsafeMutableRawPointer?, UnsafeMutableRawPointer?, UnsafeMutableRawPointer?, UnsafeMutableRawPointer?) -> OpaquePointer?
        let hashTableInsert: @convention(c) (OpaquePointer?, UnsafeMutableRawPointer?, UnsafeMutableRawPointer?) -> Int32
        let hashTableUnref: @convention(c) (OpaquePointer?) -> Void
        let strdup: @convention(c) (UnsafePointer<CChar>?) -> UnsafeMutableRawPointer?
        let errorFree: @convention(c) (UnsafeMutableRawPointer?) -> Void
        let strHash, strEqual, free: UnsafeMutableRawPointer
        let dbusErrorQuark, ioErrorQuark: UInt32
        /// The schema namespaces our items: libsecret matches its name as the `xdg:schema` attribute.
        let schema: OpaquePointer?

        private init() throws(KeyringFailure) {
            guard let handle = dlopen(SecretServiceKeyring.libraryName, RTLD_LAZY | RTLD_LOCAL) else {
                throw .libraryMissing(dlerror().map { String(cString: $0) } ?? SecretServiceKeyring.libraryName)
            }
            func symbol(_ name: String) throws(KeyringFailure) -> UnsafeMutableRawPointer {
                guard let pointer = dlsym(handle, name) else { throw .libraryMissing("\(name) not found") }
                return pointer
            }
            func function<F>(_ name: String, as type: F.Type) throws(KeyringFailure) -> F {
                unsafeBitCast(try symbol(name), to: type)
            }
            lookup = try function("secret_password_lookupv_sync", as: type(of: lookup))
            store = try function("secret_password_storev_sync", as: type(of: store))
            clear = try function("secret_password_clearv_sync", as: type(of: clear))
            passwordFree = try function("secret_password_free", as: type(of: passwordFree))
            busGet = try function("g_bus_get_sync", as: type(of: busGet))
            cancellableNew = try function("g_cancellable_new", as: type(of: cancellableNew))
            cancellableCancel = try function("g_cancellable_cancel", as: type(of: cancellableCancel))
            objectUnref = try function("g_object_unref", as: type(of: objectUnref))
            hashTableNewFull = try function("g_hash_table_new_full", as: type(of: hashTableNewFull))
            hashTableInsert = try function("g_hash_table_insert", as: type(of: hashTableInsert))
            hashTableUnref = try function("g_hash_table_unref", as: type(of: hashTableUnref))
            strdup = try function("g_strdup", as: type(of: strdup))
            errorFree = try function("g_error_free", as: type(of: errorFree))
            strHash = try symbol("g_str_hash")
            strEqual = try symbol("g_str_equal")
            free = try symbol("g_free")
            dbusErrorQuark = try function("g_dbus_error_quark", as: (@convention(c) () -> UInt32).self)()
            ioErrorQuark = try function("g_io_error_quark", as: (@convention(c) () -> UInt32).self)()
            let schemaNew = try function("secret_schema_newv",
                                         as: (@convention(c) (UnsafePointer<CChar>?, Int32, OpaquePointer?) -> OpaquePointer?).self)
            let types = hashTableNewFull(strHash, strEqual, free, nil)
            for name in ["application", "profile", "server"] {
                // SECRET_SCHEMA_ATTRIBUTE_STRING is 0, so the value is a null pointer.
                _ = hashTableInsert(types, strdup(name), nil)
            }
            schema = schemaNew(SecretServiceKeyring.schemaName, 0, types)
            hashTableUnref(types)
        }

        /// A `GHashTable` of strings that owns copies of its keys and values.
        func stringTable(_ entries: [String: String]) -> OpaquePointer? {
            let table = hashTableNewFull(strHash, strEqual, free, free)
            for (key, value) in entries { _ = hashTableInsert(table, strdup(key), strdup(value)) }
            return table
        }

        /// Classifies and frees a `GError`, comparing domains by quark as GLib requires.
        func failure(taking error: UnsafeMutableRawPointer?, timedOutAfter: Double?, connecting: Bool) -> KeyringFailure {
            defer { errorFree(error) }
            if let timedOutAfter { return .timedOut(seconds: timedOutAfter) }
            guard let error else { return .failed("unknown error") }
            let domain = error.load(as: UInt32.self)
            let code = error.load(fromByteOffset: 4, as: Int32.self)
            let messagePointer = error.load(fromByteOffset: 8, as: UnsafePointer<CChar>?.self)
            let message = messagePointer.map { String(cString: $0) } ?? "no message"
            if connecting { return .noSessionBus(message) }
            // G_DBUS_ERROR_SERVICE_UNKNOWN (2), G_DBUS_ERROR_NAME_HAS_NO_OWNER (3)
            if domain == dbusErrorQuark && (code == 2 || code == 3) { return .noSecretService(message) }
            // G_IO_ERROR_CANCELLED (19)
            if domain == ioErrorQuark && code == 19 { return .timedOut(seconds: 0) }
            return .failed(message)
        }
    }
}
