import ArgumentParser
import DevInfraClient
import DevInfraCore
import Foundation

/// `dev-infra api [-X METHOD] PATH`: an authenticated request to any endpoint; the body on stdout.
struct Api: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Send an authenticated request to any endpoint and print the response body.",
        discussion: "The method is GET, or POST when -f or --input gives a body. A non-2xx answer exits with its code (3, 4, 5, 6, 7 or 1)."
    )

    @OptionGroup var options: RemoteOptions
    @Option(name: [.customShort("X"), .long], help: "The HTTP method.") var method: String?
    @Argument(help: "The path, e.g. /v1/whoami.") var path: String
    @Option(name: [.customShort("f"), .customLong("field")], help: ArgumentHelp("A string field of a JSON body (repeatable).", valueName: "key=value"))
    var fields: [String] = []
    @Option(help: ArgumentHelp("A file holding the body, or - for stdin.", valueName: "file")) var input: String?

    func validate() throws {
        if !fields.isEmpty && input != nil { throw ValidationError("give the body with -f or with --input, not both") }
        if let bad = fields.first(where: { !$0.contains("=") }) { throw ValidationError("-f takes key=value, not \"\(bad)\"") }
        if !path.hasPrefix("/") { throw ValidationError("the path starts with /, as in /v1/whoami") }
    }

    func run() async throws { try await run(in: .current) }

    func run(in context: CommandContext) async throws {
        let body = try requestBody(context)
        let session = try Session(options, context)
        let (status, data) = try await session.api { api in
            try await api.raw(method: method ?? (body == nil ? "GET" : "POST"), path: path, body: body)
        }
        var text = String(decoding: data, as: UTF8.self)
        if !text.isEmpty && !text.hasSuffix("\n") { text += "\n" }
        context.stdout(text)
        if status >= 400 { throw RemoteError.from(status: status, headers: [:], body: data) }
    }

    private func requestBody(_ context: CommandContext) throws -> Data? {
        if let input {
            if input == "-" { return Data(context.readStdin().utf8) }
            guard let data = FileManager.default.contents(atPath: input) else {
                throw GenericError(.invalidArgument, "cannot read --input \(input)")
            }
            return data
        }
        guard !fields.isEmpty else { return nil }
        var object: [String: String] = [:]
        for field in fields {
            let parts = field.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            object[String(parts[0])] = String(parts[1])
        }
        return try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
    }
}
