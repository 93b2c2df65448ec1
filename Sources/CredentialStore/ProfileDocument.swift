import Yams

/// A YAML file shaped `profiles: { NAME: { FIELD: text } }`: both `config.yml` and
/// `credentials.yml`. Unknown fields are kept on rewrite, so a newer version's settings survive an
/// older binary's `login`.
struct ProfileDocument {
    let path: String
    private var profiles: [(name: String, fields: Node.Mapping)]

    /// Parses `text`; a problem is reported with the file's path and line and nothing else of it,
    /// because the text may hold keys.
    init(path: String, text: String) throws(CredentialStoreError) {
        self.path = path
        self.profiles = []
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

    var profileNames: [String] { profiles.map(\.name) }

    /// A scalar field of a profile, with its line for error messages.
    func field(_ field: String, of profile: String) throws(CredentialStoreError) -> (value: String, line: Int?)? {
        guard let fields = profiles.first(where: { $0.name == profile })?.fields,
              let node = fields[field] else { return nil }
        guard let scalar = node.scalar else {
            throw .fileCorrupt(path: path, line: node.mark?.line, column: node.mark?.column,
                               problem: "\"\(field)\" of profile \"\(profile)\" must be text")
        }
        return (scalar.string, node.mark?.line)
    }

    mutating func set(_ field: String, to value: String?, of profile: String) {
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
    func render(header: String) throws(CredentialStoreError) -> String {
        let body = Node.Mapping(profiles.map { (Node($0.name), Node.mapping($0.fields)) })
        let root = Node.mapping(Node.Mapping([(Node("profiles"), Node.mapping(body))]))
        do {
            return header + (try Yams.serialize(node: root))
        } catch {
            throw .fileWriteFailed(path: path, detail: "could not render YAML")
        }
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
