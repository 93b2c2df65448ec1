import Foundation
import Testing
@testable import KeyServer

/// `whoami`'s hand-written JSON is byte for byte what `JSONEncoder` (as `Response.json` sets it
/// up) writes, on awkward values too.
@Suite struct WhoamiJSONTests {
    static func encoded(_ view: AccountController.WhoamiView) throws -> String {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(view), as: UTF8.self)
    }

    static let views: [AccountController.WhoamiView] = [
        .init(user: "admin", kind: "key", keyID: "aI1ZJVcfSHo9", scopes: ["admin", "keys:read"], team: nil, teams: [], admin: true,
              expiresAt: nil),
        .init(user: "a\"b\\c/d\n\t\u{01}\u{1F}é😀", kind: "jwt", keyID: nil, scopes: [], team: "web/x", teams: ["ops", "w\"eb"],
              admin: false, expiresAt: Date(timeIntervalSince1970: 1_800_000_000.75)),
        .init(user: "", kind: "key", keyID: "AAAAAAAAAAAA", scopes: ["projects:read"], team: "", teams: [""], admin: false,
              expiresAt: Date(timeIntervalSince1970: 0)),
    ]

    @Test(arguments: views) func theSameBytesAsJSONEncoder(_ view: AccountController.WhoamiView) throws {
        #expect(view.json == (try Self.encoded(view)))
    }
}
