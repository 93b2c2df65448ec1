#if canImport(Glibc)
import Glibc
#endif

/// A shared library opened with `dlopen`, so the binary starts where it is not installed; a missing
/// library or symbol is `KeyringFailure.libraryMissing`.
struct DynamicLibrary {
    private let handle: UnsafeMutableRawPointer

    init(_ name: String) throws(KeyringFailure) {
        guard let handle = dlopen(name, RTLD_LAZY | RTLD_LOCAL) else {
            throw .libraryMissing(dlerror().map { String(cString: $0) } ?? name)
        }
        self.handle = handle
    }

    func symbol(_ name: String) throws(KeyringFailure) -> UnsafeMutableRawPointer {
        guard let pointer = dlsym(handle, name) else { throw .libraryMissing("\(name) not found") }
        return pointer
    }

    func function<F>(_ name: String, as type: F.Type) throws(KeyringFailure) -> F {
        unsafeBitCast(try symbol(name), to: type)
    }
}
