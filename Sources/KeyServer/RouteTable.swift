import Hummingbird
import HTTPTypes
import NIOConcurrencyHelpers

/// The paths the server answers and their methods, read from the router once every route is
/// registered, so that a request to a known path with another method is a 405 with `Allow` (not a
/// 404), and a test can compare the routes with `openapi.yaml`.
final class RouteTable: Sendable {
    /// Path templates split into segments (`{id}` matches any one segment), with their methods.
    private let routes = NIOLockedValueBox<[(segments: [String], methods: Set<String>)]>([])

    func load(_ pairs: [(path: String, method: String)]) {
        var byPath: [String: Set<String>] = [:]
        for (path, method) in pairs { byPath[path, default: []].insert(method) }
        routes.withLockedValue { $0 = byPath.map { path, methods in (path.split(separator: "/").map(String.init), methods) } }
    }

    /// The methods allowed on `path`, or nil when no route has that path.
    func allowed(on path: String) -> Set<String>? {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        let matches = routes.withLockedValue { $0 }.filter { route in
            route.segments.count == parts.count
                && zip(route.segments, parts).allSatisfy { template, part in template.hasPrefix("{") || template == part }
        }
        guard !matches.isEmpty else { return nil }
        return matches.reduce(into: Set<String>()) { $0.formUnion($1.methods) }
    }
}
