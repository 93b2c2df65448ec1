/// Text from a server, made safe for a terminal: control and invisible formatting characters
/// (escape sequences, bidi overrides) become `?`, so a key name or an error detail cannot move the
/// cursor, retitle the window or reorder what the user reads. The server refuses the same
/// characters in names and reasons (and `openapi.yaml` states them as a pattern).
public enum Printable {
    /// Control characters, and the invisible ones that reorder or hide text.
    public static func isHidden(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F, 0x061C, 0x200B...0x200F, 0x2028...0x202E, 0x2060...0x206F, 0xFEFF: true
        default: false
        }
    }

    public static func escaped(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.map { isHidden($0) ? "?" : $0 }))
    }
}
