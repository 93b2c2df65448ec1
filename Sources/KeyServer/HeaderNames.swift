import HTTPTypes

extension HTTPField.Name {
    /// For clients that cannot set `Authorization`.
    static let xAPIKey = HTTPField.Name("X-API-Key")!
    /// Makes a key-creating POST safe to retry.
    static let idempotencyKey = HTTPField.Name("Idempotency-Key")!
    /// Set on the answer to a retried create: nothing new was minted.
    static let idempotentReplay = HTTPField.Name("Idempotent-Replay")!
}
