import CoreMetrics
import Foundation
import Logging
import Hummingbird
import NIOConcurrencyHelpers
import Prometheus
import ServiceLifecycle

/// What `/metrics` reports, through swift-metrics on a Prometheus registry of this application's
/// own (not the process-wide one: tests build many applications in one process).
///
/// - `devinfra_http_requests_total{route,method,status}`: the route's pattern, never its path, so
///   key ids and typos cannot grow the label set;
/// - `devinfra_auth_failures_total{code}`: refused credentials by reason code;
/// - `devinfra_auth_duration_seconds`: authentication latency (a histogram);
/// - `devinfra_key_cache_{entries,hits,misses,invalidations}`: the per-replica key cache;
/// - `devinfra_database_calls_in_flight`, `devinfra_database_pool_size`: database pool use.
final class ServerMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    private let factory: PrometheusMetricsFactory
    /// Handles by label set: made once, so a request costs a dictionary lookup, not a registration.
    private let requests = NIOLockedValueBox<[String: CoreMetrics.Counter]>([:])
    private let failures = NIOLockedValueBox<[String: CoreMetrics.Counter]>([:])
    let authDuration: CoreMetrics.Timer
    private let cacheGauges: [String: CoreMetrics.Gauge]
    private let inFlight: CoreMetrics.Gauge
    private let poolSize: CoreMetrics.Gauge

    init() {
        var factory = PrometheusMetricsFactory(registry: registry)
        // Authentication takes microseconds on a cache hit and a round trip on a miss.
        factory.defaultDurationHistogramBuckets = [.microseconds(10), .microseconds(25), .microseconds(50), .microseconds(100),
                                                   .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2.5),
                                                   .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(100)]
        self.factory = factory
        authDuration = CoreMetrics.Timer(label: "devinfra_auth_duration_seconds", dimensions: [], factory: factory)
        cacheGauges = Dictionary(uniqueKeysWithValues: ["entries", "hits", "misses", "invalidations"].map {
            ($0, CoreMetrics.Gauge(label: "devinfra_key_cache_\($0)", dimensions: [], factory: factory))
        })
        inFlight = CoreMetrics.Gauge(label: "devinfra_database_calls_in_flight", dimensions: [], factory: factory)
        poolSize = CoreMetrics.Gauge(label: "devinfra_database_pool_size", dimensions: [], factory: factory)
    }

    static let methods: Set<String> = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

    func request(route: String, method: String, status: Int) {
        // The parser accepts some forty methods: the rest share one label.
        let method = Self.methods.contains(method) ? method : "OTHER"
        let label = "\(route) \(method) \(status)"
        let counter = requests.withLockedValue { counters in
            if let counter = counters[label] { return counter }
            let counter = CoreMetrics.Counter(label: "devinfra_http_requests_total",
                                  dimensions: [("route", route), ("method", method), ("status", String(status))], factory: factory)
            counters[label] = counter
            return counter
        }
        counter.increment()
    }

    func authFailure(_ code: String) {
        let counter = failures.withLockedValue { counters in
            if let counter = counters[code] { return counter }
            let counter = CoreMetrics.Counter(label: "devinfra_auth_failures_total", dimensions: [("code", code)], factory: factory)
            counters[code] = counter
            return counter
        }
        counter.increment()
    }

    /// The Prometheus text exposition, with the gauges read now.
    func exposition(cache: KeyCache, storage: StorageStatistics?) -> String {
        let statistics = cache.statistics
        cacheGauges["entries"]?.record(statistics.entries)
        cacheGauges["hits"]?.record(statistics.hits)
        cacheGauges["misses"]?.record(statistics.misses)
        cacheGauges["invalidations"]?.record(statistics.invalidations)
        if let storage {
            inFlight.record(storage.callsInFlight)
            poolSize.record(storage.poolSize)
        }
        return registry.emitToString()
    }
}

extension CoreMetrics.Timer {
    func record(since start: ContinuousClock.Instant) {
        let elapsed = (ContinuousClock.now - start).components
        recordNanoseconds(elapsed.seconds * 1_000_000_000 + elapsed.attoseconds / 1_000_000_000)
    }
}

/// Counts every answer by route pattern, method and status, errors included.
struct MetricsMiddleware: RouterMiddleware {
    typealias Context = ServerContext
    let metrics: ServerMetrics

    func handle(_ request: Request, context: ServerContext, next: (Request, ServerContext) async throws -> Response) async throws -> Response {
        do {
            let response = try await next(request, context)
            metrics.request(route: context.endpointPath ?? "unmatched", method: request.method.rawValue, status: Int(response.status.code))
            return response
        } catch let error as HTTPResponseError {
            metrics.request(route: context.endpointPath ?? "unmatched", method: request.method.rawValue, status: Int(error.status.code))
            throw error
        } catch {
            metrics.request(route: context.endpointPath ?? "unmatched", method: request.method.rawValue, status: 500)
            throw error
        }
    }
}

/// The `/metrics` listener: an application of its own on its own address, so the API's port
/// never exposes it.
func buildMetricsApplication(_ metrics: ServerMetrics, services: Services, host: String, port: Int,
                             onListening: @escaping @Sendable (Int) -> Void) -> some Service {
    let router = Router()
    router.get("metrics") { _, _ in
        Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                 body: .init(byteBuffer: ByteBuffer(string: metrics.exposition(cache: services.authenticator.cache,
                                                                               storage: services.repository.statistics))))
    }
    return Application(router: router, configuration: .init(address: .hostname(host, port: port), serverName: "dev-infra-server metrics"),
                       onServerRunning: { channel in onListening(channel.localAddress?.port ?? 0) },
                       logger: {
                           // Its own "listening" line would read like the API's; the caller logs the address.
                           var logger = Logger(label: "dev-infra-server.metrics")
                           logger.logLevel = .warning
                           return logger
                       }())
}
