import CredentialStore
import DevInfraCore

/// The bytes of `config.yml` / `credentials.yml`, through what the store does with them: parse
/// (`ProfileDocument`, decoded from UTF-8 as `Posix.read` does), read each profile's `storage`,
/// `api_url` and `api_key` as `CredentialStore` does, then the write path of `login`/`logout`
/// (`set`, `render`) whose output must parse again to the same profiles and fields.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let path = "/fuzz/credentials.yml"
    var document: ProfileDocument
    do {
        document = try ProfileDocument(path: path, text: text)
    } catch {
        precondition(error.reason == .fileCorrupt, "a bad file is reported as corrupt, not as \(error)")
        precondition(error.message.hasPrefix(path), "the message names the file")
        return 0
    }
    let names = document.profileNames
    var fields: [String: [String: String]] = [:]
    for name in names {
        for field in ["storage", "api_url", "api_key", "ca_cert", "other"] {
            let found: (value: String, line: Int?)?
            do { found = try document.field(field, of: name) } catch {
                precondition(error.reason == .fileCorrupt)
                continue
            }
            guard let (value, _) = found else { continue }
            fields[name, default: [:]][field] = value
            switch field {
            case "storage": _ = StorageKind(rawValue: value)
            case "api_url": _ = ServerURL.validate(value)
            case "api_key": _ = try? APIKey.parse(value)
            default: break
            }
        }
    }

    // `login` with file storage: the key goes into the first profile (or a new one), then the file is rewritten.
    let profile = names.first ?? "default"
    let key = APIKey(keyID: "AAAAAAAAAAAA", secret: "aBcDeFgHiJkLmNoPqRsTuVwXyZ012345")
    document.set("api_key", to: key.rawValue, of: profile)
    document.set("storage", to: StorageKind.file.rawValue, of: profile)
    fields[profile, default: [:]]["api_key"] = key.rawValue
    fields[profile, default: [:]]["storage"] = StorageKind.file.rawValue
    let rendered: String
    do { rendered = try document.render(header: "# fuzz\n") } catch { return 0 }
    let reread: ProfileDocument
    do { reread = try ProfileDocument(path: path, text: rendered) } catch {
        preconditionFailure("a file the store wrote does not parse again: \(error.message)")
    }
    precondition(Set(reread.profileNames) == Set(names + [profile]), "rewriting keeps every profile, and only those")
    for (name, values) in fields {
        for (field, value) in values {
            let again = try? reread.field(field, of: name)
            precondition(again?.value == value, "rewriting keeps \(field) of profile \(name)")
        }
    }
    precondition((try? reread.field("api_key", of: profile))?.value.utf8.elementsEqual(key.rawValue.utf8) == true)
    return 0
}
