import Yams

/// A YAML file shaped `profiles: { NAME: { FIELD: text } }`: both `config.yml` and
/// `credentials.yml`. Unknown fields are kept on rewrite, so a newer version's settings survive an
/// older binary's `login`.
///
/// Public so the fuzz targets (Fuzz/) can feed it file contents without touching the disk.
public struct ProfileDocument {
    public let path: String
    private var profiles: [(name: String, fields: Node.Mapping)]

    /// Parses `text`; a problem is reported with the file's path and line and nothing else of it,
    /// because the text may hold keys.
    public init(path: String, text: String) throws(CredentialStoreError) {
        self.path = path
        self.profiles = []
        if let (line, column) = Self.possibleAlias(in: text) {
            throw .fileCorrupt(path: path, line: line, column: column,
                               problem: "\"*\" here may start a YAML alias, and dev-infra files may not use aliases; write the value out in full")
        }
        let root: Node?
        do {
            // The basic resolver tags every scalar as text: no regular expressions (and so no ICU)
            // on the `token` path, and no `yes` turning into a boolean.
            root = try Yams.compose(yaml: text, .basic)
        } catch let error as YamlError {
            throw Self.corrupt(path, error)
        } catch {
            throw .fileCorrupt(path: path, line: nil, column: nil, problem: "not valid YAML")
        }
        guard let root else { return }
        guard let top = root.mapping else {
            throw .fileCorrupt(path: path, line: root.mark?.line, column: root.mark?.column,
                               problem: "expected a mapping with a \"profiles\" key at the top level")
        }
        guard let profilesNode = top["profiles"] else { return }
        if let scalar = profilesNode.scalar, scalar.string.isEmpty || scalar.string == "~" || scalar.string == "null" { return }
        guard let profilesMap = profilesNode.mapping else {
            throw .fileCorrupt(path: path, line: profilesNode.mark?.line, column: profilesNode.mark?.column,
                               problem: "\"profiles\" must be a mapping of profile names")
        }
        for (key, value) in profilesMap {
            guard let name = key.string, key.scalar != nil else {
                throw .fileCorrupt(path: path, line: key.mark?.line, column: key.mark?.column, problem: "a profile name must be text")
            }
            guard let fields = value.mapping else {
                throw .fileCorrupt(path: path, line: value.mark?.line, column: value.mark?.column,
                                   problem: "profile \"\(name)\" must be a mapping of settings")
            }
            profiles.append((name, fields))
        }
    }

    public var profileNames: [String] { profiles.map(\.name) }

    /// A scalar field of a profile, with its line for error messages.
    public func field(_ field: String, of profile: String) throws(CredentialStoreError) -> (value: String, line: Int?)? {
        guard let fields = profiles.first(where: { $0.name == profile })?.fields,
              let node = fields[field] else { return nil }
        guard let scalar = node.scalar else {
            throw .fileCorrupt(path: path, line: node.mark?.line, column: node.mark?.column,
                               problem: "\"\(field)\" of profile \"\(profile)\" must be text")
        }
        return (scalar.string, node.mark?.line)
    }

    public mutating func set(_ field: String, to value: String?, of profile: String) {
        let index = profiles.firstIndex { $0.name == profile } ?? {
            profiles.append((profile, Node.Mapping([])))
            return profiles.count - 1
        }()
        var pairs = profiles[index].fields.filter { $0.key.string != field }.map { ($0.key, $0.value) }
        if let value { pairs.append((Node(field), Node(value, .implicit, .plain))) }
        profiles[index].fields = Node.Mapping(pairs)
        if pairs.isEmpty { profiles.remove(at: index) }
    }

    mutating func removeProfile(_ name: String) {
        profiles.removeAll { $0.name == name }
    }

    /// The file's new text, `header` first as YAML comments.
    public func render(header: String) throws(CredentialStoreError) -> String {
        let body = Node.Mapping(profiles.map { (Node($0.name), Node.mapping($0.fields)) })
        let root = Node.mapping(Node.Mapping([(Node("profiles"), Node.mapping(body))]))
        let text: String
        do {
            text = header + (try Yams.serialize(node: root))
        } catch {
            throw .fileWriteFailed(path: path, detail: "could not render YAML")
        }
        // Never write what `init` would refuse (an escaped value such as "a\x20*b" is written as "a *b").
        if let (line, _) = Self.possibleAlias(in: text) {
            throw .fileWriteFailed(path: path, detail: "line \(line) would read back as a YAML alias (a \"*\" after a blank)")
        }
        return text
    }

    /// Where (1-based line and column, as Yams counts them) a YAML alias (`*name`) may start, if anywhere.
    ///
    /// Yams expands every alias into a copy of its anchor's node, and then hashes mapping keys to
    /// find duplicates and writes the copies out on `render`: anchors nested a few levels deep make
    /// that work exponential, so a 600-byte file would hang every command ("billion laughs", found by
    /// Fuzz/FuzzCredentialFiles). dev-infra never writes aliases, so they are refused before Yams
    /// sees the text. The scan must miss no alias, so it errs towards refusing: it flags every `*` at
    /// the start of a line or after a blank, BOM or one of `[{,:` (the only places libyaml starts
    /// an alias token), even inside a quoted value. It skips only a comment (`#` at the start of a
    /// line or after a blank) on a line that has no quote character at all: on such a line that `#`
    /// starts a real comment, or lies inside a block or multi-line quoted scalar that goes on past
    /// the line, and either way no alias can follow it on the line.
    static func possibleAlias(in text: String) -> (line: Int, column: Int)? {
        var line: [Unicode.Scalar] = []
        var lineNumber = 1
        var pendingCR = false

        func check(_ scalars: [Unicode.Scalar]) -> Int? {
            var end = scalars.count
            if !scalars.contains(where: { $0 == "\"" || $0 == "'" }),
               let hash = scalars.indices.first(where: { scalars[$0] == "#" && ($0 == 0 || scalars[$0 - 1] == " " || scalars[$0 - 1] == "\t") }) {
                end = hash
            }
            for index in 0..<end where scalars[index] == "*" {
                if index == 0 { return index }
                switch scalars[index - 1] {
                case " ", "\t", "\u{FEFF}", "[", "{", ",", ":": return index
                default: continue
                }
            }
            return nil
        }

        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n" where pendingCR:
                pendingCR = false  // the LF of a CR LF: the line was checked at the CR
            case "\r", "\n", "\u{85}", "\u{2028}", "\u{2029}", "\0":  // libyaml's breaks; NUL ends its input
                if let index = check(line) { return (lineNumber, index + 1) }
                line.removeAll(keepingCapacity: true)
                lineNumber += 1
                pendingCR = scalar == "\r"
            default:
                pendingCR = false
                line.append(scalar)
            }
        }
        return check(line).map { (lineNumber, $0 + 1) }
    }

    private static func corrupt(_ path: String, _ error: YamlError) -> CredentialStoreError {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _),
             .composer(_, let problem, let mark, _):
            return .fileCorrupt(path: path, line: mark.line, column: mark.column, problem: "not valid YAML: \(problem)")
        case .reader(let problem, _, _, _):
            return .fileCorrupt(path: path, line: nil, column: nil, problem: "not readable as YAML: \(problem)")
        case .duplicatedKeysInMapping(let duplicates, _):
            return .fileCorrupt(path: path, line: nil, column: nil,
                                problem: "duplicate keys: \(duplicates.joined(separator: ", "))")
        default:
            return .fileCorrupt(path: path, line: nil, column: nil, problem: "not valid YAML")
        }
    }
}
