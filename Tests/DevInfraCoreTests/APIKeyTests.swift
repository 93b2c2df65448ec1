import DevInfraCore
import Testing

struct APIKeyTests {
    let good = "dinf_US2dg5sIKeEe_eI6QMFYo8YfzasPPiNNDVr4akFjno6Mc3IXdJa"

    @Test func generatedKeysRoundTrip() throws {
        var seen = Set<String>()
        for _ in 0..<500 {
            let key = APIKey.generate()
            let raw = key.rawValue
            #expect(raw.utf8.count == 56)
            #expect(raw.hasPrefix("dinf_"))
            #expect(try APIKey.parse(raw) == key)
            seen.insert(raw)
        }
        #expect(seen.count == 500)
    }

    @Test func maskNeverShowsTheSecret() throws {
        let key = try APIKey.parse(good)
        #expect(key.masked == "dinf_US2dg5sIKeEe_…")
        #expect(!"\(key)".contains(key.secret))
        #expect(!String(describing: key).contains(key.secret))
    }

    @Test("each malformed shape gets its own reason", arguments: [
        ("", KeyFormatError.empty),
        ("dinf_US2dg5sIKeEe_eI6QMFYo8YfzasPPiNNDVr4akFjno6Mc3IXdJ", .wrongLength(55)),
        ("dinf_US2dg5sIKeEe", .wrongLength(17)),
        ("dinx_US2dg5sIKeEe_eI6QMFYo8YfzasPPiNNDVr4akFjno6Mc3IXdJa", .wrongPrefix),
        ("ghp_abcdef", .wrongPrefix),
        ("dinf_US2dg5sIKeEe_eI6QMFYo8YfzasPPiNNDVr4akFjno6Mc3IXdJ1", .checksumMismatch),
        ("dinf_US2dg5sIKeEe-eI6QMFYo8YfzasPPiNNDVr4akFjno6Mc3IXdJa", .missingSeparator(position: 18)),
        ("dinf_US2dg5sIKeEe_eI6QMFYo8Yfz+sPPiNNDVr4akFjno6Mc3IXdJa", .notBase62(position: 31)),
        ("dinf_US2dg5sIKeEe_eI6QMFYo8Yfzé", .nonASCII(position: 31)),
        (" dinf_US2dg5sIKeEe_eI6QMFYo8YfzasPPiNNDVr4akFjno6Mc3IXdJa", .whitespace(position: 1)),
        ("dinf_US2dg5sIKeEe_eI6QMFYo8YfzasPPiNNDVr4akFjno6Mc3IXdJa ", .whitespace(position: 57)),
        ("dinf_US2dg5sIKeEe_eI6QMFYo8YfzasPPiNNDVr4akFjno6Mc3IXdJa\n\n", .whitespace(position: 57)),
        ("dinf_US2dg5sIKeEe_eI6QMFYo8YfzasPPiNNDVr4akFjno6Mc3IXdJa\t", .whitespace(position: 57)),
        ("\n", .empty),
        ("dinf_US2dg5sIKeEe_eI6QMFYo8YfzasPPiNNDVr4akFjno6Mczzzzzz", .checksumMismatch),
    ])
    func malformed(_ input: String, _ expected: KeyFormatError) {
        #expect(throws: expected) { try APIKey.parse(input) }
    }

    @Test func errorMessagesNeverEchoTheInput() {
        let secretish = "dinf_US2dg5sIKeEe_eI6QMFYo8YfzasPPiNNDVr4akFjno6Mc3IXdJ1"
        do {
            _ = try APIKey.parse(secretish)
            Issue.record("a wrong checksum was accepted")
        } catch {
            #expect(!error.message.contains("eI6QMFYo8"))
            #expect(error.reason == .malformedKey)
            #expect(error.exitStatus == .notAuthenticated)
        }
    }

    @Test func base62EncodesMostSignificantFirstAndPads() {
        #expect(Base62.encode(0, width: 6) == "000000")
        #expect(Base62.encode(61, width: 6) == "00000z")
        #expect(Base62.encode(62, width: 6) == "000010")
        #expect(Base62.encode(UInt32.max, width: 6) == "4gfFC3")
        #expect(Base62.decodeUInt32(Array("4gfFC3".utf8)) == UInt32.max)
        #expect(Base62.decodeUInt32(Array("4gfFC4".utf8)) == nil)
    }

    @Test func crc32MatchesZlib() {
        // zlib.crc32(b"123456789") == 0xCBF43926, the standard check value.
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(CRC32.checksum([UInt8]()) == 0)
    }

    @Test func keyIDShape() {
        #expect(APIKey.isKeyID("US2dg5sIKeEe"))
        #expect(!APIKey.isKeyID("US2dg5sIKeE"))
        #expect(!APIKey.isKeyID("US2dg5sIKeE_"))
    }
}
