/// A trust policy's claim condition: the claim's value exactly, or a glob where `*` matches any run
/// of characters (`refs/tags/v*`). No other character is special, so a value holding `?`, `[` or `.`
/// is matched literally.
///
/// Matching is on UTF-8 bytes (no Unicode normalisation: `é` written two ways is two values) and
/// takes time linear in the pattern and the value, however many stars: the literal runs between
/// stars are found left to right, each at its first occurrence (which is always the best choice
/// when `*` is the only wildcard), with a KMP search, so nothing is ever retried.
enum ClaimPattern {
    static func matches(_ pattern: String, _ value: String) -> Bool {
        let star = UInt8(ascii: "*")
        guard pattern.utf8.contains(star) else { return pattern.utf8.elementsEqual(value.utf8) }
        let text = Array(value.utf8)
        let runs = Array(pattern.utf8).split(separator: star, omittingEmptySubsequences: false)
        // At least two runs, since the pattern holds a star: the first is a prefix, the last a suffix.
        guard let first = runs.first, let last = runs.last, text.count >= first.count + last.count,
              text.starts(with: first), text.suffix(last.count).elementsEqual(last) else { return false }
        var start = first.count
        let end = text.count - last.count
        for run in runs.dropFirst().dropLast() where !run.isEmpty {
            guard let found = firstIndex(of: Array(run), in: text, from: start, to: end) else { return false }
            start = found + run.count
        }
        return true
    }

    /// Where `needle` first occurs wholly within `text[from..<to]` (Knuth-Morris-Pratt: one pass,
    /// never stepping back in `text`).
    static func firstIndex(of needle: [UInt8], in text: [UInt8], from: Int, to: Int) -> Int? {
        guard !needle.isEmpty else { return from }
        guard to - from >= needle.count else { return nil }
        // failure[i]: the length of the longest proper prefix of needle[0...i] that is also its suffix.
        var failure = [Int](repeating: 0, count: needle.count)
        var length = 0
        for i in 1..<needle.count {
            while length > 0 && needle[i] != needle[length] { length = failure[length - 1] }
            if needle[i] == needle[length] { length += 1 }
            failure[i] = length
        }
        var matched = 0
        for i in from..<to {
            while matched > 0 && text[i] != needle[matched] { matched = failure[matched - 1] }
            if text[i] == needle[matched] { matched += 1 }
            if matched == needle.count { return i - needle.count + 1 }
        }
        return nil
    }
}
