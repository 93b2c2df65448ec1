/// The RFC 6750 `WWW-Authenticate` header of a refusal, as dev-infra-server and the `DevInfraAuth`
/// middleware both send it: one text, so a service behind the middleware answers exactly as the
/// server does.
public enum BearerChallenge {
    /// nil for statuses other than 401 and 403. `bare`: no credential was sent (RFC 6750 §3.1).
    public static func header(status: Int, code: String, scope: String?, bare: Bool) -> String? {
        switch status {
        case 401:
            bare ? "Bearer realm=\"dev-infra\"" : "Bearer realm=\"dev-infra\", error=\"invalid_token\", error_description=\"\(code)\""
        case 403:
            "Bearer realm=\"dev-infra\", error=\"insufficient_scope\"" + (scope.map { ", scope=\"\($0)\"" } ?? "")
                + ", error_description=\"\(code)\""
        default:
            nil
        }
    }
}
