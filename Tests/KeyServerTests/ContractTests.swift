import DevInfraCore
import Foundation
import Hummingbird
import Testing
@testable import KeyServer

/// The server and `openapi.yaml` agree both ways: the same routes and methods, the same reason codes.
@Suite struct ContractTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static var document: String { get throws { try String(contentsOf: root.appendingPathComponent("openapi.yaml"), encoding: .utf8) } }

    /// `path -> methods` from the document's `paths:` section (two-space paths, four-space methods).
    static func documentedRoutes() throws -> Set<String> {
        var routes = Set<String>()
        var path: String?
        for line in try document.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("components:") { break }
            if line.hasPrefix("  /"), line.hasSuffix(":") { path = String(line.dropFirst(2).dropLast()) }
            for method in ["get", "post", "put", "patch", "delete"] where line == "    \(method):" {
                if let path { routes.insert("\(method.uppercased()) \(path)") }
            }
        }
        return routes
    }

    @Test func everyRouteIsDocumentedAndEveryDocumentedRouteExists() async throws {
        let server = TestServer()
        _ = try await server.seed()
        let router = buildRouter(try await server.services())
        // `/v1/check` answers every method, below it too (Envoy appends the client's path): GET is
        // the documented one, the rest are the same operation.
        let all = Set(router.routes.map { "\($0.method) \($0.path)" })
        for method in CheckController.methods { #expect(all.contains("\(method) /v1/check") && all.contains("\(method) /v1/check/**")) }
        // The pages (HTML for people, `/login`, `/keys`, `/static/...`) are not the API: the document
        // is for `/v1`, and the health and document routes beside it.
        let api = router.routes.filter { route in
            let path = route.path.description
            return path.hasPrefix("/v1/") || ["/healthz", "/readyz", "/openapi.yaml"].contains(path)
        }
        let served = Set(api.filter { $0.method != .head && !($0.path.description.hasPrefix("/v1/check") && "\($0.method) \($0.path)" != "GET /v1/check") }
            .map { "\($0.method) \($0.path)" })
        let documented = try Self.documentedRoutes()
        #expect(documented.count >= 10)
        #expect(served == documented, "served but not documented: \(served.subtracting(documented)); documented but not served: \(documented.subtracting(served))")
    }

    @Test func theReasonCodesAreTheDocumentsEnumEachWithItsStatus() throws {
        let text = try Self.document
        let start = try #require(text.range(of: "Stable reason code."))
        let list = try #require(text[start.upperBound...].range(of: #"enum: \[[^\]]*\]"#, options: .regularExpression))
        let documented = Set(text[list].dropFirst("enum: [".count).dropLast().split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) })
        let served = Set(ReasonCode.allCases.filter { $0.httpStatus != nil }.map(\.rawValue))
        #expect(served == documented, "in code only: \(served.subtracting(documented)); in the document only: \(documented.subtracting(served))")
        #expect(APIError.notFound("x").status.code == 404)
        for reason in ReasonCode.allCases {
            guard let status = reason.httpStatus else { continue }
            #expect(APIError(reason, "x").status.code == status)
        }
    }

    @Test func theIntrospectionScopePatternNamesEveryScope() throws {
        let lines = try Self.document.split(separator: "\n").filter { $0.contains("scope: {type:") && $0.contains("pattern:") }
        #expect(lines.count == 2)
        let alternatives = "(" + Scope.allCases.map(\.rawValue).joined(separator: "|") + ")"
        for line in lines { #expect(line.contains(alternatives), "\(line) should list \(alternatives)") }
    }

    @Test func anUndeclaredMethodIs405WithAllow() async throws {
        let server = TestServer()
        let adminKey = try await server.seed()
        try await server.run { api in
            let put = try await api.call(.put, "/v1/keys", key: adminKey, body: "{}")
            #expect(put.status == 405 && put.code == "method_not_allowed")
            #expect(put.headers[.allow] == "GET, POST")
            let put2 = try await api.call(.put, "/v1/keys/abcdefABCDEF")
            #expect(put2.status == 405 && put2.headers[.allow] == "DELETE, GET, PATCH")
            #expect(try await api.call(.get, "/v1/nothing").status == 404)
        }
    }
}

extension TestServer {
    func services() async throws -> Services {
        Services(repository: InMemoryRepository(), secrets: .ephemeral(),
                 clock: { Date() }, limits: ServerLimits(), logger: .init(label: "test"), verifyPassword: { _, _ in false })
    }
}
