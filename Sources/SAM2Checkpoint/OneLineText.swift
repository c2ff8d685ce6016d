// OneLineText: text read from a file (names, keys, headers) made fit for a one-line error message:
// control and line-separator characters escaped, and the text cut after a number of characters.

extension StringProtocol {
    /// This text with control characters escaped (`\n` → `\u{A}`), cut after `limit` characters ("…").
    package func oneLine(limit: Int = .max) -> String {
        let escaped = unicodeScalars.map { c -> String in
            switch c.properties.generalCategory {
            case .control, .lineSeparator, .paragraphSeparator: c.escaped(asASCII: true)
            default: String(c)
            }
        }.joined()
        return escaped.count > limit ? escaped.prefix(limit) + "…" : escaped
    }
}
