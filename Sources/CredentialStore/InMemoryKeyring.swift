#if canImport(Glibc)
import Glibc
#endif

/// A keyring held in memory, for tests of everything above the Secret Service; `failure` makes
/// every call fail as a broken or absent keyring would.
public final class InMemoryKeyring: Keyring, @unchecked Sendable {
    private var items: [KeyringItem: String] = [:]
    private var mutex = pthread_mutex_t()
    public var failure: KeyringFailure?

    public init(failure: KeyringFailure? = nil) {
        self.failure = failure
        pthread_mutex_init(&mutex, nil)
    }

    deinit { pthread_mutex_destroy(&mutex) }

    public var count: Int { locked { items.count } }

    public func read(_ item: KeyringItem) throws(KeyringFailure) -> String? {
        if let failure { throw failure }
        return locked { items[item] }
    }

    public func store(_ secret: String, for item: KeyringItem, label: String) throws(KeyringFailure) {
        if let failure { throw failure }
        locked { items[item] = secret }
    }

    @discardableResult
    public func delete(profile: String) throws(KeyringFailure) -> Bool {
        if let failure { throw failure }
        return locked {
            let before = items.count
            items = items.filter { $0.key.profile != profile }
            return items.count != before
        }
    }

    private func locked<T>(_ body: () -> T) -> T {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return body()
    }
}
