/// Reads one secret with three D-Bus calls through GIO, without libsecret: `OpenSession("plain")`,
/// `SearchItems`, `Item.GetSecret`. This is the `dev-infra token` path, and it is what makes it
/// faster than `secret-tool lookup`: libsecret loads libgcrypt and agrees a Diffie-Hellman key for
/// an encrypted session first, about half of its CPU time.
///
/// A plain session gives nothing away: the secret crosses only the local session bus, which only
/// this user can monitor, and this user can ask the Secret Service for it anyway. Anything this
/// path does not handle (a locked item that needs an unlock prompt, a service that refuses plain
/// sessions or answers unexpectedly) goes to libsecret, which does.
struct SecretServiceSession {
    enum Outcome: Equatable {
        case found(String)
        case notFound
        /// Found, but only in a locked collection: unlocking may need a prompt, which libsecret does.
        case locked
        case needsLibsecret
    }

    static let busName = "org.freedesktop.secrets"
    static let servicePath = "/org/freedesktop/secrets"
    static let serviceInterface = "org.freedesktop.Secret.Service"
    static let itemInterface = "org.freedesktop.Secret.Item"

    let glib: GLib
    let bus: OpaquePointer?
    let cancellable: OpaquePointer?
    let timeoutMilliseconds: Int32

    /// The outcome, or nil with `error` set to the `GError` of the call that failed.
    ///
    /// The session is not closed: the Secret Service drops a client's sessions when it leaves the
    /// bus, which is what libsecret and `secret-tool` rely on too.
    func lookup(_ attributes: [String: String], error: UnsafeMutablePointer<UnsafeMutableRawPointer?>) -> Outcome? {
        let input = glib.newVariant(glib.newString(""))
        guard let opened = call(Self.servicePath, Self.serviceInterface, "OpenSession", [glib.newString("plain"), input], reply: "(vo)", error) else {
            guard glib.remoteName(of: error.pointee) == "org.freedesktop.DBus.Error.NotSupported" else { return nil }
            glib.errorFree(error.pointee)
            error.pointee = nil
            return .needsLibsecret
        }
        let session = string(at: 1, of: opened)
        glib.variantUnref(opened)

        let entries = attributes.sorted { $0.key < $1.key }.map { glib.newDictEntry(glib.newString($0.key), glib.newString($0.value)) }
        let query = entries.withUnsafeBufferPointer { glib.newArray(nil, $0.baseAddress, $0.count) }
        guard let found = call(Self.servicePath, Self.serviceInterface, "SearchItems", [query], reply: "(aoao)", error) else { return nil }
        let unlocked = glib.childValue(found, 0)
        let locked = glib.childValue(found, 1)
        let item = glib.childCount(unlocked) > 0 ? string(at: 0, of: unlocked) : nil
        let anyLocked = glib.childCount(locked) > 0
        [unlocked, locked, found].forEach(glib.variantUnref)
        guard let item else { return anyLocked ? .locked : .notFound }

        // GetSecret(o session) -> ((o session, ay parameters, ay value, s content_type))
        guard let reply = call(item, Self.itemInterface, "GetSecret", [glib.newObjectPath(session)], reply: "((oayays))", error) else { return nil }
        defer { glib.variantUnref(reply) }
        let secret = glib.childValue(reply, 0)
        let value = glib.childValue(secret, 2)
        defer { glib.variantUnref(value); glib.variantUnref(secret) }
        var count = 0
        let bytes = glib.fixedArray(value, &count, 1)
        return .found(String(decoding: UnsafeRawBufferPointer(start: bytes, count: count), as: UTF8.self))
    }

    /// One method call on the Secret Service; the arguments are floating references it consumes.
    private func call(_ path: String, _ interface: String, _ method: String, _ arguments: [GLib.Variant?], reply: String,
                      _ error: UnsafeMutablePointer<UnsafeMutableRawPointer?>) -> GLib.Variant? {
        let parameters = arguments.withUnsafeBufferPointer { glib.newTuple($0.baseAddress, $0.count) }
        return glib.callSync(bus, Self.busName, path, interface, method, parameters, reply, 0, timeoutMilliseconds, cancellable, error)
    }

    private func string(at index: Int, of variant: GLib.Variant?) -> String {
        let child = glib.childValue(variant, index)
        defer { glib.variantUnref(child) }
        // GIO checked the reply's type, so this is a string; still, a null is an empty answer, not a trap.
        return glib.getString(child, nil).map { String(cString: $0) } ?? ""
    }
}
