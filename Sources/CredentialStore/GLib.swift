/// GLib and GIO's D-Bus entry points, loaded at run time with `dlopen` like libsecret itself, so
/// the binary starts where neither is installed. Reading a key needs only this (see
/// `SecretServiceSession`); libsecret, and the libgcrypt it pulls in, load only for writes and fallbacks.
final class GLib: @unchecked Sendable {
    static let libraryName = "libgio-2.0.so.0"
    static let shared: Result<GLib, KeyringFailure> = Result { () throws(KeyringFailure) in try GLib() }

    typealias ErrorOut = UnsafeMutablePointer<UnsafeMutableRawPointer?>?
    /// A `GVariant *`; `GVariantType *` is its type string, as `G_VARIANT_TYPE` casts it.
    typealias Variant = OpaquePointer

    let busGet: @convention(c) (Int32, OpaquePointer?, ErrorOut) -> OpaquePointer?
    let cancellableNew: @convention(c) () -> OpaquePointer?
    let cancellableCancel: @convention(c) (OpaquePointer?) -> Void
    let objectUnref: @convention(c) (UnsafeMutableRawPointer?) -> Void
    let hashTableNewFull: @convention(c) (UnsafeMutableRawPointer?, UnsafeMutableRawPointer?, UnsafeMutableRawPointer?, UnsafeMutableRawPointer?) -> OpaquePointer?
    let hashTableInsert: @convention(c) (OpaquePointer?, UnsafeMutableRawPointer?, UnsafeMutableRawPointer?) -> Int32
    let hashTableUnref: @convention(c) (OpaquePointer?) -> Void
    let strdup: @convention(c) (UnsafePointer<CChar>?) -> UnsafeMutableRawPointer?
    let freeFunction: @convention(c) (UnsafeMutableRawPointer?) -> Void
    let errorFree: @convention(c) (UnsafeMutableRawPointer?) -> Void
    let remoteErrorName: @convention(c) (UnsafeMutableRawPointer?) -> UnsafeMutablePointer<CChar>?
    let strHash, strEqual, free: UnsafeMutableRawPointer
    let dbusErrorQuark, ioErrorQuark: UInt32

    /// `g_dbus_connection_call_sync(connection, bus_name, path, interface, method, parameters,
    /// reply_type, flags, timeout_msec, cancellable, error)`.
    let callSync: @convention(c) (OpaquePointer?, UnsafePointer<CChar>?, UnsafePointer<CChar>?, UnsafePointer<CChar>?, UnsafePointer<CChar>?,
                                  Variant?, UnsafePointer<CChar>?, Int32, Int32, OpaquePointer?, ErrorOut) -> Variant?
    let newString: @convention(c) (UnsafePointer<CChar>?) -> Variant?
    let newObjectPath: @convention(c) (UnsafePointer<CChar>?) -> Variant?
    let newVariant: @convention(c) (Variant?) -> Variant?
    let newTuple: @convention(c) (UnsafePointer<Variant?>?, Int) -> Variant?
    let newDictEntry: @convention(c) (Variant?, Variant?) -> Variant?
    let newArray: @convention(c) (UnsafePointer<CChar>?, UnsafePointer<Variant?>?, Int) -> Variant?
    let childValue: @convention(c) (Variant?, Int) -> Variant?
    let childCount: @convention(c) (Variant?) -> Int
    let getString: @convention(c) (Variant?, UnsafeMutablePointer<Int>?) -> UnsafePointer<CChar>?
    let fixedArray: @convention(c) (Variant?, UnsafeMutablePointer<Int>?, Int) -> UnsafeRawPointer?
    let variantUnref: @convention(c) (Variant?) -> Void

    private init() throws(KeyringFailure) {
        let library = try DynamicLibrary(Self.libraryName)
        busGet = try library.function("g_bus_get_sync", as: type(of: busGet))
        cancellableNew = try library.function("g_cancellable_new", as: type(of: cancellableNew))
        cancellableCancel = try library.function("g_cancellable_cancel", as: type(of: cancellableCancel))
        objectUnref = try library.function("g_object_unref", as: type(of: objectUnref))
        hashTableNewFull = try library.function("g_hash_table_new_full", as: type(of: hashTableNewFull))
        hashTableInsert = try library.function("g_hash_table_insert", as: type(of: hashTableInsert))
        hashTableUnref = try library.function("g_hash_table_unref", as: type(of: hashTableUnref))
        strdup = try library.function("g_strdup", as: type(of: strdup))
        freeFunction = try library.function("g_free", as: type(of: freeFunction))
        errorFree = try library.function("g_error_free", as: type(of: errorFree))
        remoteErrorName = try library.function("g_dbus_error_get_remote_error", as: type(of: remoteErrorName))
        strHash = try library.symbol("g_str_hash")
        strEqual = try library.symbol("g_str_equal")
        free = try library.symbol("g_free")
        dbusErrorQuark = try library.function("g_dbus_error_quark", as: (@convention(c) () -> UInt32).self)()
        ioErrorQuark = try library.function("g_io_error_quark", as: (@convention(c) () -> UInt32).self)()
        callSync = try library.function("g_dbus_connection_call_sync", as: type(of: callSync))
        newString = try library.function("g_variant_new_string", as: type(of: newString))
        newObjectPath = try library.function("g_variant_new_object_path", as: type(of: newObjectPath))
        newVariant = try library.function("g_variant_new_variant", as: type(of: newVariant))
        newTuple = try library.function("g_variant_new_tuple", as: type(of: newTuple))
        newDictEntry = try library.function("g_variant_new_dict_entry", as: type(of: newDictEntry))
        newArray = try library.function("g_variant_new_array", as: type(of: newArray))
        childValue = try library.function("g_variant_get_child_value", as: type(of: childValue))
        childCount = try library.function("g_variant_n_children", as: type(of: childCount))
        getString = try library.function("g_variant_get_string", as: type(of: getString))
        fixedArray = try library.function("g_variant_get_fixed_array", as: type(of: fixedArray))
        variantUnref = try library.function("g_variant_unref", as: type(of: variantUnref))
    }

    /// A `GHashTable` of strings that owns copies of its keys and values.
    func stringTable(_ entries: [String: String]) -> OpaquePointer? {
        let table = hashTableNewFull(strHash, strEqual, free, free)
        for (key, value) in entries { _ = hashTableInsert(table, strdup(key), strdup(value)) }
        return table
    }

    /// The D-Bus name of a remote error (`org.freedesktop.DBus.Error.NotSupported`), if it is one.
    func remoteName(of error: UnsafeMutableRawPointer?) -> String? {
        guard let name = remoteErrorName(error) else { return nil }
        defer { freeFunction(name) }
        return String(cString: name)
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
