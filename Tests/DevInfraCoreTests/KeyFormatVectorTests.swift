import DevInfraCore
import Foundation
import Testing

/// The vectors in Fixtures/ come from an independent implementation of the key format.
struct KeyFormatVectorTests {
    struct Vectors: Decodable {
        struct Valid: Decodable { let key, key_id, secret, checksum: String }
        struct Invalid: Decodable { let input, why: String }
        struct Trimmed: Decodable { let input, key, why: String }
        let valid: [Valid]
        let invalid: [Invalid]
        let accepted_after_trim: [Trimmed]
    }

    static let vectors: Vectors = {
        let url = Bundle.module.url(forResource: "key-format-vectors", withExtension: "json", subdirectory: "Fixtures")!
        return try! JSONDecoder().decode(Vectors.self, from: Data(contentsOf: url))
    }()

    @Test("every valid vector parses to its key id and secret", arguments: vectors.valid.map(\.key))
    func valid(_ raw: String) throws {
        let vector = Self.vectors.valid.first { $0.key == raw }!
        let key = try APIKey.parse(raw)
        #expect(key.keyID == vector.key_id)
        #expect(key.secret == vector.secret)
        #expect(APIKey.checksum(keyID: key.keyID, secret: key.secret) == vector.checksum)
        #expect(key.rawValue == raw)
        #expect(raw.utf8.count == APIKey.length)
    }

    @Test("every invalid vector is rejected", arguments: vectors.invalid.map(\.input))
    func invalid(_ input: String) {
        #expect(throws: KeyFormatError.self) { try APIKey.parse(input) }
    }

    @Test("a trailing LF or CR LF is trimmed", arguments: vectors.accepted_after_trim.map(\.input))
    func trimmed(_ input: String) throws {
        let vector = Self.vectors.accepted_after_trim.first { $0.input == input }!
        #expect(try APIKey.parse(input).rawValue == vector.key)
    }

    /// The parameterised tests above pass vacuously on an empty list: this pins the fixture's
    /// size (a copy of shared/testdata/key-format-vectors.json) and that no case repeats another.
    @Test func vectorsAreAllThere() {
        #expect(Self.vectors.valid.count == 20)
        #expect(Self.vectors.invalid.count == 13)
        #expect(Self.vectors.accepted_after_trim.count == 2)
        #expect(Set(Self.vectors.valid.map(\.key)).count == 20)
        #expect(Set(Self.vectors.invalid.map(\.input)).count == 13)
        #expect(Set(Self.vectors.invalid.map(\.why)).count == 13, "each invalid vector shows a different fault")
    }
}
